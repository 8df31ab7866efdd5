"""Builders shared by the sealing tests: a real contract PDF, certificate data, text extraction."""

import datetime
import io
import re
from decimal import Decimal

from pypdf import PdfReader
from reportlab.lib.pagesizes import A4
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfgen import canvas

from signing.sealing import AuditEventRow, CertificateData
from tests.factories import png_bytes

UTC = datetime.UTC


def contract_pdf(pages: int = 4) -> bytes:
    """A multi-page labour contract with Chinese body text on every page."""
    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(1, pages + 1):
        pdf.setFont("STSong-Light", 16)
        pdf.drawString(72, 780, f"劳动合同 第 {page} 页")
        pdf.setFont("STSong-Light", 10)
        for line in range(40):
            pdf.drawString(
                72, 750 - line * 16, f"第 {page}.{line + 1} 条 甲乙双方经平等协商，自愿签订本合同，共同遵守。"
            )
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def events(count: int = 3) -> list[AuditEventRow]:
    base = datetime.datetime(2025, 3, 1, 1, 0, 0, tzinfo=UTC)
    rows = [
        AuditEventRow(
            time=base, from_label="", to_label="签约申请", actor="员工本人", ip="203.0.113.7", city="杭州市", note=""
        ),
        AuditEventRow(
            time=base + datetime.timedelta(hours=2),
            from_label="签约申请",
            to_label="待签约",
            actor="后台：王审核",
            ip="198.51.100.20",
            city="上海市",
            note="材料齐全，同意签约",
        ),
        AuditEventRow(
            time=base + datetime.timedelta(hours=5),
            from_label="待签约",
            to_label="已签约",
            actor="员工本人",
            ip="203.0.113.9",
            city="北京市",
            note="短信验证通过",
        ),
    ]
    for n in range(3, count):
        rows.append(
            AuditEventRow(
                time=base + datetime.timedelta(hours=5, minutes=n),
                action="查看合同",
                actor="员工本人",
                ip=f"192.0.2.{n % 250}",
                city="北京市",
                note=f"第{n}次查看合同记录",
            )
        )
    return rows


def certificate_data(**overrides) -> CertificateData:
    values = {
        "application_id": 4242,
        "employee_name": "李小雷",
        "id_number_masked": "1101**********1234",
        "phone_masked": "138****5678",
        "company_name": "闪签测试科技有限公司",
        "contract_name": "劳动合同（标准版）",
        "contract_body": "闪签测试科技（杭州）有限公司",
        "position": "高级工程师",
        "entry_date": datetime.date(2025, 3, 10),
        "salary": Decimal("12345.60"),
        "sign_years": 3,
        # 06:05:09 UTC is 14:05:09 in Shanghai.
        "signed_at": datetime.datetime(2025, 3, 1, 6, 5, 9, tzinfo=UTC),
        "ip": "203.0.113.9",
        "lng": Decimal("116.397128"),
        "lat": Decimal("39.916527"),
        "city": "北京市",
        "signature_image": png_bytes((300, 120), color=(20, 20, 120)),
        "events": events(),
    }
    values.update(overrides)
    return CertificateData(**values)


def page_texts(pdf: bytes) -> list[str]:
    return [page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages]


def squash(text: str) -> str:
    """Text without whitespace: table cells wrap, and extraction inserts line breaks where they do."""
    return re.sub(r"\s+", "", text)


def byte_range(pdf: bytes) -> list[int]:
    match = re.search(rb"/ByteRange\s*\[\s*(\d+)\s+(\d+)\s+(\d+)\s+(\d+)\s*\]", pdf)
    assert match, "no /ByteRange in the sealed PDF"
    return [int(x) for x in match.groups()]
