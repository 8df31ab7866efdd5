"""
Issue 15, finding 11, in the back office: the employer's names and particulars, positions, template
texts, the seal authoriser and the reasons reach the contract PDF, so the admin forms refuse the
characters ``shanqian.text`` forbids (bidi controls everywhere; zero-width characters and the BOM in
names too), with a form error and nothing written.
"""

import datetime

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts.models import Company, Contract, Placement, SealAuthorisation, WorkPosition
from tests.factories import CompanyFactory, ContractFactory, pdf_bytes
from tests.support.templates import anchored_template

pytestmark = pytest.mark.django_db

REFUSED = "包含无效字符"
BIDI = {"rlo": "\u202e", "lri": "\u2066"}
IN_NAMES = {**BIDI, "zwsp": "\u200b", "bom": "\ufeff"}
TODAY = datetime.date.today()


def hostile(value: str, char: str) -> str:
    return value[:1] + char + value[1:]


def company_form(**overrides):
    return {
        "company_name": "新单位有限公司",
        "credit_code": "",
        "company_address": "北京市东城区东华门街道 1 号",
        "legal_representative": "李法人",
        "status": 1,
        "sort": 0,
        "positions-TOTAL_FORMS": 1,
        "positions-INITIAL_FORMS": 0,
        "positions-MIN_NUM_FORMS": 0,
        "positions-MAX_NUM_FORMS": 1000,
        "positions-0-name": "司机",
        "positions-0-status": 1,
        "positions-0-sort": 1,
        **overrides,
    }


def assert_refused(response):
    assert response.status_code == 200, response.status_code
    assert REFUSED in response.content.decode()


def test_the_valid_company_form_saves(staff_client):
    # The baseline of the refusals below: the same form without the character is accepted.
    assert staff_client.post("/admin/contracts/company/add/", company_form()).status_code == 302
    assert Company.objects.filter(company_name="新单位有限公司").exists()


@pytest.mark.parametrize("field", ["company_name", "legal_representative", "positions-0-name"])
@pytest.mark.parametrize("char", IN_NAMES.values(), ids=IN_NAMES.keys())
def test_company_names_refuse_bidi_and_zero_width_characters(staff_client, field, char):
    before = (Company.objects.count(), WorkPosition.objects.count())
    form = company_form()
    form[field] = hostile(form[field], char)

    assert_refused(staff_client.post("/admin/contracts/company/add/", form))

    assert (Company.objects.count(), WorkPosition.objects.count()) == before


@pytest.mark.parametrize("char", BIDI.values(), ids=BIDI.keys())
def test_the_company_address_refuses_bidi_controls_on_change_too(staff_client, char):
    company = CompanyFactory(company_name="旧单位有限公司", company_address="旧地址 1 号")
    url = f"/admin/contracts/company/{company.pk}/change/"
    form = company_form(company_name="旧单位有限公司", company_address=hostile("新地址 2 号", char))
    form.update({"positions-TOTAL_FORMS": 0})

    assert_refused(staff_client.post(url, form))

    company.refresh_from_db()
    assert company.company_address == "旧地址 1 号"


@pytest.mark.parametrize("char", IN_NAMES.values(), ids=IN_NAMES.keys())
def test_a_position_name_refuses_the_character(staff_client, char):
    company = CompanyFactory()
    before = WorkPosition.objects.count()

    response = staff_client.post(
        "/admin/contracts/workposition/add/",
        {"company": company.pk, "name": hostile("调度员", char), "status": 1, "sort": 0},
    )

    assert_refused(response)
    assert WorkPosition.objects.count() == before


@pytest.mark.parametrize("field", ["contract_name", "contract_body"])
@pytest.mark.parametrize("char", BIDI.values(), ids=BIDI.keys())
def test_template_texts_refuse_bidi_controls(staff_client, field, char):
    company = CompanyFactory(company_name="甲公司")
    data = {"contract_name": "劳动合同（标准版）", "contract_body": "甲公司", "company": company.pk, "sign_year": 3}
    data[field] = hostile(data[field], char)
    data.update(status=1, file=SimpleUploadedFile("合同.pdf", pdf_bytes("劳动合同"), content_type="application/pdf"))

    assert_refused(staff_client.post("/admin/contracts/contract/add/", data))

    assert not Contract.objects.exists()


@pytest.mark.parametrize("char", IN_NAMES.values(), ids=IN_NAMES.keys())
def test_the_seal_authoriser_refuses_the_character(staff_client, char):
    company = CompanyFactory(company_name="新单位有限公司", sealed=False)
    letter = SimpleUploadedFile("授权书.pdf", pdf_bytes("印章授权书"), content_type="application/pdf")

    response = staff_client.post(
        "/admin/contracts/sealauthorisation/add/",
        {
            "company": company.pk,
            "authoriser": hostile("李法人", char),
            "valid_from_0": TODAY.isoformat(),
            "valid_from_1": "00:00:00",
            "valid_until_0": (TODAY + datetime.timedelta(days=365)).isoformat(),
            "valid_until_1": "00:00:00",
            "letter": letter,
        },
    )

    assert_refused(response)
    assert not SealAuthorisation.objects.filter(company=company).exists()


@pytest.mark.parametrize("char", BIDI.values(), ids=BIDI.keys())
def test_a_revocation_reason_refuses_bidi_controls(staff_client, char):
    authorisation = CompanyFactory().seal_authorisations.get()

    response = staff_client.post(
        f"/admin/contracts/sealauthorisation/{authorisation.pk}/review/revoke/",
        {"reason": hostile("法定代表人变更", char)},
        follow=True,
    )

    assert REFUSED in response.content.decode()
    authorisation.refresh_from_db()
    assert authorisation.revoked_at is None and authorisation.revoke_reason == ""


@pytest.mark.parametrize("char", BIDI.values(), ids=BIDI.keys())
def test_a_placement_keyword_refuses_bidi_controls(staff_client, char):
    contract = ContractFactory(
        company=CompanyFactory(), file=SimpleUploadedFile("t.pdf", anchored_template(["甲方代表签字："])), placed=False
    )

    response = staff_client.post(
        f"/admin/contracts/contract/{contract.pk}/placements/",
        {
            "placements": "[]",
            "_keyword": "1",
            "kw_key": "legal_representative",
            "kw_text": hostile("甲方代表签字", char),
            "kw_dx": "20",
            "kw_dy": "0",
            "kw_width": "120",
            "kw_height": "18",
        },
        follow=True,
    )

    assert REFUSED in response.content.decode()
    assert not Placement.objects.filter(contract=contract).exists()
