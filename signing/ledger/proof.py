"""
解除（终止）劳动合同证明书 (劳动合同法 art. 50; SPEC §12): one A4 page naming the worker, the
employer, the term, the position, the years of service, the date and the ground of the ending —
drawn with the embedded CJK font of the certificate page (``signing.sealing.fonts``), the company
seal where the company has one, then signed by the employer with its company certificate, a
signature timestamp, a DSS and a document timestamp (PAdES B-LTA, ``seal_employer_pades``): it
verifies the way contracts do (``verify_document``, pdfsig). The document information records
``/ShanqianDocumentKind`` = ``proof`` and the application and contract ids.
"""

from __future__ import annotations

import datetime
import io
import logging
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from pypdf import PdfReader, PdfWriter
from reportlab.lib.pagesizes import A4
from reportlab.lib.utils import ImageReader
from reportlab.pdfgen import canvas

from shanqian.errors import UpstreamBusy

from ..pki.backends import get_ca_backend
from ..pki.credentials import company_credential
from ..pki.tsa import get_timestamper, tsa_trust_roots
from ..sealing.fonts import certificate_font
from ..sealing.pades import seal_employer_pades
from ..sealing.verification import META_APPLICATION_ID, META_DOCUMENT_KIND, PROOF_KIND

logger = logging.getLogger(__name__)

META_CONTRACT_ID = "/ShanqianContractId"
TITLE = "解除（终止）劳动合同证明书"


@dataclass(frozen=True)
class ProofFacts:
    contract_id: int
    application_id: int
    real_name: str
    id_number: str
    company_name: str
    credit_code: str
    work_pos: str
    term: str
    service_start: datetime.date
    ended_on: datetime.date
    dissolved: bool  # 解除 (an article's ground) or 终止 (expiry, other)
    ground: str
    issued_on: datetime.date


def service_length(start: datetime.date, end: datetime.date) -> str:
    """Years and months of service from ``start`` to ``end`` inclusive, as the proof states them."""
    span = relativedelta(end + datetime.timedelta(days=1), start)
    years, months = max(span.years, 0), max(span.months, 0)
    if years and months:
        return f"{years} 年 {months} 个月"
    if years:
        return f"{years} 年"
    return f"{months} 个月" if months else "不满一个月"


def _draw(facts: ProofFacts, seal_png: bytes | None) -> bytes:
    font = certificate_font()
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1)
    pdf.setTitle(TITLE)
    width, height = A4
    pdf.setFont(font.name, 20)
    pdf.drawCentredString(width / 2, height - 90, TITLE)
    pdf.setFont(font.name, 12)
    verb = "解除" if facts.dissolved else "终止"
    lines = [
        f"劳动者：{facts.real_name}　　身份证号码：{facts.id_number}",
        "",
        f"兹证明，上述劳动者与本单位（{facts.company_name}）订立的劳动合同，",
        f"合同期限：{facts.term}；",
        f"工作岗位：{facts.work_pos}；",
        f"在本单位工作年限：自 {facts.service_start:%Y年%m月%d日} 至 {facts.ended_on:%Y年%m月%d日}，"
        f"共 {service_length(facts.service_start, facts.ended_on)}；",
        f"已于 {facts.ended_on:%Y年%m月%d日} {verb}劳动合同，{verb}事由：{facts.ground}。",
        "",
        "依照《中华人民共和国劳动合同法》第五十条的规定出具本证明。",
        "劳动者应在十五日内办理档案和社会保险关系转移手续，本单位依法予以办理。",
        "",
        "特此证明。",
    ]
    y = height - 150
    for line in lines:
        pdf.drawString(72, y, line)
        y -= 26
    y -= 30
    pdf.drawRightString(width - 72, y, f"用人单位（盖章）：{facts.company_name}")
    if facts.credit_code:
        pdf.drawRightString(width - 72, y - 22, f"统一社会信用代码：{facts.credit_code}")
    pdf.drawRightString(width - 72, y - 44, f"出具日期：{facts.issued_on:%Y年%m月%d日}")
    if seal_png:
        pdf.drawImage(ImageReader(io.BytesIO(seal_png)), width - 72 - 150, y - 90, 120, 120, mask="auto")
    pdf.setFont(font.name, 8)
    pdf.drawString(
        72,
        60,
        f"劳动合同编号 {facts.contract_id}　签约申请编号 {facts.application_id}　"
        "本证明书经用人单位电子签名并加盖可信时间戳，可用 manage.py verify_document 或 pdfsig 核验。",
    )
    pdf.showPage()
    pdf.save()
    # The ids the verification reads back, in the signed revision's document information.
    reader = PdfReader(io.BytesIO(buffer.getvalue()))
    writer = PdfWriter(clone_from=reader)
    writer.add_metadata(
        {
            META_DOCUMENT_KIND: PROOF_KIND,
            META_APPLICATION_ID: str(facts.application_id),
            META_CONTRACT_ID: str(facts.contract_id),
            "/Title": TITLE,
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def render_and_sign(*, facts: ProofFacts, company, seal_png: bytes | None = None) -> bytes:
    """The signed proof (PAdES B-LTA). Raises ``UpstreamBusy`` (503) when the PKI or the TSA is not usable."""
    pdf = _draw(facts, seal_png)
    try:
        employer = company_credential(company)
        backend = get_ca_backend()
        material = backend.validation_material()
        timestamper = get_timestamper()
        trust_roots = tsa_trust_roots()
    except ImproperlyConfigured as exc:
        logger.error("ledger: PKI or TSA not usable for a proof of ending: %s", exc)
        raise UpstreamBusy("签名服务暂时不可用，证明书未出具，请稍后重试") from exc
    outcome = seal_employer_pades(
        pdf,
        employer=employer,
        signing_time=timezone.now(),
        timestamper=timestamper,
        material=material,
        reason=f"{TITLE}（用人单位盖章）",
        tsa_trust_roots=trust_roots,
        # As for a contract: the company certificate's status made now, so a validator years later
        # places the signature inside the certificate's validity with fresh revocation data.
        signer_statuses=[backend.signer_status(employer.record)],
    )
    return outcome.pdf
