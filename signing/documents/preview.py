"""
预览 of a contract template (the admin placement page, SPEC §9): the template filled with sample
worker data, the employer's own particulars and seal, a sample handwritten signature and today's
date — exactly as ``render.fill_pdf`` draws a real contract, nothing stored.
"""

from __future__ import annotations

import datetime
import io

from django.utils import timezone
from PIL import Image, ImageDraw

from contracts.models import CompanySeal, Contract, Placement
from contracts.seals import round_seal_png
from contracts.services import contract_template_bytes
from contracts.terms import probation_end, term_end

from .render import PageBox, fill_pdf
from .values import format_date, rmb_upper

SAMPLE_SALARY = "8500.00"


def sample_values(contract: Contract, *, today: datetime.date | None = None) -> dict[str, str]:
    """Every vocabulary value: the employer's real particulars (placeholders where blank), a sample worker and terms."""
    today = today or timezone.localdate()
    company = contract.company
    end = term_end(today, contract.sign_year)
    return {
        "company_name": company.company_name,
        "credit_code": company.credit_code or "91110000000000000X（示例）",
        "company_address": company.company_address or "（用人单位住所）",
        "legal_representative": company.legal_representative or "（法定代表人）",
        "real_name": "张示例",
        "id_number": "110101199001011237",
        "gender": "男",
        "phone": "13800138000",
        "acct_address": "北京市北京市东城区示例街道 1 号",
        "address": "上海市上海市浦东新区示例路 100 弄 2 号 301 室",
        "em_contact": "李示例 13900139000",
        "work_pos": "示例岗位",
        "work_location": company.company_address or "（工作地点）",
        "entry_date": format_date(today),
        "end_date": format_date(end) if end else "无固定期限",
        "sign_year": str(contract.sign_year) if contract.sign_year else "无固定期限",
        "probation_months": "2",
        "probation_end": format_date(probation_end(today, 2)),
        "salary": SAMPLE_SALARY,
        "salary_upper": rmb_upper(SAMPLE_SALARY),
        "working_hours": "标准工时制",
        "sign_date": format_date(today),
    }


def sample_signature_png() -> bytes:
    """A handwritten-looking stroke on a transparent background (what a worker's signature upload is)."""
    image = Image.new("RGBA", (360, 140), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    strokes = [
        [(30, 90), (60, 40), (80, 100), (110, 35), (130, 95)],
        [(150, 60), (200, 55), (175, 30), (180, 110)],
        [(220, 100), (250, 40), (280, 100), (300, 50), (330, 85)],
    ]
    for stroke in strokes:
        draw.line(stroke, fill=(10, 10, 40, 255), width=7, joint="curve")
    out = io.BytesIO()
    image.save(out, "PNG")
    return out.getvalue()


def preview_pdf(contract: Contract) -> bytes:
    """The template with every placement filled (sample data, the company's seal or a generated one)."""
    template = contract_template_bytes(contract)
    boxes = [
        PageBox(key=row["key"], page=row["page"], x=row["x"], y=row["y"], width=row["width"], height=row["height"])
        for row in Placement.objects.filter(contract=contract).values("key", "page", "x", "y", "width", "height")
    ]
    seal = CompanySeal.objects.filter(company_id=contract.company_id).first()
    if seal is not None:
        with seal.image.open("rb") as handle:
            seal_png = handle.read()
    else:
        seal_png = round_seal_png(contract.company.company_name).content
    return fill_pdf(
        template,
        boxes,
        texts=sample_values(contract),
        images={"employee_signature": sample_signature_png(), "company_seal": seal_png},
        seam=seal_png,
    )
