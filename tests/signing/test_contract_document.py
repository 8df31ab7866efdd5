"""
The personalised contract (SPEC §9), judged by poppler — tools independent of reportlab and pypdf:
``pdftotext`` finds both parties and the art. 17 terms in the contract pages, ``pdffonts`` says
every font is embedded, ``pdftoppm`` with an empty fontconfig still renders the Chinese, and the
signed signature block shows the seal's red and the signature's ink.
"""

import hashlib
import io
import re
import subprocess

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from PIL import Image
from pypdf import PdfReader

from contracts.placements import placements_missing
from signing.documents.render import PageBox, fill_pdf, fit
from signing.documents.values import rmb_upper
from signing.models import SignApplication
from tests.envelope import assert_ok
from tests.factories import TEMPLATE_PLACEMENTS, UploadFactory, handwritten_signature, make_signer, pdf_bytes, sign_code

pytestmark = pytest.mark.django_db


def run(*args, env=None, input_bytes=None) -> bytes:
    return subprocess.run(args, check=True, capture_output=True, input=input_bytes, env=env, timeout=60).stdout


def pdftotext(pdf: bytes, *, first=None, last=None) -> str:
    pages = [*(["-f", str(first)] if first else []), *(["-l", str(last)] if last else [])]
    return re.sub(r"\s+", "", run("pdftotext", *pages, "-", "-", input_bytes=pdf).decode())


def pdffonts(pdf: bytes, tmp_path) -> list[list[str]]:
    path = tmp_path / "f.pdf"
    path.write_bytes(pdf)
    lines = run("pdffonts", str(path)).decode().splitlines()[2:]
    return [line.split() for line in lines if line.strip()]


def render(pdf: bytes, tmp_path, *, page=1, dpi=72, empty_fontconfig=True) -> Image.Image:
    """One page as an image (1 px = 1 pt at 72 dpi), with no system fonts at all when asked."""
    path = tmp_path / "r.pdf"
    path.write_bytes(pdf)
    env = None
    if empty_fontconfig:
        config = tmp_path / "fonts.conf"
        config.write_text('<?xml version="1.0"?><!DOCTYPE fontconfig SYSTEM "fonts.dtd"><fontconfig></fontconfig>')
        env = {"FONTCONFIG_FILE": str(config), "PATH": "/usr/bin:/bin", "HOME": str(tmp_path)}
    out = run("pdftoppm", "-f", str(page), "-l", str(page), "-r", str(dpi), "-png", str(path), env=env)
    return Image.open(io.BytesIO(out)).convert("RGB")


def box_of(key):
    y = 90.0
    for name, width, height in TEMPLATE_PLACEMENTS:
        if name == key:
            return (72, round(y), 72 + width, round(y + height))
        y += height + 6
    raise KeyError(key)


def pixels(image: Image.Image, predicate) -> int:
    return sum(1 for pixel in image.get_flattened_data() if predicate(pixel))


def is_red(p):
    return p[0] > 150 and p[1] < 110 and p[2] < 110


def is_ink(p):
    return p[0] < 90 and p[1] < 90 and p[2] < 140


@pytest.fixture
def signer(world, platform):
    return make_signer(world)


def generated(application) -> bytes:
    application = SignApplication.objects.get(pk=application.pk)
    with default_storage.open(application.contract_document.name, "rb") as handle:
        data = handle.read()
    assert hashlib.sha256(data).hexdigest() == application.contract_document_sha256
    return data


# --- generated at approval ------------------------------------------------------------------------------


def test_the_generated_contract_names_both_parties_and_the_terms(signer, world):
    application = SignApplication.objects.select_related("em", "company").get(pk=signer.application.pk)
    text = pdftotext(generated(application))

    employee = application.em
    for expected in (
        employee.real_name,
        employee.id_number,  # in full in the contract body
        application.company.company_name,
        application.company.credit_code,
        "7000.50",
        f"{application.entry_date.year}年{application.entry_date.month}月{application.entry_date.day}日",
        f"{application.end_date.year}年{application.end_date.month}月{application.end_date.day}日",
        "标准工时制",
        application.work_location.replace(" ", ""),
    ):
        assert expected in text, expected


def test_two_workers_get_different_contracts_from_one_template(world, platform):
    first = make_signer(world, phone="13912345678")
    second = make_signer(world, phone="13912345679")

    assert generated(first.application) != generated(second.application)


def test_every_font_of_the_generated_contract_is_embedded(signer, tmp_path):
    fonts = pdffonts(generated(signer.application), tmp_path)

    assert fonts, "pdffonts lists the fonts"
    # pdffonts columns: name type [encoding…] emb sub uni object ID — "emb" is the 5th from the end.
    assert all(row[-5] == "yes" for row in fonts), fonts


def test_chinese_renders_without_any_system_font_and_a_non_embedded_font_would_not(signer, tmp_path):
    ours = render(generated(signer.application), tmp_path).crop(box_of("real_name"))
    control = render(pdf_with_unembedded_name(signer.employee.real_name), tmp_path).crop(box_of("real_name"))

    ink = pixels(ours, lambda p: sum(p) < 450)
    assert ink > 40, "the worker's name is drawn"
    difference = sum(1 for a, b in zip(ours.get_flattened_data(), control.get_flattened_data(), strict=True) if a != b)
    assert difference > 40, "without the embedded font poppler could not have drawn these glyphs"


def pdf_with_unembedded_name(name: str) -> bytes:
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=(595.27, 841.89))
    x0, y0, _x1, y1 = box_of("real_name")
    pdf.setFont("STSong-Light", 12)
    pdf.drawString(x0 + 1, 841.89 - (y0 + y1) / 2 - 4, name)
    pdf.save()
    return buffer.getvalue()


def test_a_long_address_shrinks_and_wraps_inside_its_box(tmp_path):
    template = pdf_bytes("长地址", pages=1)
    box = PageBox(key="acct_address", page=1, x=72, y=200, width=160, height=30)
    address = "广东省深圳市南山区粤海街道科技园社区科苑路十五号科兴科学园B栋四单元二十三层二三零一室" * 2

    size, lines = fit(address, _font(), box.width, box.height)
    pdf = fill_pdf(template, [box], texts={"acct_address": address})
    image = render(pdf, tmp_path, dpi=144)

    assert len(lines) >= 2 and size < 12
    inside = image.crop((72 * 2, 200 * 2, 232 * 2, 230 * 2))
    outside = image.crop((232 * 2 + 2, 200 * 2, 400 * 2, 230 * 2))
    below = image.crop((72 * 2, 230 * 2 + 2, 232 * 2, 300 * 2))
    assert pixels(inside, lambda p: sum(p) < 450) > 100
    assert pixels(outside, lambda p: sum(p) < 600) == 0 and pixels(below, lambda p: sum(p) < 600) == 0
    assert "广东省深圳市" in pdftotext(pdf)


def _font():
    from signing.sealing.fonts import certificate_font

    return certificate_font().name


def test_acroform_fields_are_flattened(tmp_path):
    from tests.support.templates import acroform_template

    template = acroform_template()
    reader = PdfReader(io.BytesIO(template))
    assert "/AcroForm" in reader.trailer["/Root"]

    boxes = [PageBox(key="real_name", page=1, x=100, y=100, width=150, height=20)]
    pdf = fill_pdf(template, boxes, texts={"real_name": "张三"})

    out = PdfReader(io.BytesIO(pdf))
    assert "/AcroForm" not in out.trailer["/Root"]
    assert not [a for a in out.pages[0].get("/Annots") or [] if a.get_object().get("/Subtype") == "/Widget"]
    assert "张三" in pdftotext(pdf)


@pytest.mark.parametrize(
    ("amount", "upper"),
    [
        ("8500.50", "捌仟伍佰元伍角"),
        ("10000", "壹万元整"),
        ("1005.07", "壹仟零伍元零柒分"),
        ("100010001", "壹亿零壹万零壹元整"),
        ("1234567.89", "壹佰贰拾叁万肆仟伍佰陆拾柒元捌角玖分"),
    ],
)
def test_salary_in_capitals(amount, upper):
    assert rmb_upper(amount) == upper


def test_the_enable_rule_names_what_is_missing():
    assert placements_missing({"employee_signature", "company_seal"}) == [
        "劳动者姓名",
        "居民身份证号码",
        "户籍地址或现住址",
        "工作岗位",
        "工作地点",
        "合同起始日（入职日期）",
        "合同终止日或合同期限（年）",
        "月工资（元）",
        "工时制度",
    ]


# --- at signing -------------------------------------------------------------------------------------------


def sign_with_ink(signer) -> bytes:
    upload = UploadFactory(owner=signer.user, width=360, height=140)
    content = handwritten_signature()
    upload.file.save("sig.png", ContentFile(content), save=False)
    upload.sha256, upload.size = hashlib.sha256(content).hexdigest(), len(content)
    upload.save()
    from employees.uploads import upload_url

    assert_ok(signer.client.get("/api/sign/contract"))
    body = assert_ok(
        signer.client.post(
            "/api/sign", {"sms_code": sign_code(signer.employee.phone), "signature": upload_url(upload)}, format="json"
        )
    )
    document = assert_ok(signer.client.get("/api/sign/document"))
    pdf = b"".join(signer.client.get(document["document_url"]).streaming_content)
    assert hashlib.sha256(pdf).hexdigest() == body["sha256"]
    return pdf


def test_the_signed_contract_carries_the_signature_and_the_seal_in_their_places(signer, tmp_path):
    pdf = sign_with_ink(signer)
    page = render(pdf, tmp_path)

    seal = page.crop(box_of("company_seal"))
    signature = page.crop(box_of("employee_signature"))
    assert pixels(seal, is_red) > 300, "the company seal's red in 甲方（盖章）"
    assert pixels(signature, is_ink) > 100, "the worker's ink in 乙方（签名）"
    elsewhere = page.crop((400, 90, 580, 300))
    assert pixels(elsewhere, is_red) == 0


def test_the_signed_contract_pages_name_the_worker_and_the_sign_date(signer, tmp_path):
    pdf = sign_with_ink(signer)
    contract_text = pdftotext(pdf, first=1, last=1)
    application = SignApplication.objects.select_related("em").get(pk=signer.application.pk)

    assert application.em.real_name in contract_text and application.em.id_number in contract_text
    signed_on = application.document.created_at.astimezone().date()
    assert f"{signed_on.year}年{signed_on.month}月{signed_on.day}日" in contract_text
    fonts = pdffonts(pdf, tmp_path)
    assert all(row[-5] == "yes" for row in fonts), fonts


# --- manage.py contract_render: the signature page as a PNG anyone can look at ---------------------------


def test_contract_render_draws_the_signed_signature_page(signer, tmp_path):
    from django.core.management import call_command

    pdf = sign_with_ink(signer)
    out = tmp_path / "signature-page.png"
    printed = io.StringIO()

    call_command("contract_render", application=signer.application.pk, dpi=72, out=str(out), stdout=printed)

    page = Image.open(out).convert("RGB")
    assert abs(page.size[0] - 595) <= 1 and abs(page.size[1] - 842) <= 1  # A4 at 72 dpi: 1 px = 1 pt
    assert pixels(page.crop(box_of("company_seal")), is_red) > 300, "the company seal's red in 甲方（盖章）"
    assert pixels(page.crop(box_of("employee_signature")), is_ink) > 100, "the worker's ink in 乙方（签名）"
    said = printed.getvalue()
    assert hashlib.sha256(pdf).hexdigest() in said and "第 1 页" in said
    assert signer.employee.real_name not in said  # no personal data on the terminal

    call_command("contract_render", application=signer.application.pk, page="last", out=str(out), stdout=printed)
    assert f"第 {len(PdfReader(io.BytesIO(pdf)).pages)} 页" in printed.getvalue()  # the certificate page


def test_contract_render_refuses_clearly(signer, tmp_path):
    from django.core.management import CommandError, call_command

    out = str(tmp_path / "x.png")
    with pytest.raises(CommandError, match="不存在"):
        call_command("contract_render", application=999_999, out=out)
    with pytest.raises(CommandError, match="还没有已签署文件"):
        call_command("contract_render", application=signer.application.pk, out=out)
    with pytest.raises(CommandError, match="--page 须为"):
        call_command("contract_render", application=signer.application.pk, document="personalised", page="9", out=out)

    call_command("contract_render", application=signer.application.pk, document="personalised", out=out)
    assert Image.open(out).size == (827, 1170)  # 100 dpi
