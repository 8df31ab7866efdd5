"""
The placement page of a contract template (SPEC §9) and the enable rule in the admin: page images,
boxes saved with server-side checks (inside the page, a known value, all or nothing), keyword
anchors, the preview with sample data, permissions (handlers read only) and pinned query counts.
Bad uploads (encrypted, 500 pages, a form field off the page) leave no row and no file.
"""

import io
import json
import re
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image
from pypdf import PdfWriter

from contracts.models import Contract, EnabledStatus, Placement
from contracts.placements import VOCABULARY
from tests.factories import TEMPLATE_PLACEMENTS, CompanyFactory, ContractFactory, pdf_bytes
from tests.support.admin import client_for, messages_of
from tests.support.templates import HEIGHT, acroform_template, anchored_template

pytestmark = pytest.mark.django_db

A4_WIDTH = 595.2756
ADD = "/admin/contracts/contract/add/"


def page_url(contract):
    return f"/admin/contracts/contract/{contract.pk}/placements/"


def rows(contract):
    return list(
        Placement.objects.filter(contract=contract)
        .order_by("id")
        .values("key", "page", "x", "y", "width", "height", "source", "anchor")
    )


def as_posted(contract):
    return [{k: v for k, v in row.items()} for row in rows(contract)]


def post_boxes(client, contract, boxes, **extra):
    return client.post(page_url(contract), {"placements": json.dumps(boxes), "_save": "1", **extra}, follow=True)


def stored_files() -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []


def contract_form(company, file=None, **overrides):
    data = {
        "contract_name": "劳动合同（标准版）",
        "contract_body": "甲公司",
        "company": company.pk,
        "sign_year": 3,
        "status": EnabledStatus.ENABLED,
        **overrides,
    }
    if file is not None:
        data["file"] = SimpleUploadedFile("模板.pdf", file, content_type="application/pdf")
    return data


@pytest.fixture
def contract(db):
    return ContractFactory(company=CompanyFactory(company_name="甲科技有限公司"), contract_name="标准劳动合同")


# --- the page -------------------------------------------------------------------------------------------


def test_the_page_shows_each_page_as_an_image_with_the_placements(staff_client, django_assert_max_num_queries):
    contract = ContractFactory(file=pdf_bytes_file(pages=3))
    Placement.objects.bulk_create(
        Placement(contract=contract, key="em_contact", page=2 + n % 2, x=72, y=100 + 20 * n, width=100, height=16)
        for n in range(30)
    )

    with django_assert_max_num_queries(8):
        response = staff_client.get(page_url(contract))

    page = response.content.decode()
    assert response.status_code == 200
    for number in (1, 2, 3):
        assert f"/admin/contracts/contract/{contract.pk}/placements/page/{number}.png" in page
    data = json.loads(
        re.search(r'<script id="sq-placement-data" type="application/json">(.*?)</script>', page).group(1)
    )
    assert data["editable"] is True and len(data["pages"]) == 3
    assert len(data["placements"]) == len(TEMPLATE_PLACEMENTS) + 30
    assert round(data["pages"][0]["width"], 1) == round(A4_WIDTH, 1)
    assert "contracts/placements.js" in page and "<script>" not in page  # no inline script (CSP)
    assert "必需的字段位置已全部放置" in page


def pdf_bytes_file(pages):
    from django.core.files.base import ContentFile

    return ContentFile(pdf_bytes("多页合同", pages=pages), name="contract.pdf")


def test_a_page_image_is_the_rendered_page(staff_client, django_assert_max_num_queries):
    contract = ContractFactory(file=pdf_bytes_file(pages=2))

    with django_assert_max_num_queries(5):
        response = staff_client.get(f"{page_url(contract)}page/2.png")

    assert response["Content-Type"] == "image/png"
    image = Image.open(io.BytesIO(response.content)).convert("L")
    assert image.size == (round(A4_WIDTH * 1.5), round(HEIGHT * 1.5))
    assert min(image.get_flattened_data()) < 100  # the title text is drawn
    assert staff_client.get(f"{page_url(contract)}page/3.png").status_code == 404


def test_saving_moved_and_added_boxes_replaces_the_placements(staff_client, contract):
    boxes = as_posted(contract)
    boxes[0].update(x=300.5, y=400.25, width=150, height=30)
    boxes.append({"key": "phone", "page": 1, "x": 10, "y": 10, "width": 100, "height": 18, "source": "manual"})

    response = post_boxes(staff_client, contract, boxes)

    assert f"已保存 {len(boxes)} 个字段位置。" in messages_of(response)
    saved = rows(contract)
    assert len(saved) == len(boxes)
    first = next(row for row in saved if row["key"] == boxes[0]["key"])
    assert (first["x"], first["y"], first["width"], first["height"]) == (300.5, 400.25, 150, 30)
    assert any(row["key"] == "phone" and row["source"] == "manual" for row in saved)


@pytest.mark.parametrize(
    ("box", "message"),
    [
        (
            {"key": "real_name", "page": 1, "x": 500, "y": 100, "width": 200, "height": 20},
            "「劳动者姓名」的区域超出第 1 页的页面范围",
        ),
        (
            {"key": "real_name", "page": 1, "x": 10, "y": 830, "width": 100, "height": 20},
            "「劳动者姓名」的区域超出第 1 页的页面范围",
        ),
        (
            {"key": "real_name", "page": 1, "x": -20, "y": 10, "width": 100, "height": 20},
            "「劳动者姓名」的区域超出第 1 页的页面范围",
        ),
        (
            {"key": "real_name", "page": 2, "x": 10, "y": 10, "width": 100, "height": 20},
            "「劳动者姓名」的页码 2 超出模板页数（共 1 页）",
        ),
        ({"key": "salary_bonus", "page": 1, "x": 10, "y": 10, "width": 100, "height": 20}, "未知的字段：salary_bonus"),
        ({"key": "salary", "page": 1, "x": 10, "y": 10, "width": 2, "height": 20}, "「月工资（元）」的区域太小"),
        (
            {"key": "salary", "page": 1, "x": "左边", "y": 10, "width": 20, "height": 20},
            "「月工资（元）」的页码或位置不是有效的数字",
        ),
        (
            {"key": "salary", "page": 1, "x": 1e400, "y": 10, "width": 20, "height": 20},
            "「月工资（元）」的页码或位置不是有效的数字",
        ),
    ],
    ids=["off-right", "off-bottom", "off-left", "no-such-page", "unknown-key", "too-small", "not-a-number", "infinite"],
)
def test_a_bad_box_is_refused_in_chinese_and_nothing_is_saved(staff_client, contract, box, message):
    before = rows(contract)
    boxes = [*as_posted(contract)[1:], box]

    response = staff_client.post(page_url(contract), {"placements": json.dumps(boxes), "_save": "1"})

    assert response.status_code == 200
    assert message in response.content.decode()
    assert rows(contract) == before  # the first box was dropped in the submission: still there


def test_more_boxes_than_the_limit_are_refused(staff_client, contract):
    before = rows(contract)
    box = {"key": "phone", "page": 1, "x": 10, "y": 10, "width": 50, "height": 10}

    response = staff_client.post(page_url(contract), {"placements": json.dumps([box] * 201), "_save": "1"})

    assert "字段位置不能超过 200 个" in response.content.decode()
    assert rows(contract) == before


def test_garbage_instead_of_json_is_refused(staff_client, contract):
    before = rows(contract)

    response = staff_client.post(page_url(contract), {"placements": "{not json", "_save": "1"})

    assert "提交的字段位置格式不正确" in response.content.decode()
    assert rows(contract) == before


def test_removing_a_required_placement_disables_an_enabled_template(staff_client, contract):
    assert contract.status == EnabledStatus.ENABLED
    boxes = [box for box in as_posted(contract) if box["key"] != "company_seal"]

    response = post_boxes(staff_client, contract, boxes)

    contract.refresh_from_db()
    assert contract.status == EnabledStatus.DISABLED
    assert "仍缺少必需的字段位置：甲方盖章（单位印章）。模板已停用，放置完整后才能重新启用。" in messages_of(response)

    # …and it cannot be enabled again in the form until the seal is placed.
    refused = staff_client.post(
        f"/admin/contracts/contract/{contract.pk}/change/",
        contract_form(contract.company, contract_name=contract.contract_name),
    )
    assert refused.status_code == 200
    assert "合同模板缺少必需的字段位置：甲方盖章（单位印章），不能启用。" in refused.content.decode()
    contract.refresh_from_db()
    assert contract.status == EnabledStatus.DISABLED

    post_boxes(
        staff_client,
        contract,
        [*boxes, {"key": "company_seal", "page": 1, "x": 300, "y": 600, "width": 110, "height": 110}],
    )
    enabled = staff_client.post(
        f"/admin/contracts/contract/{contract.pk}/change/",
        contract_form(contract.company, contract_name=contract.contract_name),
    )
    assert enabled.status_code == 302
    contract.refresh_from_db()
    assert contract.status == EnabledStatus.ENABLED


def test_a_keyword_anchor_adds_a_box_at_the_text(staff_client):
    company = CompanyFactory()
    template = anchored_template(["甲方代表签字：", "其他内容"])
    contract = ContractFactory(company=company, file=content_file(template), placed=False)

    response = staff_client.post(
        page_url(contract),
        {
            "placements": "[]",
            "_keyword": "1",
            "kw_key": "legal_representative",
            "kw_text": "甲方代表签字",
            "kw_dx": "20",
            "kw_dy": "0",
            "kw_width": "120",
            "kw_height": "18",
        },
        follow=True,
    )

    assert "已保存 1 个字段位置。" in messages_of(response)
    (row,) = rows(contract)
    assert (row["key"], row["source"], row["anchor"], row["page"]) == (
        "legal_representative",
        "anchor",
        "甲方代表签字",
        1,
    )
    assert 72 + 6 * 11 + 20 - 2 < row["x"] < 72 + 6 * 11 + 20 + 2  # 20 pt right of the six 11-pt characters
    assert abs(row["y"] + 9 - (80 - 4)) < 6  # vertically centred on the line


def content_file(data):
    from django.core.files.base import ContentFile

    return ContentFile(data, name="contract.pdf")


def test_a_keyword_not_in_the_template_is_named_and_nothing_is_saved(staff_client, contract):
    before = rows(contract)

    response = staff_client.post(
        page_url(contract),
        {
            "placements": json.dumps(as_posted(contract)[:3]),
            "_keyword": "1",
            "kw_key": "company_seal",
            "kw_text": "甲方（公章）",
            "kw_dx": "0",
            "kw_dy": "0",
            "kw_width": "110",
            "kw_height": "110",
        },
    )

    assert response.status_code == 200
    assert "模板中找不到关键字「甲方（公章）」" in response.content.decode()
    assert rows(contract) == before


# --- permissions ------------------------------------------------------------------------------------------


def test_a_handler_sees_the_page_read_only_and_cannot_save(handler, contract):
    client = client_for(handler)
    before = rows(contract)

    page = client.get(page_url(contract))
    assert page.status_code == 200
    body = page.content.decode()
    assert 'id="sq-placement-form"' not in body and 'id="sq-readonly"' in body
    assert '"editable": false' in body
    assert client.get(f"{page_url(contract)}page/1.png").status_code == 200

    refused = client.post(page_url(contract), {"placements": "[]", "_save": "1"})
    assert refused.status_code == 403
    assert rows(contract) == before


def test_staff_without_the_contract_permission_get_nothing(contract):
    from tests.factories import AdminUserFactory

    client = client_for(AdminUserFactory(is_staff=True, is_superuser=False))

    assert client.get(page_url(contract)).status_code == 403
    assert client.get(f"{page_url(contract)}page/1.png").status_code == 403
    assert client.get(f"/admin/signing/signapplication/contract-preview/{contract.pk}/").status_code == 403


# --- preview -----------------------------------------------------------------------------------------------


def test_the_preview_fills_the_template_with_sample_data(staff_client, contract, django_assert_max_num_queries):
    url = f"/admin/signing/signapplication/contract-preview/{contract.pk}/"
    assert f'href="{url}"' in staff_client.get(page_url(contract)).content.decode()

    with django_assert_max_num_queries(8):
        page = staff_client.get(url)
    assert page.status_code == 200
    assert page.content.decode().count('src="data:image/png;base64,') == 1

    pdf = staff_client.get(url + "?format=pdf")
    assert pdf["Content-Type"] == "application/pdf"
    text = re.sub(
        r"\s+",
        "",
        subprocess.run(["pdftotext", "-", "-"], input=pdf.content, capture_output=True, check=True).stdout.decode(),
    )
    assert "张示例" in text and "110101199001011237" in text and "8500.00" in text
    assert contract.company.company_name in text
    assert not Contract.objects.filter(pk=contract.pk).exclude(sha256=contract.sha256).exists()


# --- the enable rule and the upload messages ------------------------------------------------------------------


def test_an_upload_says_what_it_found_and_what_is_missing(staff_client):
    company = CompanyFactory(company_name="甲公司")
    template = anchored_template(["乙方（签名）：", "甲方（盖章）：", "姓名：", "居民身份证号码："])

    response = staff_client.post(ADD, contract_form(company, template), follow=True)

    contract = Contract.objects.get()
    assert contract.status == EnabledStatus.DISABLED
    said = messages_of(response)
    assert (
        "已从合同文件识别 4 个字段位置（关键字定位 4 个："
        "甲方盖章（单位印章）、乙方签名（手写签名图片）、劳动者姓名、居民身份证号码）。" in said
    )
    assert any(
        m.startswith("仍缺少必需的字段位置：户籍地址或现住址、工作岗位") and "模板已保存为「停用」" in m for m in said
    ), said


def test_a_complete_acroform_upload_is_enabled_and_says_so(staff_client):
    company = CompanyFactory(company_name="甲公司")
    fields = [(key, 72, 90 + 30 * n, 200, 20) for n, (key, _w, _h) in enumerate(TEMPLATE_PLACEMENTS)]

    response = staff_client.post(ADD, contract_form(company, acroform_template(fields)), follow=True)

    contract = Contract.objects.get()
    assert contract.status == EnabledStatus.ENABLED
    said = messages_of(response)
    assert f"已从合同文件识别 {len(fields)} 个字段位置（表单域 {len(fields)} 个：" in said[0]
    assert not any("仍缺少" in m for m in said)
    change = staff_client.get(f"/admin/contracts/contract/{contract.pk}/change/").content.decode()
    assert "必需字段已全部放置，可以启用" in change and 'id="sq-placements-link"' in change


# --- bad uploads: a clear Chinese error, no row, no file ------------------------------------------------------


def encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=io.BytesIO(pdf_bytes()))
    writer.encrypt(user_password="", owner_password="owner", algorithm="AES-128")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def pages_pdf(count: int) -> bytes:
    writer = PdfWriter()
    for _ in range(count):
        writer.add_blank_page(width=595, height=842)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (encrypted_pdf, "合同文件不能加密或设置打开密码。"),
        (lambda: pages_pdf(500), "合同文件不能超过 200 页。"),
        (lambda: acroform_template((("real_name", 500, 100, 200, 20),)), "「劳动者姓名」的区域超出第 1 页的页面范围"),
        (
            lambda: acroform_template((("salary", 72, HEIGHT - 5, 100, 20),)),
            "「月工资（元）」的区域超出第 1 页的页面范围",
        ),
    ],
    ids=["encrypted", "500-pages", "field-off-the-right-edge", "field-below-the-page"],
)
def test_a_bad_template_upload_is_refused_and_leaves_nothing(staff_client, content, message):
    company = CompanyFactory(company_name="甲公司")
    files_before = stored_files()

    response = staff_client.post(ADD, contract_form(company, content()))

    assert response.status_code == 200
    assert message in response.content.decode()
    assert not Contract.objects.exists() and not Placement.objects.exists()
    assert stored_files() == files_before


def test_a_bad_replacement_file_keeps_the_template_as_it_was(staff_client, contract):
    before = (contract.file.name, contract.sha256, rows(contract))
    files_before = stored_files()

    response = staff_client.post(
        f"/admin/contracts/contract/{contract.pk}/change/",
        contract_form(contract.company, encrypted_pdf(), contract_name=contract.contract_name),
    )

    assert "合同文件不能加密或设置打开密码。" in response.content.decode()
    contract.refresh_from_db()
    assert (contract.file.name, contract.sha256, rows(contract)) == before
    assert stored_files() == files_before


def test_a_failure_after_the_file_is_stored_deletes_it(monkeypatch):
    from contracts import services

    company = CompanyFactory()
    files_before = stored_files()

    def boom(**kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(services, "placements_replace", boom)
    with pytest.raises(RuntimeError):
        services.contract_save_file(
            contract=Contract(contract_name="合同", contract_body="甲", company=company, sign_year=1),
            file=anchored_template(["姓名："]),
        )

    assert stored_files() == files_before


def test_every_vocabulary_key_can_be_added_from_the_page(staff_client, contract):
    page = staff_client.get(page_url(contract)).content.decode()

    for key in VOCABULARY:
        assert f'<option value="{key}">' in page
