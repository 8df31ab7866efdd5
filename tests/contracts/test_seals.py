"""
The employer's particulars (统一社会信用代码, GB 32100), company seals and seal authorisations (SPEC §9):
the credit-code check and its pilot override, the generated round red seal, the upload check, the
authorisation's validity, the admin with its permissions, and approval refused without them.
"""

import datetime
import io

import pytest
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from PIL import Image

from contracts.credit_code import check_character, credit_code_problem
from contracts.models import Company, CompanySeal, SealAuthorisation
from contracts.seals import SEAL_RED, round_seal_png, seal_image_clean
from contracts.services import (
    company_ready_for_contracts,
    company_seal_generate,
    seal_authorisation_create,
    seal_authorisation_in_force,
    seal_authorisation_revoke,
)
from shanqian.errors import InvalidInput
from signing.models import SignStatus
from signing.services import applications as services
from tests.factories import (
    TODAY,
    AdminUserFactory,
    CompanyFactory,
    ContractFactory,
    HandlerFactory,
    SealAuthorisationFactory,
    make_application,
    pdf_bytes,
    png_bytes,
)
from tests.support.admin import client_for

pytestmark = pytest.mark.django_db

NOW = timezone.now


# --- 统一社会信用代码 -------------------------------------------------------------------------------------


@pytest.mark.parametrize("code", ["914403001922038216", "91110000802100433B", "91110000100000000R"])
def test_real_credit_codes_pass_the_gb_32100_check(code):
    assert credit_code_problem(code) == ("", "")
    assert check_character(code[:17]) == code[17]


@pytest.mark.parametrize(
    ("code", "kind", "message"),
    [
        ("91350100M0001TGQXM", "check", "校验位不符"),  # an early Xiamen pilot code (PROTOCOLS.md)
        ("914403001922038217", "check", "应为 6"),
        ("9144030019220382", "shape", "应为 18 位"),
        ("91440300192203821I", "shape", "不允许的字符：I"),
        ("9144A30019220382X6", "shape", "行政区划代码"),
    ],
)
def test_bad_credit_codes_say_what_is_wrong(code, kind, message):
    found_kind, found_message = credit_code_problem(code)
    assert found_kind == kind
    assert message in found_message


def company_form(**overrides):
    return {
        "company_name": "厦门试点有限公司",
        "credit_code": "91350100M0001TGQXM",
        "company_address": "福建省厦门市思明区鹭江道 1 号",
        "legal_representative": "陈试点",
        "status": 1,
        "sort": 0,
        "positions-TOTAL_FORMS": 0,
        "positions-INITIAL_FORMS": 0,
        "positions-MIN_NUM_FORMS": 0,
        "positions-MAX_NUM_FORMS": 1000,
        **overrides,
    }


def test_a_pilot_code_is_refused_until_staff_choose_the_explicit_override(staff_client):
    refused = staff_client.post("/admin/contracts/company/add/", company_form())

    assert refused.status_code == 200
    page = refused.content.decode()
    assert "校验位不符" in page and "保存（校验位不符）" in page
    assert not Company.objects.exists()

    saved = staff_client.post("/admin/contracts/company/add/", company_form(override_check="on"))

    assert saved.status_code == 302, saved.content.decode()[-2000:]
    company = Company.objects.get()
    assert (company.credit_code, company.credit_code_unchecked) == ("91350100M0001TGQXM", True)


def test_a_malformed_code_is_refused_even_with_the_override(staff_client):
    response = staff_client.post(
        "/admin/contracts/company/add/", company_form(credit_code="91350100M0001TGQ", override_check="on")
    )

    assert response.status_code == 200
    assert "应为 18 位" in response.content.decode()
    assert not Company.objects.exists()


def test_a_valid_code_is_normalised_and_not_marked(staff_client):
    response = staff_client.post("/admin/contracts/company/add/", company_form(credit_code=" 9144 0300 1922 0382 16 "))

    assert response.status_code == 302
    company = Company.objects.get()
    assert (company.credit_code, company.credit_code_unchecked) == ("914403001922038216", False)


# --- the seal image -------------------------------------------------------------------------------------


def test_the_generated_seal_is_a_transparent_round_red_seal():
    seal = round_seal_png("闪签云演示科技有限公司")
    image = Image.open(io.BytesIO(seal.content))

    assert (image.format, image.mode, image.size) == ("PNG", "RGBA", (600, 600))
    assert image.getpixel((5, 5))[3] == 0  # the corner is transparent
    assert image.getpixel((300, 300))[:3] == SEAL_RED[:3]  # the star's centre
    ring = image.getpixel((300, 20))
    assert ring[3] > 200 and ring[0] > 180 and ring[1] < 80  # the red ring at the top edge
    red = sum(1 for r, g, b, a in image.get_flattened_data() if a > 128 and r > 150 and g < 90)
    assert 0.08 < red / 600**2 < 0.45  # text, ring and star: a seal, not a disc


@pytest.mark.parametrize(
    ("data", "message"),
    [
        (b"%PDF-1.7 not an image", "必须是 PNG"),
        (png_bytes(size=(300, 300), fmt="JPEG"), "必须是 PNG"),
        (png_bytes(size=(300, 300)), "透明背景"),  # an opaque RGB PNG
        (png_bytes(size=(40, 40)), "太小"),
        (png_bytes(size=(300, 300))[:200], "损坏"),
    ],
)
def test_a_seal_upload_that_is_not_a_transparent_png_is_refused(data, message):
    with pytest.raises(InvalidInput) as caught:
        seal_image_clean(data)
    assert message in caught.value.msg


def test_an_uploaded_seal_keeps_only_its_pixels():
    buffer = io.BytesIO()
    image = Image.open(io.BytesIO(round_seal_png("某某有限公司", size=200).content))
    from PIL import PngImagePlugin

    info = PngImagePlugin.PngInfo()
    info.add_text("Comment", "secret metadata")
    image.save(buffer, "PNG", pnginfo=info)

    clean = seal_image_clean(buffer.getvalue())

    assert b"secret metadata" not in clean.content
    assert (clean.width, clean.height) == (200, 200)


# --- authorisations -------------------------------------------------------------------------------------


def test_an_authorisation_is_in_force_from_its_start_until_its_end_or_revocation():
    company = CompanyFactory(sealed=False)
    start = NOW() - datetime.timedelta(hours=1)
    authorisation = seal_authorisation_create(
        company=company, authoriser="王建国", valid_from=start, valid_until=start + datetime.timedelta(days=30)
    )

    assert seal_authorisation_in_force(company_id=company.pk) == authorisation
    assert seal_authorisation_in_force(company_id=company.pk, at=start - datetime.timedelta(seconds=1)) is None
    assert seal_authorisation_in_force(company_id=company.pk, at=start + datetime.timedelta(days=30)) is None
    assert "王建国授权" in authorisation.label

    seal_authorisation_revoke(authorisation=authorisation, staff=None, reason="印章变更")

    assert seal_authorisation_in_force(company_id=company.pk) is None
    authorisation.refresh_from_db()
    assert "撤销" in authorisation.refusal_at(NOW())


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        ({"authoriser": " "}, "authoriser"),
        ({"valid_until": NOW() - datetime.timedelta(days=2)}, "valid_until"),
        ({"valid_from": NOW() + datetime.timedelta(days=400)}, "valid_until"),
        ({"letter": SimpleUploadedFile("letter.pdf", b"not a pdf at all")}, "letter"),
    ],
)
def test_a_bad_authorisation_is_refused_and_nothing_is_saved(kwargs, field):
    company = CompanyFactory(sealed=False)
    arguments = {
        "company": company,
        "authoriser": "王建国",
        "valid_from": NOW() - datetime.timedelta(days=3),
        "valid_until": NOW() + datetime.timedelta(days=300),
        **kwargs,
    }

    with pytest.raises(InvalidInput) as caught:
        seal_authorisation_create(**arguments)

    assert list(caught.value.data["errors"]) == [field]
    assert not SealAuthorisation.objects.exists()


# --- approval needs all of it ------------------------------------------------------------------------------


def approve(application, contract):
    return services.application_approve(
        application=application, staff=application.ad_user, contract=contract, entry_date=TODAY, salary="8000"
    )


@pytest.mark.parametrize(
    ("make_company", "message"),
    [
        (lambda: CompanyFactory(sealed=False), "还没有电子印章"),
        (
            lambda: (
                SealAuthorisationFactory(
                    company=CompanyFactory(sealed=False),
                    valid_from=NOW() - datetime.timedelta(days=60),
                    valid_until=NOW() - datetime.timedelta(days=1),
                ).company
            ),
            "已过期",
        ),
    ],
)
def test_approval_is_refused_without_a_seal_or_with_an_expired_authorisation(make_company, message):
    company = make_company()
    if message == "已过期":
        company_seal_generate(company=company)
    application = make_application(handler=HandlerFactory(), company=company, name="张三")

    with pytest.raises(InvalidInput) as caught:
        approve(application, ContractFactory(company=company))

    assert message in caught.value.data["errors"]["company"][0]
    application.refresh_from_db()
    assert application.status == SignStatus.APPLIED


def test_approval_is_refused_once_the_authorisation_is_revoked_and_the_admin_says_why(handler_client, handler):
    company = CompanyFactory()
    contract = ContractFactory(company=company)
    application = make_application(handler=handler, company=company, name="张三")
    seal_authorisation_revoke(authorisation=company.seal_authorisations.get(), staff=None, reason="停用")

    response = handler_client.post(
        f"/admin/signing/signapplication/{application.pk}/review/approve/",
        {"contract": contract.pk, "entry_date": TODAY.isoformat(), "salary": "8000"},
    )

    assert response.status_code == 200
    assert "没有有效的印章授权" in response.content.decode() and "撤销" in response.content.decode()
    application.refresh_from_db()
    assert application.status == SignStatus.APPLIED
    assert "撤销" in company_ready_for_contracts(company_id=company.pk)


# --- the admin and its permissions ---------------------------------------------------------------------------


def test_staff_generate_a_seal_and_record_an_authorisation_in_the_admin(staff_client):
    company = CompanyFactory(company_name="新单位有限公司", sealed=False)

    generated = staff_client.post("/admin/contracts/companyseal/add/", {"company": company.pk, "generate": "on"})
    letter = SimpleUploadedFile("授权书.pdf", pdf_bytes("印章授权书"), content_type="application/pdf")
    recorded = staff_client.post(
        "/admin/contracts/sealauthorisation/add/",
        {
            "company": company.pk,
            "authoriser": "李法人",
            "valid_from_0": TODAY.isoformat(),
            "valid_from_1": "00:00:00",
            "valid_until_0": (TODAY + datetime.timedelta(days=365)).isoformat(),
            "valid_until_1": "00:00:00",
            "letter": letter,
        },
    )

    assert generated.status_code == 302, generated.content.decode()[-2000:]
    assert recorded.status_code == 302, recorded.content.decode()[-2000:]
    seal = CompanySeal.objects.get(company=company)
    assert seal.source == "generated" and len(seal.sha256) == 64
    authorisation = SealAuthorisation.objects.get(company=company)
    assert authorisation.letter.name.endswith(".pdf") and len(authorisation.letter_sha256) == 64
    assert company_ready_for_contracts(company_id=company.pk) == ""


def test_an_opaque_seal_upload_is_a_form_error_and_nothing_is_saved(staff_client):
    company = CompanyFactory(sealed=False)
    upload = SimpleUploadedFile("seal.png", png_bytes(size=(300, 300)), content_type="image/png")

    response = staff_client.post("/admin/contracts/companyseal/add/", {"company": company.pk, "upload": upload})

    assert response.status_code == 200
    assert "透明背景" in response.content.decode()
    assert not CompanySeal.objects.exists()


def test_an_authorisation_ending_before_it_starts_is_a_form_error(staff_client):
    company = CompanyFactory(sealed=False)

    response = staff_client.post(
        "/admin/contracts/sealauthorisation/add/",
        {
            "company": company.pk,
            "authoriser": "李法人",
            "valid_from_0": TODAY.isoformat(),
            "valid_from_1": "00:00:00",
            "valid_until_0": (TODAY - datetime.timedelta(days=1)).isoformat(),
            "valid_until_1": "00:00:00",
        },
    )

    assert response.status_code == 200
    assert "失效时间须晚于生效时间" in response.content.decode()
    assert not SealAuthorisation.objects.exists()


def test_a_letter_that_is_not_a_pdf_or_image_is_a_form_error_and_nothing_is_saved(staff_client):
    company = CompanyFactory(sealed=False)
    letter = SimpleUploadedFile("授权书.pdf", b"not a pdf at all", content_type="application/pdf")

    response = staff_client.post(
        "/admin/contracts/sealauthorisation/add/",
        {
            "company": company.pk,
            "authoriser": "李法人",
            "valid_from_0": TODAY.isoformat(),
            "valid_from_1": "00:00:00",
            "valid_until_0": (TODAY + datetime.timedelta(days=30)).isoformat(),
            "valid_until_1": "00:00:00",
            "letter": letter,
        },
    )

    assert response.status_code == 200
    assert "授权书须为 PDF、PNG 或 JPEG 文件，且未损坏。" in response.content.decode()
    assert not SealAuthorisation.objects.exists()


def test_a_seal_cannot_be_drawn_for_a_blank_name():
    with pytest.raises(InvalidInput) as caught:
        round_seal_png(" \u3000 ")

    assert caught.value.msg == "用人单位名称为空，无法生成印章。"


def test_a_revocation_reason_over_the_limit_is_refused_and_the_authorisation_stays_in_force():
    authorisation = CompanyFactory().seal_authorisations.get()

    with pytest.raises(InvalidInput) as caught:
        seal_authorisation_revoke(authorisation=authorisation, staff=None, reason="因" * 257)

    assert caught.value.data["errors"] == {"reason": ["撤销原因不能超过 256 个字符。"]}
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None


def test_staff_revoke_an_authorisation_with_a_reason(staff_client):
    authorisation = CompanyFactory().seal_authorisations.get()

    response = staff_client.post(
        f"/admin/contracts/sealauthorisation/{authorisation.pk}/review/revoke/", {"reason": "法定代表人变更"}
    )

    assert response.status_code == 302
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is not None and authorisation.revoke_reason == "法定代表人变更"


def test_handlers_see_seals_and_authorisations_but_change_nothing(handler_client):
    company = CompanyFactory(company_name="可见单位有限公司")
    authorisation = company.seal_authorisations.get()

    assert handler_client.get("/admin/contracts/companyseal/").status_code == 200
    assert handler_client.get("/admin/contracts/sealauthorisation/").status_code == 200
    assert handler_client.get(f"/admin/contracts/sealauthorisation/{authorisation.pk}/change/").status_code == 200
    assert handler_client.get("/admin/contracts/companyseal/add/").status_code == 403
    assert handler_client.get("/admin/contracts/sealauthorisation/add/").status_code == 403
    refused = handler_client.post(
        f"/admin/contracts/sealauthorisation/{authorisation.pk}/review/revoke/", {"reason": "试图撤销"}
    )
    assert refused.status_code == 403
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None


def test_staff_with_the_seal_permissions_manage_seals_without_being_superusers():
    staff = AdminUserFactory(is_staff=True)
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts",
            codename__in=["view_companyseal", "add_companyseal", "change_companyseal"],
        )
    )
    company = CompanyFactory(sealed=False)

    response = client_for(staff).post("/admin/contracts/companyseal/add/", {"company": company.pk, "generate": "on"})

    assert response.status_code == 302
    assert CompanySeal.objects.filter(company=company).exists()


def test_seal_and_authorisation_lists_have_bounded_queries(staff_client, django_assert_max_num_queries):
    for n in range(25):
        CompanyFactory(company_name=f"单位{n:02d}有限公司")

    with django_assert_max_num_queries(12):
        seals = staff_client.get("/admin/contracts/companyseal/")
    with django_assert_max_num_queries(12):
        authorisations = staff_client.get("/admin/contracts/sealauthorisation/")
    with django_assert_max_num_queries(12):
        companies = staff_client.get("/admin/contracts/company/")

    assert seals.status_code == authorisations.status_code == companies.status_code == 200
    assert "单位24有限公司" in authorisations.content.decode()
