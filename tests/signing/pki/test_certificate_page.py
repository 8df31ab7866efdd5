"""The certificate page: its sections, its fonts, and an audit trail that never leaves one row alone on a page."""

import datetime
import io
import re
import subprocess

import pytest
from pypdf import PdfReader

from signing.evidence.trail import application_trail
from signing.models import SignEvent
from signing.sealing.certificate import AuditEventRow, render_certificate
from tests.signing.sealing_helpers import certificate_data, events, page_texts, squash

ROW = re.compile(r"第(\d+)次查看合同记录")


def _rows_per_page(pdf: bytes) -> list[int]:
    pages = [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]
    counts = []
    for text in pages:
        squashed = re.sub(r"\s+", "", text)
        n = len(ROW.findall(squashed)) + sum(
            squashed.count(label) for label in ("签约申请→待签约", "—→签约申请", "待签约→已签约")
        )
        counts.append(n)
    return counts


@pytest.mark.parametrize("count", range(3, 48, 2))
def test_no_audit_row_is_left_alone_on_a_page(count):
    pdf = render_certificate(certificate_data(events=events(count)), contract_pages=2)

    counts = [n for n in _rows_per_page(pdf) if n]
    assert sum(counts) == count
    assert all(n >= 2 for n in counts), counts


def test_the_certificates_section_and_fonts(tmp_path):
    data = certificate_data(
        event_certificate_serial="ABC123",
        event_certificate_subject="CN=李小雷,serialNumber=FFFF,OU=闪签云签约申请 4242,C=CN",
        company_certificate_serial="DEF456",
        company_certificate_subject="CN=闪签测试科技有限公司,O=闪签测试科技有限公司,C=CN",
        certificate_issuer="CN=闪签云签发CA,O=闪签云,C=CN",
        seal_authorization="印章授权 #7（王授权）",
        tsa_authority="闪签云时间戳服务（开发）",
        realname="人工审核（后台：王审核）",
    )
    path = tmp_path / "certificate.pdf"
    path.write_bytes(render_certificate(data, contract_pages=2))

    text = re.sub(r"\s+", "", subprocess.run(["pdftotext", str(path), "-"], capture_output=True, text=True).stdout)
    for expected in (
        "四、数字证书与可信时间",
        "序列号ABC123",
        "序列号DEF456",
        "印章授权#7",
        "闪签云时间戳服务（开发）",
        "七、签约过程记录",
        "实名认证人工审核",
    ):
        assert expected in text, expected
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, text=True, check=True).stdout
    rows = [line.split() for line in fonts.splitlines()[2:] if line.strip()]
    assert rows and all(row[-5] == "yes" for row in rows), fonts


def _long_events(count: int) -> list[AuditEventRow]:
    """A trail of signing-like rows: notes with digests wrap over two lines, as the real ones do."""
    base = datetime.datetime(2025, 3, 1, 1, 0, 0, tzinfo=datetime.UTC)
    return [
        AuditEventRow(
            time=base + datetime.timedelta(minutes=n),
            action="查看合同",
            actor="员工本人",
            ip="203.0.113.9",
            city="北京市",
            note=f"第{n}次查看合同记录；合同 SHA-256：{'ab' * 32}" if n % 3 == 0 else f"第{n}次查看合同记录",
        )
        for n in range(count)
    ]


@pytest.mark.parametrize("count", range(2, 61))
def test_no_row_is_alone_on_a_page_at_any_count_across_the_page_boundaries(count):
    pdf = render_certificate(certificate_data(events=_long_events(count)), contract_pages=2)

    counts = [n for n in _rows_per_page(pdf) if n]
    assert sum(counts) == count
    assert all(n >= 2 for n in counts), counts


def test_rows_of_the_same_second_keep_the_trail_order_on_the_page(pki, signer):
    """Two events in the same second (shown alike, to the second): the page follows trail_order."""
    second = datetime.datetime(2026, 3, 2, 6, 5, 9, tzinfo=datetime.UTC)
    application = signer.application
    first = SignEvent.objects.create(application=application, kind=SignEvent.Kind.VIEWED, note="同秒事件甲")
    later = SignEvent.objects.create(application=application, kind=SignEvent.Kind.INTENT_SENT, note="同秒事件乙")
    # Written in the other order: the later one carries the smaller id.
    SignEvent.objects.filter(pk=later.pk).update(created_at=second.replace(microsecond=800_000))
    SignEvent.objects.filter(pk=first.pk).update(created_at=second.replace(microsecond=200_000))
    # And two of the very same instant, whose facts have an order of their own (code, then signature).
    signature = AuditEventRow(time=second.replace(microsecond=900_000), action="提交手写签名", kind="signature")
    accepted = AuditEventRow(time=second.replace(microsecond=900_000), action="签署验证码验证通过", kind="intent_ok")

    rows = application_trail(application, extra=[signature, accepted])
    pdf = render_certificate(certificate_data(events=rows), contract_pages=2)

    text = squash("".join(page_texts(pdf)))
    positions = [text.index(marker) for marker in ("同秒事件甲", "同秒事件乙", "签署验证码验证通过", "提交手写签名")]
    assert positions == sorted(positions), positions
    assert text.count("2026-03-0214:05:09") >= 4  # all four show the same second
