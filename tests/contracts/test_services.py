"""Contract templates: the PDF is checked, stored through the storage API and fingerprinted."""

import hashlib
import io

import pytest
from django.core.files.base import ContentFile
from pypdf import PdfWriter

from contracts.models import Contract, Placement
from contracts.placements import Box
from contracts.services import contract_pdf_check, contract_save_file, placements_replace
from shanqian.errors import InvalidInput
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
    ("content", "message"),
    [
        (b"", "合同文件必须是 PDF。"),
        (png_bytes(), "合同文件必须是 PDF。"),
        ("劳动合同".encode(), "合同文件必须是 PDF。"),
        (pdf_bytes()[:200], "合同文件已损坏或不是有效的 PDF。"),
        (b"%PDF-1.7\n" + b"\x00" * 100, "合同文件已损坏或不是有效的 PDF。"),
        (encrypted_pdf(), "合同文件不能加密或设置打开密码。"),
    ],
    ids=["empty", "png", "text", "truncated", "garbage", "encrypted"],
)
def test_anything_but_a_readable_pdf_is_refused_and_nothing_is_saved(content, message):
    with pytest.raises(InvalidInput) as excinfo:
        contract_save_file(contract=new_contract(), file=content)

    assert excinfo.value.msg == message
    assert not Contract.objects.exists()


def test_pdf_check_counts_pages_and_rewinds():
    file = ContentFile(pdf_bytes(pages=4), name="x.pdf")

    assert contract_pdf_check(file) == 4
    assert file.tell() == 0


def test_an_oversized_file_is_refused_before_parsing(monkeypatch):
    monkeypatch.setattr("contracts.services.CONTRACT_MAX_BYTES", 100)

    with pytest.raises(InvalidInput) as excinfo:
        contract_pdf_check(ContentFile(pdf_bytes(), name="x.pdf"))

    assert excinfo.value.msg == "合同文件不能超过 0 MB。"


def test_a_placement_outside_the_page_is_refused_by_name_and_nothing_changes():
    contract = contract_save_file(contract=new_contract(), file=pdf_bytes(pages=1), detect=False)
    boxes = [Box(key="real_name", page=1, x=500, y=800, width=300, height=80, source="manual")]

    with pytest.raises(InvalidInput) as excinfo:
        placements_replace(contract=contract, boxes=boxes, sizes=[(595.0, 842.0)])

    assert excinfo.value.data["errors"] == {"placements": ["「劳动者姓名」的区域超出第 1 页的页面范围"]}
    assert not Placement.objects.filter(contract=contract).exists()
