"""
The certificate page (content, embedded CJK font, page breaks), the refusal of
documents that cannot be signed, and the verification of first-generation
files (one platform seal, ``tests.signing.legacy_seal``) that must keep verifying.
"""

import datetime
import hashlib
import io
import os
import subprocess
import sys
from pathlib import Path
from unittest import mock

import pytest
from django.conf import settings as django_settings
from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from pyhanko.keys import load_cert_from_pemder
from pyhanko.pdf_utils import generic
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter

from employees.masking import mask_id_number, mask_phone
from shanqian.errors import Conflict, InvalidInput
from signing.models import SignEvent, SignStatus
from signing.sealing import ContractFileInvalid, audit_rows, store_sealed_pdf, verify_sealed_pdf
from signing.sealing.certificate import render_certificate
from signing.sealing.fonts import certificate_font
from signing.sealing.pipeline import document_pages
from tests.factories import AdminUserFactory, SignApplicationFactory, png_bytes

from .legacy_seal import make_legacy_cert, seal_contract
from .sealing_helpers import byte_range, certificate_data, contract_pdf, events, page_texts, squash

CONTRACT_PAGES = 4


@pytest.fixture(scope="module")
def contract():
    return contract_pdf(CONTRACT_PAGES)


@pytest.fixture
def sealed(contract):
    return seal_contract(contract_pdf=contract, data=certificate_data())


def pyhanko_status(pdf: bytes, cert_path):
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    (signature,) = reader.embedded_signatures
    context = ValidationContext(trust_roots=[load_cert_from_pemder(str(cert_path))], allow_fetching=False)
    return signature, validate_pdf_signature(signature, signer_validation_context=context)


# --- the certificate page -------------------------------------------------------------------------


def test_sealed_pdf_is_the_contract_pages_then_the_certificate(contract, sealed):
    contract_texts = page_texts(contract)
    texts = page_texts(sealed)

    assert len(texts) == CONTRACT_PAGES + 1
    assert texts[:CONTRACT_PAGES] == contract_texts
    assert "电子签约存证证书" in texts[CONTRACT_PAGES]


def test_certificate_page_holds_parties_identity_environment_and_hashes(contract, sealed):
    data = certificate_data()
    text = squash("".join(page_texts(sealed)[CONTRACT_PAGES:]))

    for expected in [
        "申请编号4242",
        "李小雷",
        "闪签测试科技有限公司",
        "劳动合同（标准版）",
        "闪签测试科技（杭州）有限公司",
        "高级工程师",
        "2025-03-10",
        "12,345.60元",
        "3年",
        "1101**********1234",
        "138****5678",
        "2025-03-0114:05:09+08:00",
        "Asia/Shanghai",
        "203.0.113.9",
        "116.397128",
        "39.916527",
        "北京市",
        hashlib.sha256(contract).hexdigest(),
        hashlib.sha256(data.signature_image).hexdigest(),
    ]:
        assert squash(expected) in text, expected
    assert f"共{CONTRACT_PAGES}页" in text


def test_certificate_page_lists_every_audit_event(sealed):
    text = squash(page_texts(sealed)[CONTRACT_PAGES])

    for row in events():
        assert squash(row.description) in text
        assert row.time.strftime("%Y-%m-%d") in text
        assert row.ip in text
        assert squash(row.actor) in text
        assert squash(row.note) in text
    # 01:00 UTC, 03:00 UTC and 06:00 UTC printed in Beijing time, in order.
    positions = [text.index(t) for t in ("2025-03-0109:00:00", "2025-03-0111:00:00", "2025-03-0114:00:00")]
    assert positions == sorted(positions)


def test_long_audit_trail_breaks_across_pages_with_every_event(contract):
    trail = events(90)
    pdf = seal_contract(contract_pdf=contract, data=certificate_data(events=trail))

    certificate_pages = page_texts(pdf)[CONTRACT_PAGES:]
    assert len(certificate_pages) >= 3
    text = squash("".join(certificate_pages))
    for row in trail:
        assert squash(row.note or row.description) in text
    # The table header repeats on each page the trail runs over.
    assert all("操作人" in page for page in certificate_pages[1:-1])
    assert "存证证书第3页" in text


def test_cjk_font_is_embedded_as_truetype(sealed):
    font = certificate_font()
    assert font.embedded and Path(font.path).is_file()

    reader = PdfReader(io.BytesIO(sealed))
    certificate_fonts = []
    for page in reader.pages[CONTRACT_PAGES:]:
        certificate_fonts += [f.get_object() for f in page["/Resources"]["/Font"].values()]

    cjk = [f for f in certificate_fonts if "WenQuanYi" in f["/BaseFont"]]
    assert cjk, [f["/BaseFont"] for f in certificate_fonts]
    for font_dict in cjk:
        descriptor = font_dict["/FontDescriptor"].get_object()
        assert "/FontFile2" in descriptor
        assert len(descriptor["/FontFile2"].get_object().get_data()) > 1000
    # Nothing on the certificate page relies on a reader-supplied CJK font.
    assert not [f for f in certificate_fonts if f["/BaseFont"] == "/STSong-Light"]


def test_pdf_cjk_font_setting_overrides_the_font(settings):
    path = certificate_font().path
    settings.PDF_CJK_FONT = f"{path}#1"  # the Mono face of the .ttc

    font = certificate_font()

    assert font.path == path and font.embedded and font.name.endswith("-1")


def test_pdf_cjk_font_setting_pointing_at_nothing_is_a_configuration_error(settings, tmp_path):
    settings.PDF_CJK_FONT = str(tmp_path / "missing.ttf")

    with pytest.raises(ImproperlyConfigured, match="中文字体无法加载"):
        certificate_font()


def test_without_an_embeddable_font_the_page_falls_back_to_stsong_with_a_warning(contract, monkeypatch, caplog):
    from signing.sealing import fonts

    monkeypatch.setattr(fonts, "candidate_paths", lambda: [])
    fonts._register.cache_clear()
    try:
        with caplog.at_level("WARNING", logger="signing.sealing.fonts"):
            pdf = seal_contract(contract_pdf=contract, data=certificate_data())
    finally:
        fonts._register.cache_clear()

    assert "没有找到可嵌入的中文 TrueType 字体" in caplog.text
    page = PdfReader(io.BytesIO(pdf)).pages[CONTRACT_PAGES]
    base_fonts = {f.get_object()["/BaseFont"] for f in page["/Resources"]["/Font"].values()}
    assert "/STSong-Light" in base_fonts and not any("WenQuanYi" in f for f in base_fonts)
    assert "李小雷" in page.extract_text()
    assert verify_sealed_pdf(pdf).ok


def test_signature_image_with_transparency_is_drawn(contract):
    pdf = seal_contract(
        contract_pdf=contract, data=certificate_data(signature_image=png_bytes((200, 80), fmt="PNG", optimize=True))
    )
    rgba = io.BytesIO()
    from PIL import Image

    Image.new("RGBA", (200, 80), (0, 0, 0, 0)).save(rgba, "PNG")
    pdf_transparent = seal_contract(contract_pdf=contract, data=certificate_data(signature_image=rgba.getvalue()))

    for document in (pdf, pdf_transparent):
        page = PdfReader(io.BytesIO(document)).pages[CONTRACT_PAGES]
        assert len(page.images) == 1


# --- the digital signature ---------------------------------------------------------------------------


def test_pyhanko_validator_accepts_the_seal(sealed, signing_cert):
    signature, status = pyhanko_status(sealed, signing_cert[0])

    assert status.intact and status.valid and status.trusted
    assert status.coverage == SignatureCoverageLevel.ENTIRE_FILE
    assert status.docmdp_ok is not False
    assert status.bottom_line
    assert signature.field_name == "ShanqianSeal"
    assert signature.sig_object["/SubFilter"] == "/ETSI.CAdES.detached"
    assert signature.sig_object["/Reason"] == "闪签云电子签约存证"
    assert signature.sig_object["/Location"] == "北京市"
    assert "闪签云电子签约（开发）" in status.signing_cert.subject.human_friendly


def test_changing_the_application_id_by_one_byte_is_rejected(sealed, signing_cert):
    # The signing revision repeats the info dictionary; the last copy is the one readers use.
    head, marker, tail = sealed.rpartition(b"/ShanqianApplicationId (4242)")
    assert marker
    forged = head + b"/ShanqianApplicationId (4243)" + tail
    assert len(forged) == len(sealed)

    _, status = pyhanko_status(forged, signing_cert[0])

    assert not status.intact
    assert not status.bottom_line
    result = verify_sealed_pdf(forged)
    assert result.is_ours and not result.intact


def test_flipping_one_byte_inside_the_signed_ranges_is_detected(sealed):
    start1, length1, start2, length2 = byte_range(sealed)
    assert start1 == 0 and start2 + length2 == len(sealed)
    offsets = [length1 * k // 9 for k in range(1, 9)] + [start2 + length2 * k // 5 for k in range(1, 5)]

    for offset in offsets:
        tampered = bytearray(sealed)
        tampered[offset] ^= 0x01
        result = verify_sealed_pdf(bytes(tampered))
        assert not result.intact, offset


def test_changing_the_unsigned_signature_padding_or_hex_case_is_detected(sealed, signing_cert):
    _, signed_until, resumes_at, _ = byte_range(sealed)
    hole = sealed[signed_until:resumes_at]
    assert hole.startswith(b"<") and hole.endswith(b"0>")
    padded = sealed[: resumes_at - 3] + b"1" + sealed[resumes_at - 2 :]
    letter = next(i for i, c in enumerate(hole) if chr(c) in "ABCDEF")
    recased = bytearray(sealed)
    recased[signed_until + letter] = ord(chr(hole[letter]).lower())

    # pyHanko alone decodes the same CMS blob from both: the hole is outside the signed ranges.
    assert pyhanko_status(padded, signing_cert[0])[1].intact
    for tampered in (padded, bytes(recased)):
        assert len(tampered) == len(sealed) and tampered != sealed
        result = verify_sealed_pdf(tampered)
        assert result.is_ours and not result.intact


def test_appending_an_incremental_update_is_detected(sealed):
    writer = IncrementalPdfFileWriter(io.BytesIO(sealed), strict=False)
    writer.root["/Lang"] = generic.TextStringObject("zh-CN")
    writer.update_root()
    out = io.BytesIO()
    writer.write(out)

    result = verify_sealed_pdf(out.getvalue())

    assert result.is_ours and not result.intact


# --- verification -----------------------------------------------------------------------------------------


def test_verify_reports_ours_intact_and_the_application(contract, sealed):
    result = verify_sealed_pdf(sealed)

    assert result.ok and result.is_ours and result.intact
    assert result.application_id == 4242
    assert result.contract_sha256 == hashlib.sha256(contract).hexdigest()
    assert result.sha256 == hashlib.sha256(sealed).hexdigest()
    assert "闪签云电子签约（开发）" in result.signer_subject
    assert result.signed_at is not None and str(result.signed_at.tzinfo) == "Asia/Shanghai"
    assert "验证通过" in result.message and "4242" in result.message


@pytest.mark.parametrize(
    "make",
    [
        pytest.param(lambda: b"", id="empty"),
        pytest.param(lambda: b"GIF89a not a pdf at all", id="garbage"),
        pytest.param(lambda: contract_pdf(1), id="unsigned-pdf"),
        pytest.param(lambda: b"%PDF-1.7\n" + os.urandom(4000) + b"\n%%EOF", id="pdf-header-noise"),
    ],
)
def test_verify_says_not_ours_for_unsigned_or_unreadable_files(make):
    result = verify_sealed_pdf(make())

    assert not result.is_ours and not result.intact
    assert result.message


def test_verify_says_not_ours_for_a_pdf_signed_with_another_certificate(contract, settings, tmp_path, signing_cert):
    settings.SIGNING_CERT_PATH = str(tmp_path / "other.pem")
    settings.SIGNING_KEY_PATH = str(tmp_path / "other.key")
    make_legacy_cert(settings.SIGNING_CERT_PATH, settings.SIGNING_KEY_PATH, algorithm="ec", common_name="别人的证书")
    foreign = seal_contract(contract_pdf=contract, data=certificate_data())
    assert verify_sealed_pdf(foreign).ok  # ours, as far as the other configuration goes

    settings.SIGNING_CERT_PATH, settings.SIGNING_KEY_PATH = map(str, signing_cert)
    result = verify_sealed_pdf(foreign)

    assert not result.is_ours and not result.intact
    assert "不是由闪签云的签章证书签署" in result.message


# --- refusing what cannot be sealed --------------------------------------------------------------------


def _encrypted_pdf() -> bytes:
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(contract_pdf(1))))
    writer.encrypt(user_password="secret", owner_password="owner")
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _zero_page_pdf() -> bytes:
    out = io.BytesIO()
    PdfWriter().write(out)
    return out.getvalue()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        pytest.param(lambda: b"", "损坏", id="empty"),
        pytest.param(lambda: b"PK\x03\x04 a zip file", "损坏", id="not-a-pdf"),
        pytest.param(lambda: contract_pdf(3)[: len(contract_pdf(3)) * 2 // 3], "损坏", id="truncated"),
        pytest.param(lambda: b"%PDF-1.4\n1 0 obj << /Type /Catalog >>\n%%EOF\n", "损坏", id="header-only"),
        pytest.param(lambda: b"%PDF-1.4\n" + b"\x00\xff" * 5000 + b"\n%%EOF", "损坏", id="binary-noise"),
        pytest.param(_encrypted_pdf, "加密", id="encrypted"),
        pytest.param(_zero_page_pdf, "没有任何页面", id="zero-pages"),
    ],
)
def test_a_contract_file_that_cannot_be_sealed_is_a_clear_domain_error(make, message):
    with pytest.raises(ContractFileInvalid) as caught:
        document_pages(make())

    assert isinstance(caught.value, Conflict)
    assert caught.value.status_code == 409
    assert message in caught.value.msg and "无法签署" in caught.value.msg


@pytest.mark.parametrize("image", [b"", b"not an image", png_bytes()[:40]])
def test_an_undecodable_signature_image_is_invalid_input(image):
    with pytest.raises(InvalidInput, match="签名图片无法识别"):
        render_certificate(certificate_data(signature_image=image), contract_pages=1)


def test_a_naive_signing_time_is_a_programming_error():
    with pytest.raises(ValueError, match="timezone-aware"):
        render_certificate(
            certificate_data(signed_at=certificate_data().signed_at.replace(tzinfo=None)), contract_pages=1
        )


# --- the legacy certificate -------------------------------------------------------------------------------------


def test_a_seal_still_verifies_after_its_certificate_has_expired(contract, settings, tmp_path):
    settings.SIGNING_CERT_PATH = str(tmp_path / "cert.pem")
    settings.SIGNING_KEY_PATH = str(tmp_path / "key.pem")
    make_legacy_cert(settings.SIGNING_CERT_PATH, settings.SIGNING_KEY_PATH, days=1)
    pdf = seal_contract(contract_pdf=contract, data=certificate_data())

    class ThreeDaysLater(datetime.datetime):
        @classmethod
        def now(cls, tz=None):
            return datetime.datetime.now(tz) + datetime.timedelta(days=3)

    with mock.patch("pyhanko_certvalidator.context.datetime", ThreeDaysLater):
        result = verify_sealed_pdf(pdf)

    # The configured certificate is the trust anchor, whose validity period is not checked.
    assert result.ok


# --- manage.py verify_document -------------------------------------------------------------------------------


@pytest.mark.django_db
def test_verify_document_command_passes_an_intact_seal(sealed, tmp_path):
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    out = io.StringIO()

    call_command("verify_document", str(path), stdout=out)

    text = out.getvalue()
    assert "验证通过" in text and "申请编号：4242" in text
    assert "闪签云签章：是" in text and "未被改动：是" in text
    assert "系统中没有申请编号为 4242" in text


@pytest.mark.django_db
def test_verify_document_command_fails_a_tampered_file_with_exit_code_1(sealed, tmp_path):
    path = tmp_path / "tampered.pdf"
    head, _, tail = sealed.rpartition(b"(4242)")
    path.write_bytes(head + b"(4243)" + tail)
    out = io.StringIO()

    with pytest.raises(SystemExit) as caught:
        call_command("verify_document", str(path), stdout=out)

    assert caught.value.code == 1
    assert "验证失败" in out.getvalue() and "未被改动：否" in out.getvalue()


def test_verify_document_command_refuses_a_missing_file(tmp_path):
    with pytest.raises(CommandError, match="无法读取文件"):
        call_command("verify_document", str(tmp_path / "nope.pdf"))


def test_verify_document_command_without_a_certificate_is_a_clear_error(db, sealed, settings, tmp_path):
    path = tmp_path / "sealed.pdf"
    path.write_bytes(sealed)
    settings.SIGNING_CERT_PATH = str(tmp_path / "missing.pem")

    with pytest.raises(CommandError, match="签章证书无法读取"):
        call_command("verify_document", str(path))


def test_verify_document_exit_codes_from_the_shell(sealed, tmp_path, signing_cert):
    good, bad = tmp_path / "good.pdf", tmp_path / "bad.pdf"
    good.write_bytes(sealed)
    bad.write_bytes(contract_pdf(1))
    env = {
        **os.environ,
        "SIGNING_CERT_PATH": str(signing_cert[0]),
        "SIGNING_KEY_PATH": str(signing_cert[1]),
        "DATABASE_URL": f"sqlite:///{tmp_path / 'empty.sqlite3'}",
    }
    manage = Path(django_settings.BASE_DIR) / "manage.py"

    def run(path):
        return subprocess.run(
            [sys.executable, str(manage), "verify_document", str(path)], env=env, capture_output=True, timeout=120
        )

    ok, not_ours = run(good), run(bad)

    assert ok.returncode == 0, ok.stderr.decode()
    assert "验证通过" in ok.stdout.decode()
    assert not_ours.returncode == 1
    assert "不含数字签名" in not_ours.stdout.decode()


# --- storage and the model glue -------------------------------------------------------------------------------


def test_store_sealed_pdf_saves_privately_under_a_random_name(sealed):
    first = store_sealed_pdf(sealed)
    second = store_sealed_pdf(sealed)

    assert first.name != second.name
    assert first.name.startswith("signed/") and first.name.endswith(".pdf")
    assert "4242" not in first.name
    assert first.sha256 == hashlib.sha256(sealed).hexdigest() and first.size == len(sealed)
    with default_storage.open(first.name) as handle:
        assert handle.read() == sealed
    assert Path(django_settings.MEDIA_ROOT, first.name).is_file()


@pytest.mark.django_db
def test_audit_rows_come_from_sign_events_without_a_query_per_row(django_assert_num_queries):
    application = SignApplicationFactory()
    staff = AdminUserFactory(name="王审核")
    SignEvent.objects.create(application=application, to_status=SignStatus.APPLIED, ip="203.0.113.7", city="杭州市")
    for _ in range(5):
        SignEvent.objects.create(
            application=application,
            from_status=SignStatus.APPLIED,
            to_status=SignStatus.AWAITING_SIGNATURE,
            actor_staff=staff,
            note="同意",
        )
    SignEvent.objects.create(application=application, kind=SignEvent.Kind.VIEWED, ip="203.0.113.8")

    with django_assert_num_queries(1):
        rows = audit_rows(application.events.select_related("actor_staff"))

    assert len(rows) == 7
    assert (rows[0].from_label, rows[0].to_label, rows[0].ip, rows[0].city) == ("", "签约申请", "203.0.113.7", "杭州市")
    assert rows[0].description == "提交简历并申请签约：— → 签约申请"
    assert rows[1].description == "审核通过：签约申请 → 待签约"
    assert rows[1].actor == f"后台：{staff}" and rows[1].note == "同意"
    assert rows[-1].description == "查看合同"


def test_masking_helpers():
    assert mask_id_number("11010119900101123X") == "110101********123X"
    assert mask_phone("13812345678") == "138****5678"
    assert mask_id_number("") == "" and mask_phone("123") == "***"
