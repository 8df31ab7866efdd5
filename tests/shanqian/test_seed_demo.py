"""``manage.py seed_demo`` and the 人事专员 group it relies on."""

import hashlib
import io
from io import StringIO

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.models import Group, Permission
from django.core.management import CommandError, call_command
from django.test import Client
from pypdf import PdfReader

from contracts.models import Company, Contract, EnabledStatus, Placement, WorkPosition
from contracts.services import company_ready_for_contracts, contract_placements_missing
from employees.consent import policies_current
from employees.models import ConsentPolicy
from shanqian.models import Platform
from shanqian.roles import HANDLER_GROUP, HANDLER_PERMISSIONS, ensure_handler_group, handlers_queryset

pytestmark = pytest.mark.django_db
User = get_user_model()


def counts():
    return {
        model.__name__: model.objects.count()
        for model in (Platform, Company, WorkPosition, Contract, User, Group, Permission, ConsentPolicy)
    }


@pytest.fixture
def seeded(settings):
    settings.DEBUG = True
    call_command("seed_demo", stdout=StringIO())


def test_refuses_without_debug_unless_forced(settings):
    settings.DEBUG = False

    with pytest.raises(CommandError, match="--force"):
        call_command("seed_demo", stdout=StringIO())
    assert not Company.objects.exists()

    call_command("seed_demo", "--force", stdout=StringIO())
    assert Company.objects.count() == 3


def test_creates_the_demo_platform_without_a_secret(seeded):
    platform = Platform.objects.get(code="demo")

    assert (platform.name, platform.enabled, platform.wechat_secret) == ("演示小程序", True, "")


def test_three_companies_with_positions_and_one_enabled_template_each(seeded):
    companies = Company.objects.filter(status=EnabledStatus.ENABLED)

    assert companies.count() == 3
    for company in companies:
        assert 2 <= company.positions.filter(status=EnabledStatus.ENABLED).count() <= 3
        assert company.contracts.filter(status=EnabledStatus.ENABLED).count() == 1


def test_demo_contracts_are_real_multi_page_chinese_pdfs(seeded):
    for contract in Contract.objects.select_related("company"):
        with contract.file.open("rb") as stored:
            content = stored.read()
        reader = PdfReader(io.BytesIO(content))
        text = "".join(page.extract_text() for page in reader.pages)

        assert len(reader.pages) >= 2
        assert "劳动合同" in text and contract.contract_name in text
        assert "甲方（盖章）" in text and "乙方（签名）" in text
        assert contract.sha256 == hashlib.sha256(content).hexdigest()
        # Placed by AcroForm fields or by keyword anchors, complete, so enabled (SPEC §9).
        assert contract_placements_missing(contract_id=contract.pk) == []
        assert contract.status == 1
    sources = set(Placement.objects.values_list("source", flat=True))
    assert {"acroform", "anchor"} <= sources
    assert set(Company.objects.values_list("seal__source", flat=True)) == {"generated"}
    for company in Company.objects.all():
        assert company_ready_for_contracts(company_id=company.pk) == ""


def test_the_demo_platform_publishes_both_consent_policies_and_the_flow_can_consent(seeded, user_api):
    platform = Platform.objects.get(code="demo")
    current = policies_current(platform_id=platform.pk)

    assert set(current) == {"privacy_policy", "sensitive_pi"}
    assert all(policy.body_sha256 for policy in current.values())
    assert current["privacy_policy"].body.startswith("演示小程序")
    state = user_api.get("/api/consents").json()["data"]
    assert {(p["scope"], p["version"]) for p in state["policies"]} == {(s, p.version) for s, p in current.items()}


def test_running_twice_creates_nothing_more(seeded):
    before = counts()
    files = sorted(Contract.objects.values_list("file", flat=True))
    output = StringIO()

    call_command("seed_demo", stdout=output)

    assert counts() == before
    assert sorted(Contract.objects.values_list("file", flat=True)) == files
    assert "无需创建" in output.getvalue()


def test_with_the_pki_initialised_every_demo_company_gets_a_certificate_once(db, settings):
    from signing.pki.credentials import company_certificate_current
    from signing.pki.models import CertificateKind, PkiCertificate
    from signing.pki.setup import pki_init

    settings.DEBUG = True
    pki_init(dev_tsa=True)
    call_command("seed_demo", stdout=StringIO())
    call_command("seed_demo", stdout=StringIO())

    companies = list(Company.objects.all())
    assert companies and all(company_certificate_current(company) for company in companies)
    assert PkiCertificate.objects.filter(kind=CertificateKind.COMPANY).count() == len(companies)


def test_admin_and_handlers_can_log_in_with_the_default_password(seeded):
    for username in ("admin", "hr1", "hr2"):
        assert Client().login(username=username, password="shanqian-demo"), username
    admin = User.objects.get(username="admin")
    assert admin.is_superuser and admin.is_staff


def test_handlers_are_in_the_handler_group_and_listed_by_the_api(seeded, user_api):
    assert set(handlers_queryset().values_list("username", flat=True)) == {"hr1", "hr2"}

    names = {row["name"] for row in user_api.get("/api/handlers").json()["data"]}
    assert names == {"王芳", "李强"}


def test_the_password_comes_from_the_environment(settings, monkeypatch):
    settings.DEBUG = True
    monkeypatch.setenv("DEMO_ADMIN_PASSWORD", "another-Secret-42")

    call_command("seed_demo", stdout=StringIO())

    assert Client().login(username="admin", password="another-Secret-42")
    assert not Client().login(username="admin", password="shanqian-demo")


def test_a_rerun_keeps_a_changed_password_unless_asked_to_reset(seeded):
    admin = User.objects.get(username="admin")
    admin.set_password("changed-by-staff-1")
    admin.save()

    call_command("seed_demo", stdout=StringIO())
    assert Client().login(username="admin", password="changed-by-staff-1")

    call_command("seed_demo", "--reset-passwords", stdout=StringIO())
    assert Client().login(username="admin", password="shanqian-demo")


def test_the_demo_shows_up_in_the_pickers(seeded, user_api):
    companies = user_api.get("/api/companies").json()["data"]
    positions = user_api.get(f"/api/work_pos?company_id={companies[0]['id']}").json()["data"]

    assert companies[0]["company_name"] == "闪签云演示科技有限公司"
    assert positions == ["软件工程师", "测试工程师", "产品经理"]


# --- ensure_handler_group ---------------------------------------------------------------------


def test_handler_group_has_the_handler_permissions():
    group = ensure_handler_group()

    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert group.name == HANDLER_GROUP
    assert granted == set(HANDLER_PERMISSIONS)
    assert "signing.change_signapplication" in granted
    assert "signing.delete_signapplication" not in granted


def test_handler_group_is_idempotent_and_keeps_extra_permissions():
    group = ensure_handler_group()
    extra = Permission.objects.get(content_type__app_label="contracts", codename="change_company")
    group.permissions.add(extra)

    again = ensure_handler_group()

    assert again.pk == group.pk
    assert Group.objects.filter(name=HANDLER_GROUP).count() == 1
    assert again.permissions.count() == len(HANDLER_PERMISSIONS) + 1


def test_a_handler_can_open_the_admin_and_see_what_the_group_allows(seeded, settings):
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(User.objects.get(username="hr1"))

    assert client.get("/admin/contracts/company/").status_code == 200
    assert client.get("/admin/contracts/company/add/").status_code == 403
