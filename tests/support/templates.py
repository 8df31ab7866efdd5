"""Contract templates for tests: an AcroForm one (fields named by vocabulary keys) and an anchored one."""

import io

from reportlab.lib.pagesizes import A4
from reportlab.pdfgen import canvas

from signing.sealing.fonts import certificate_font

HEIGHT = A4[1]


def acroform_template(fields=(("real_name", 100, 100, 150, 20),), *, pages: int = 1) -> bytes:
    """A4 pages with embedded-font text and AcroForm text fields at top-left boxes (x, y, w, h)."""
    font = certificate_font().name
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
    for page in range(1, pages + 1):
        pdf.setFont(font, 14)
        pdf.drawString(72, HEIGHT - 60, f"劳动合同（表单域） 第 {page} 页")
        if page == 1:
            for name, x, y, width, height in fields:
                pdf.acroForm.textfield(
                    name=name, x=x, y=HEIGHT - y - height, width=width, height=height, borderWidth=0, forceBorder=False
                )
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


def anchored_template(lines, *, pages: int = 1) -> bytes:
    """A4 pages with the given label lines (e.g. "乙方（签名）：") in the embedded CJK font, 28 pt apart."""
    font = certificate_font().name
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
    for page in range(1, pages + 1):
        pdf.setFont(font, 11)
        if page == 1:
            y = HEIGHT - 80
            for line in lines:
                pdf.drawString(72, y, line)
                y -= 28
        else:
            pdf.drawString(72, HEIGHT - 80, f"第 {page} 页")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()
