"""Contract templates: the PDF is checked, stored through the storage API and fingerprinted."""

import hashlib
import io

import pytest
from django.core.exceptions import ValidationError
from django.core.files.base import ContentFile
from pypdf import PdfWriter

from contracts.models import Contract
from contracts.services import contract_pdf_check, contract_save_file
from tests.factories import CompanyFactory, pdf_bytes, png_bytes

pytestmark = pytest.mark.django_db


def new_contract(**fields):
    return Contract(
        contract_name="劳动合同",
        contract_body="闪签测试用人单位",
        company=fields.pop("company", None) or CompanyFactory(),
        sign_year=3,
        **fields,
    )


def encrypted_pdf() -> bytes:
    writer = PdfWriter()
    writer.add_blank_page(width=595, height=842)
    writer.encrypt(user_password="secret", algorithm="RC4-128")
    buffer = io.BytesIO()
    writer.write(buffer)
    return buffer.getvalue()


def test_contract_save_file_stores_the_pdf_and_its_sha256():
    content = pdf_bytes("劳动合同", pages=3)

    contract = contract_save_file(contract=new_contract(), file=content, name="模板.pdf")

    contract.refresh_from_db()
    assert contract.sha256 == hashlib.sha256(content).hexdigest()
    assert contract.file.name.startswith("contracts/") and contract.file.name.endswith(".pdf")
    with contract.file.open("rb") as stored:
        assert stored.read() == content


def test_replacing_the_file_records_the_new_digest_and_keeps_the_old_file():
    contract = contract_save_file(contract=new_contract(), file=pdf_bytes("第一版"))
    old_name, old_sha = contract.file.name, contract.sha256

    contract_save_file(contract=contract, file=ContentFile(pdf_bytes("第二版"), name="v2.pdf"))

    contract.refresh_from_db()
    assert contract.file.name != old_name
    assert contract.sha256 != old_sha
    assert contract.file.storage.exists(old_name)


@pytest.mark.parametrize(
    ("content", "code"),
    [
        (b"", "not_pdf"),
        (png_bytes(), "not_pdf"),
        ("劳动合同".encode(), "not_pdf"),
        (pdf_bytes()[:200], "invalid_pdf"),
        (b"%PDF-1.7\n" + b"\x00" * 100, "invalid_pdf"),
        (encrypted_pdf(), "encrypted"),
    ],
    ids=["empty", "png", "text", "truncated", "garbage", "encrypted"],
)
def test_anything_but_a_readable_pdf_is_refused_and_nothing_is_saved(content, code):
    with pytest.raises(ValidationError) as excinfo:
        contract_save_file(contract=new_contract(), file=content)

    assert excinfo.value.code == code
    assert not Contract.objects.exists()


def test_pdf_check_counts_pages_and_rewinds():
    file = ContentFile(pdf_bytes(pages=4), name="x.pdf")

    assert contract_pdf_check(file) == 4
    assert file.tell() == 0


def test_an_oversized_file_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr("contracts.services.CONTRACT_MAX_BYTES", 100)

    with pytest.raises(ValidationError) as excinfo:
        contract_pdf_check(ContentFile(pdf_bytes(), name="x.pdf"))

    assert excinfo.value.code == "too_large"
