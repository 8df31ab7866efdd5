"""The back office for employers, positions and contract templates."""

import hashlib
import io

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile

from contracts.models import Company, Contract, WorkPosition
from contracts.services import contract_save_file
from tests.factories import CompanyFactory, WorkPositionFactory, pdf_bytes, png_bytes
from tests.support.admin import search_query

pytestmark = pytest.mark.django_db


def contract_form(company, file=None, **overrides):
    data = {
        "contract_name": "劳动合同（标准版）",
        "contract_body": "甲公司",
        "company": company.pk,
        "sign_year": 3,
        "status": 1,
        **overrides,
    }
    if file is not None:
        data["file"] = file
    return data


def test_uploading_a_contract_records_its_sha256(staff_client):
    company = CompanyFactory(company_name="甲公司")
    content = pdf_bytes("劳动合同", pages=2)

    response = staff_client.post(
        "/admin/contracts/contract/add/",
        contract_form(company, SimpleUploadedFile("标准合同.pdf", content, content_type="application/pdf")),
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    contract = Contract.objects.get()
    assert contract.sha256 == hashlib.sha256(content).hexdigest()
    with contract.file.open("rb") as stored:
        assert hashlib.sha256(stored.read()).hexdigest() == contract.sha256


def test_a_non_pdf_upload_is_refused_with_a_form_error(staff_client):
    company = CompanyFactory(company_name="甲公司")

    response = staff_client.post(
        "/admin/contracts/contract/add/",
        contract_form(company, SimpleUploadedFile("假合同.pdf", png_bytes(), content_type="application/pdf")),
    )

    assert response.status_code == 200
    assert "合同文件必须是 PDF" in response.content.decode()
    assert not Contract.objects.exists()


def helvetica_pdf() -> bytes:
    """A readable PDF whose text uses Helvetica without embedding it."""
    from reportlab.pdfgen import canvas

    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, invariant=1)
    pdf.setFont("Helvetica", 16)
    pdf.drawString(72, 760, "Labour contract")
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def test_a_template_with_fonts_not_embedded_is_refused_with_a_form_error(staff_client):
    company = CompanyFactory(company_name="甲公司")

    response = staff_client.post(
        "/admin/contracts/contract/add/",
        contract_form(company, SimpleUploadedFile("合同.pdf", helvetica_pdf(), content_type="application/pdf")),
    )

    assert response.status_code == 200
    assert "合同文件使用了未嵌入的字体（Helvetica）" in response.content.decode()
    assert not Contract.objects.exists()


def test_editing_without_a_new_file_keeps_file_and_digest(staff_client):
    contract = contract_save_file(
        contract=Contract(contract_name="旧名", contract_body="甲公司", company=CompanyFactory(), sign_year=1),
        file=pdf_bytes(),
    )
    before = (contract.file.name, contract.sha256)

    response = staff_client.post(
        f"/admin/contracts/contract/{contract.pk}/change/",
        contract_form(contract.company, contract_name="新名", status=0),  # no placements: cannot be enabled
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    contract.refresh_from_db()
    assert contract.contract_name == "新名"
    assert (contract.file.name, contract.sha256) == before


def test_the_sha256_is_read_only_in_the_form(staff_client):
    contract = contract_save_file(
        contract=Contract(contract_name="合同", contract_body="甲公司", company=CompanyFactory(), sign_year=1),
        file=pdf_bytes(),
    )

    page = staff_client.get(f"/admin/contracts/contract/{contract.pk}/change/").content.decode()

    assert contract.sha256 in page
    assert 'name="sha256"' not in page


def test_company_admin_saves_positions_inline(staff_client):
    response = staff_client.post(
        "/admin/contracts/company/add/",
        {
            "company_name": "新公司",
            "status": 1,
            "sort": 0,
            "positions-TOTAL_FORMS": 2,
            "positions-INITIAL_FORMS": 0,
            "positions-MIN_NUM_FORMS": 0,
            "positions-MAX_NUM_FORMS": 1000,
            "positions-0-name": "司机",
            "positions-0-status": 1,
            "positions-0-sort": 1,
            "positions-1-name": "调度",
            "positions-1-status": 1,
            "positions-1-sort": 2,
        },
    )

    assert response.status_code == 302, response.content.decode()[-3000:]
    company = Company.objects.get(company_name="新公司")
    assert list(company.positions.order_by("sort").values_list("name", flat=True)) == ["司机", "调度"]


def test_changelists_render_and_search(staff_client, django_assert_max_num_queries):
    for n in range(30):
        WorkPositionFactory(company=CompanyFactory(company_name=f"公司{n:02d}"), name=f"岗位{n:02d}")

    with django_assert_max_num_queries(12):
        companies = staff_client.get("/admin/contracts/company/")
    query = search_query(staff_client, "/admin/contracts/workposition/", "岗位07")
    with django_assert_max_num_queries(12):
        positions = staff_client.get(f"/admin/contracts/workposition/{query}")

    assert companies.status_code == 200 and "公司29" in companies.content.decode()
    assert positions.status_code == 200
    assert "岗位07" in positions.content.decode()
    assert WorkPosition.objects.count() == 30
