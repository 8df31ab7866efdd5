"""The certificate page: its sections, its fonts, and an audit trail that never leaves one row alone on a page."""

import io
import re
import subprocess

import pytest
from pypdf import PdfReader

from signing.sealing.certificate import render_certificate
from tests.signing.sealing_helpers import certificate_data, events

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
