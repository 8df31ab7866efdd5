"""
Demo data for ``manage.py seed_demo`` (SPEC §2): the ``demo`` platform, three employers
with their particulars, a generated round seal and a seal authorisation in force (SPEC §9),
positions and a contract template each (a real multi-page PDF), two handlers in
the 人事专员 group and the superuser ``admin``, and the platform's personal-information rules
(the default texts of both consent scopes, published: SPEC §13's consent screen has something
to show, and the gated endpoints can be reached once the person agrees).

``demo_seed`` is idempotent: rows are found by their natural keys (platform code,
company name, position name, contract name, username) and only missing ones are
created, so a re-run adds nothing. Passwords are set when an account is created, or
on every run with ``reset_passwords=True``.
"""

import datetime
import logging
from dataclasses import dataclass, field

from django.contrib.auth import get_user_model
from django.db import transaction
from django.utils import timezone

from contracts.models import Company, CompanySeal, Contract, EnabledStatus, WorkPosition
from contracts.services import (
    company_seal_generate,
    contract_save_file,
    seal_authorisation_create,
    seal_authorisation_in_force,
)
from employees.consent import policy_ensure_defaults
from shanqian.models import Platform
from shanqian.roles import ensure_handler_group
from signing.pki.company import company_certificate_issue
from signing.pki.credentials import CompanyCertificateMissing, company_certificate_current
from signing.pki.hierarchy import PkiNotInitialised

from .contract_pdf import labour_contract_pdf

DEMO_PLATFORM_CODE = "demo"
DEMO_PLATFORM_NAME = "演示小程序"
DEMO_ADMIN_USERNAME = "admin"

DEMO_COMPANIES = [
    {
        "company_name": "闪签云演示科技有限公司",
        "particulars": {
            "credit_code": "91110108MA01DEM011",
            "company_address": "北京市海淀区中关村大街 1 号",
            "legal_representative": "张明",
        },
        "positions": ["软件工程师", "测试工程师", "产品经理"],
        "contract": {
            "contract_name": "劳动合同（固定期限）",
            "sign_year": 3,
            "city": "北京市海淀区",
            "placement": "acroform",
        },
    },
    {
        "company_name": "华东示范制造有限公司",
        "particulars": {
            "credit_code": "91320505MA1DEM0027",
            "company_address": "江苏省苏州市高新区科技城 8 号",
            "legal_representative": "陈华",
        },
        "positions": ["装配工", "质检员", "仓库管理员"],
        "contract": {"contract_name": "劳动合同（生产岗位）", "sign_year": 2, "city": "江苏省苏州市"},
    },
    {
        "company_name": "南方示范物流有限公司",
        "particulars": {
            "credit_code": "91441900MA5DEM003T",
            "company_address": "广东省东莞市松山湖大道 6 号",
            "legal_representative": "林南",
        },
        "positions": ["快递员", "分拣员"],
        "contract": {"contract_name": "劳动合同（物流岗位）", "sign_year": 1, "city": "广东省东莞市"},
    },
]

DEMO_HANDLERS = [
    {"username": "hr1", "name": "王芳", "phone": "13800000001", "email": "hr1@example.com"},
    {"username": "hr2", "name": "李强", "phone": "13800000002", "email": "hr2@example.com"},
]


@dataclass
class DemoSummary:
    created: list[str] = field(default_factory=list)

    def add(self, what: str) -> None:
        self.created.append(what)


logger = logging.getLogger(__name__)


def _company_certificate(company, summary: DemoSummary) -> None:
    """A company certificate under the local PKI (``pki_init`` first), so the demo companies can seal."""
    try:
        company_certificate_current(company)
    except CompanyCertificateMissing:
        try:
            record = company_certificate_issue(company=company)
        except PkiNotInitialised:
            logger.warning("seed_demo: no company certificates (run manage.py pki_init first)")
            return
        summary.add(f"单位证书 {company.company_name}（{record.serial}）")


@transaction.atomic
def demo_seed(*, password: str, reset_passwords: bool = False) -> DemoSummary:
    summary = DemoSummary()
    platform, created = Platform.objects.get_or_create(
        code=DEMO_PLATFORM_CODE, defaults={"name": DEMO_PLATFORM_NAME, "enabled": True}
    )
    if created:
        summary.add(f"平台 {DEMO_PLATFORM_CODE}")
    for policy in policy_ensure_defaults(platform=platform):
        summary.add(f"个人信息处理规则 {policy.get_scope_display()} v{policy.version}")

    for sort, spec in enumerate(DEMO_COMPANIES, start=1):
        company, created = Company.objects.get_or_create(
            company_name=spec["company_name"], defaults={"sort": sort, "status": EnabledStatus.ENABLED}
        )
        if created:
            summary.add(f"用人单位 {company.company_name}")
        missing = {name: value for name, value in spec["particulars"].items() if not getattr(company, name)}
        if missing:
            Company.objects.filter(pk=company.pk).update(**missing)
            for name, value in missing.items():
                setattr(company, name, value)
        if not CompanySeal.objects.filter(company=company).exists():
            company_seal_generate(company=company)
            summary.add(f"电子印章 {company.company_name}")
        if seal_authorisation_in_force(company_id=company.pk) is None:
            now = timezone.now()
            seal_authorisation_create(
                company=company,
                authoriser=company.legal_representative,
                valid_from=now - datetime.timedelta(minutes=1),
                valid_until=now + datetime.timedelta(days=3 * 365),
            )
            summary.add(f"印章授权 {company.company_name}")
        for position_sort, name in enumerate(spec["positions"], start=1):
            _, created = WorkPosition.objects.get_or_create(
                company=company, name=name, defaults={"sort": position_sort}
            )
            if created:
                summary.add(f"岗位 {name}")
        contract_spec = spec["contract"]
        if not Contract.objects.filter(company=company, contract_name=contract_spec["contract_name"]).exists():
            contract = Contract(
                contract_name=contract_spec["contract_name"],
                contract_body=company.company_name,
                company=company,
                sign_year=contract_spec["sign_year"],
                status=EnabledStatus.ENABLED,
            )
            pdf = labour_contract_pdf(
                company_name=company.company_name,
                contract_name=contract_spec["contract_name"],
                years=contract_spec["sign_year"],
                city=contract_spec["city"],
                placement=contract_spec.get("placement", "anchors"),
            )
            contract_save_file(contract=contract, file=pdf, name="demo-contract.pdf")
            summary.add(f"合同模板 {contract.contract_name}")
        _company_certificate(company, summary)

    group = ensure_handler_group()
    for spec in DEMO_HANDLERS:
        user = _account(spec, password=password, reset_password=reset_passwords, summary=summary)
        user.groups.add(group)
    _account(
        {"username": DEMO_ADMIN_USERNAME, "name": "系统管理员", "email": "admin@example.com"},
        password=password,
        reset_password=reset_passwords,
        summary=summary,
        superuser=True,
    )
    return summary


def _account(spec: dict, *, password: str, reset_password: bool, summary: DemoSummary, superuser: bool = False):
    User = get_user_model()
    fields = {key: value for key, value in spec.items() if key != "username"}
    user, created = User.objects.get_or_create(
        username=spec["username"], defaults={**fields, "is_staff": True, "is_superuser": superuser}
    )
    flags_changed = not (user.is_staff and user.is_active and (user.is_superuser or not superuser))
    if flags_changed:
        user.is_staff = user.is_active = True
        user.is_superuser = user.is_superuser or superuser
    if created or reset_password:
        user.set_password(password)
    if created or reset_password or flags_changed:
        user.save()
    if created:
        summary.add(f"账号 {user.username}")
    return user
