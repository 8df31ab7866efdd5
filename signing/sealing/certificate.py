"""
The certificate page (存证证书) appended to a signed contract.

``CertificateData`` is everything the page shows, as plain values the signing
service assembles; ``render_certificate`` draws it with reportlab into a PDF of
its own (one page, more when the audit trail is long), in an embedded CJK font.
Times print in Asia/Shanghai with their UTC offset; the signing time is the
instant both signatures carry as ``/M`` (whole seconds).

The page is part of what the two signatures cover, so it names what is known
before they are made: the certificates (serials), the seal authorisation and
the time-stamping authority. The tokens' own times and the sealed file's
SHA-256 cannot be inside the file they describe; the evidence report lists
them. A long audit trail breaks across pages, never leaving one row alone on
a page (``TrailTable``).
"""

import datetime
import io
from dataclasses import dataclass, field
from decimal import Decimal
from zoneinfo import ZoneInfo

from PIL import Image as PILImage
from PIL import UnidentifiedImageError
from reportlab.lib import colors
from reportlab.lib.enums import TA_CENTER
from reportlab.lib.pagesizes import A4
from reportlab.lib.styles import ParagraphStyle
from reportlab.lib.units import mm
from reportlab.platypus import Image, Paragraph, SimpleDocTemplate, Spacer, Table, TableStyle
from reportlab.platypus.flowables import KeepTogether

from shanqian.errors import InvalidInput

from ..models import SignEvent, SignStatus
from .fonts import certificate_font

SHANGHAI = ZoneInfo("Asia/Shanghai")
PAGE_MARGIN = 18 * mm
CONTENT_WIDTH = A4[0] - 2 * PAGE_MARGIN
SIGNATURE_BOX = (70 * mm, 30 * mm)
# Signature images are re-encoded uploads, already capped; this guards direct callers.
SIGNATURE_MAX_PIXELS = 40_000_000


@dataclass(frozen=True)
class AuditEventRow:
    """One row of the audit trail: a status transition or a fact such as 查看合同."""

    time: datetime.datetime
    from_label: str = ""
    to_label: str = ""
    actor: str = ""
    ip: str = ""
    city: str = ""
    note: str = ""
    action: str = ""  # for events without a transition, e.g. "查看合同"
    user_agent: str = ""  # the evidence report shows it; the certificate page has no room
    kind: str = ""  # SignEvent.Kind value, or "realname" for the real-name decision
    data: dict = field(default_factory=dict, compare=False)  # machine-readable facts (audit.json)

    @property
    def description(self) -> str:
        if self.from_label or self.to_label:
            move = f"{self.from_label or '—'} → {self.to_label or '—'}"
            return f"{self.action}：{move}" if self.action else move
        return self.action or "—"


# Within one instant (the rows a signing writes share it), the order in which the facts happen.
_SAME_INSTANT_ORDER = {
    "realname": 0,
    "viewed": 1,
    "intent_sent": 2,
    "intent_ok": 3,
    "signature": 4,
    "transition": 5,
    "event_cert": 6,
    "seal_applied": 7,
    "timestamp": 8,
    "sealed": 9,
    "evidence": 10,
}


def trail_order(rows) -> list[AuditEventRow]:
    """
    The trail in time order, to the microsecond; rows of the same instant in
    the order their facts happen (the code accepted before the signature,
    the seal before the sealing) and otherwise as given (stable).
    """
    return sorted(rows, key=lambda row: (row.time, _SAME_INSTANT_ORDER.get(row.kind, 5)))


@dataclass(frozen=True)
class CertificateData:
    application_id: int
    employee_name: str
    id_number_masked: str
    phone_masked: str
    company_name: str
    contract_name: str
    contract_body: str  # 合同主体
    position: str
    entry_date: datetime.date | None
    salary: Decimal
    sign_years: int
    signed_at: datetime.datetime  # aware
    ip: str
    lng: Decimal | None
    lat: Decimal | None
    city: str
    signature_image: bytes
    events: list[AuditEventRow] = field(default_factory=list)
    # The SHA-256 of the document as read and of the signature image.
    contract_sha256: str = ""
    signature_sha256: str = ""
    # The certificates and authorities of SPEC §10 (empty: the section is left out).
    realname: str = ""  # e.g. "人工审核（王审核，2025-03-01 09:00:00）"
    event_certificate_serial: str = ""
    event_certificate_subject: str = ""
    company_certificate_serial: str = ""
    company_certificate_subject: str = ""
    certificate_issuer: str = ""
    seal_authorization: str = ""
    tsa_authority: str = ""


def format_time(value: datetime.datetime, *, with_zone: bool = False) -> str:
    if value.tzinfo is None:
        raise ValueError("certificate times must be timezone-aware")
    local = value.astimezone(SHANGHAI)
    text = local.strftime("%Y-%m-%d %H:%M:%S")
    if with_zone:
        offset = local.strftime("%z")
        text += f" {offset[:3]}:{offset[3:]}（Asia/Shanghai，北京时间）"
    return text


def format_salary(value: Decimal) -> str:
    return f"{Decimal(value):,.2f} 元"


def format_location(lng: Decimal | None, lat: Decimal | None) -> str:
    if lng is None or lat is None:
        return "未提供"
    return f"经度 {lng}，纬度 {lat}"


def _signature_png(data: bytes) -> tuple[io.BytesIO, int, int]:
    """Decode the signature image and flatten any transparency onto white."""
    try:
        with PILImage.open(io.BytesIO(data)) as image:
            if image.width * image.height > SIGNATURE_MAX_PIXELS:
                raise InvalidInput("签名图片尺寸过大，请重新签名")
            image.load()
            rgba = image.convert("RGBA")
    except (UnidentifiedImageError, OSError, ValueError, PILImage.DecompressionBombError) as exc:
        raise InvalidInput("签名图片无法识别，请重新签名") from exc
    flat = PILImage.new("RGB", rgba.size, (255, 255, 255))
    flat.paste(rgba, mask=rgba.getchannel("A"))
    out = io.BytesIO()
    flat.save(out, "PNG")
    out.seek(0)
    return out, flat.width, flat.height


class _Styles:
    def __init__(self, font_name: str):
        self.title = ParagraphStyle(
            "title", fontName=font_name, fontSize=18, leading=24, alignment=TA_CENTER, spaceAfter=2 * mm
        )
        self.subtitle = ParagraphStyle(
            "subtitle", fontName=font_name, fontSize=9, leading=13, alignment=TA_CENTER, textColor=colors.grey
        )
        self.section = ParagraphStyle(
            "section", fontName=font_name, fontSize=11.5, leading=15, spaceBefore=3 * mm, spaceAfter=1 * mm
        )
        self.label = ParagraphStyle(
            "label", fontName=font_name, fontSize=9.5, leading=13, textColor=colors.HexColor("#555555")
        )
        self.value = ParagraphStyle("value", fontName=font_name, fontSize=9.5, leading=13, wordWrap="CJK")
        self.mono = ParagraphStyle("mono", fontName=font_name, fontSize=8.5, leading=12)
        self.cell = ParagraphStyle("cell", fontName=font_name, fontSize=8, leading=10.5, wordWrap="CJK")
        self.head = ParagraphStyle(
            "head", fontName=font_name, fontSize=8, leading=10.5, textColor=colors.HexColor("#333333")
        )
        self.note = ParagraphStyle(
            "note", fontName=font_name, fontSize=8.5, leading=12.5, textColor=colors.HexColor("#444444"), wordWrap="CJK"
        )


def _escape(text) -> str:
    return str(text if text not in (None, "") else "—").replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")


def _kv_table(rows: list[tuple[str, str]], styles: _Styles, *, value_style=None) -> Table:
    value_style = value_style or styles.value
    table = Table(
        [[Paragraph(_escape(k), styles.label), Paragraph(_escape(v), value_style)] for k, v in rows],
        colWidths=[32 * mm, CONTENT_WIDTH - 32 * mm],
    )
    table.setStyle(
        TableStyle(
            [
                # Cells are Paragraphs, but reportlab still selects the cell font (Helvetica, not
                # embedded) while drawing them: name ours.
                ("FONTNAME", (0, 0), (-1, -1), styles.value.fontName),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("LINEBELOW", (0, 0), (-1, -1), 0.25, colors.HexColor("#dddddd")),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


class TrailTable(Table):
    """
    A table that never leaves one audit row alone on a page: a split must keep at least two data
    rows on each side, else the table moves on whole. Checked on the parts reportlab proposes
    (its ``rowSplitRange`` alone let a wrapped last row spill: the remainder part, re-split in the
    space left, ended as a header and one row); each part is a ``TrailTable`` again, so the rule
    holds at every page boundary of a long trail.
    """

    MIN_ROWS = 2

    def split(self, availWidth, availHeight):
        parts = super().split(availWidth, availHeight)
        if len(parts) != 2:
            return parts
        head = self.repeatRows if isinstance(self.repeatRows, int) else max(self.repeatRows) + 1
        first = len(parts[0]._cellvalues) - head
        rest = len(parts[1]._cellvalues) - head
        if first < self.MIN_ROWS:
            return []
        if rest >= self.MIN_ROWS:
            return parts
        # Give rows back to the next page: the first part ends MIN_ROWS before the last row.
        keep = first + rest - self.MIN_ROWS
        if keep < self.MIN_ROWS:
            return []
        height = sum(self._rowHeights[: head + keep]) + 0.01
        parts = super().split(availWidth, height)
        if len(parts) != 2 or len(parts[0]._cellvalues) - head < self.MIN_ROWS:
            return []
        return parts


def _events_table(events: list[AuditEventRow], styles: _Styles) -> Table:
    # The note column carries digests and serials: it gets the room.
    widths = [30 * mm, 28 * mm, 21 * mm, 24 * mm, 14 * mm]
    widths.append(CONTENT_WIDTH - sum(widths))
    header = [Paragraph(h, styles.head) for h in ("时间（北京时间）", "操作", "操作人", "IP", "城市", "备注")]
    rows = [header]
    for event in events:
        rows.append(
            [
                Paragraph(_escape(format_time(event.time)), styles.cell),
                Paragraph(_escape(event.description), styles.cell),
                Paragraph(_escape(event.actor), styles.cell),
                Paragraph(_escape(event.ip), styles.cell),
                Paragraph(_escape(event.city), styles.cell),
                Paragraph(_escape(event.note), styles.cell),
            ]
        )
    if not events:
        rows.append([Paragraph("（无记录）", styles.cell), "", "", "", "", ""])
    # repeatRows: a long trail breaks across pages with the header repeated.
    table = TrailTable(rows, colWidths=widths, repeatRows=1)
    table.setStyle(
        TableStyle(
            [
                ("FONTNAME", (0, 0), (-1, -1), styles.cell.fontName),
                ("VALIGN", (0, 0), (-1, -1), "TOP"),
                ("BACKGROUND", (0, 0), (-1, 0), colors.HexColor("#f0f0f0")),
                ("GRID", (0, 0), (-1, -1), 0.25, colors.HexColor("#cccccc")),
                ("TOPPADDING", (0, 0), (-1, -1), 2),
                ("BOTTOMPADDING", (0, 0), (-1, -1), 2),
            ]
        )
    )
    return table


NUMERALS = "一二三四五六七八九十"


def _numeral(data: CertificateData, position: int) -> str:
    """Section numbers shift by one when the certificates section is shown (it is the fourth)."""
    return NUMERALS[position - 1 + (1 if data.event_certificate_serial and position >= 4 else 0)]


def _certificates_section(data: CertificateData, styles: _Styles) -> list:
    if not data.event_certificate_serial:
        return []
    rows = [
        ("劳动者事件证书", f"序列号 {data.event_certificate_serial}"),
        ("证书主体", data.event_certificate_subject),
        ("用人单位证书", f"序列号 {data.company_certificate_serial}"),
        ("证书主体", data.company_certificate_subject),
        ("签发机构", data.certificate_issuer),
        ("印章授权", data.seal_authorization),
        ("时间戳服务", data.tsa_authority or "未配置（本文件不含可信时间戳）"),
    ]
    return [Paragraph("四、数字证书与可信时间", styles.section), _kv_table(rows, styles)]


def _closing_note(data: CertificateData) -> str:
    if not data.event_certificate_serial:
        return (
            "说明：本证书由闪签云在签署完成时自动生成，与合同正文共同构成完整的签署文件。"
            "文件整体以数字证书签名（PAdES），签名后对文件的任何改动都会使签名失效，"
            "可在后台“验证签署文件”页面或以 manage.py verify_document 核验。"
        )
    return (
        "说明：本证书由闪签云在签署时自动生成，与合同正文共同构成完整的签署文件。"
        "劳动者以签署时即时签发、仅用于本次签署的事件证书签名，其私钥签名后即销毁、从未保存；"
        "用人单位依据上述印章授权以单位证书盖章；两个签名各带可信时间戳，"
        "文件另附证书链、吊销列表与文档时间戳（PAdES B-LTA），签署后对文件的任何改动都会被发现。"
        "时间戳的具体时间与签署文件的 SHA-256 记录于出证包的证据报告；"
        "可在后台“核验签署文件”页面或以 manage.py verify_document 核验。"
    )


def render_certificate(data: CertificateData, *, contract_pages: int) -> bytes:
    """The certificate page(s) as a standalone PDF."""
    font = certificate_font()
    styles = _Styles(font.name)
    signature_png, width, height = _signature_png(data.signature_image)
    scale = min(SIGNATURE_BOX[0] / width, SIGNATURE_BOX[1] / height)
    signature = Image(signature_png, width=width * scale, height=height * scale, hAlign="LEFT")

    story = [
        Paragraph("电子签约存证证书", styles.title),
        Paragraph(
            f"闪签云电子签约 · 申请编号 {data.application_id} · 本证书附于合同正文（共 {contract_pages} 页）之后",
            styles.subtitle,
        ),
        Paragraph("一、签约信息", styles.section),
        _kv_table(
            [
                ("申请编号", str(data.application_id)),
                ("合同名称", data.contract_name),
                ("合同主体", data.contract_body),
                ("用人单位", data.company_name),
                ("岗位", data.position),
                ("入职日期", data.entry_date.isoformat() if data.entry_date else ""),
                ("合同年限", f"{data.sign_years} 年"),
                ("薪资", format_salary(data.salary)),
            ],
            styles,
        ),
        Paragraph("二、签署人身份", styles.section),
        _kv_table(
            [
                ("姓名", data.employee_name),
                ("身份证号", data.id_number_masked),
                ("手机号", data.phone_masked),
                *([("实名认证", data.realname)] if data.realname else []),
            ],
            styles,
        ),
        Paragraph("三、签署环境", styles.section),
        _kv_table(
            [
                ("签署时间", format_time(data.signed_at, with_zone=True)),
                ("IP 地址", data.ip),
                ("位置", format_location(data.lng, data.lat)),
                ("城市", data.city),
            ],
            styles,
        ),
        *_certificates_section(data, styles),
        Paragraph(f"{_numeral(data, 4)}、文件指纹（SHA-256）", styles.section),
        _kv_table(
            [("合同文件", data.contract_sha256), ("签名图片", data.signature_sha256)],
            styles,
            value_style=styles.mono,
        ),
        KeepTogether([Paragraph(f"{_numeral(data, 5)}、手写签名", styles.section), signature]),
        Paragraph(f"{_numeral(data, 6)}、签约过程记录", styles.section),
        _events_table(data.events, styles),
        Spacer(1, 3 * mm),
        Paragraph(_closing_note(data), styles.note),
    ]

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont(font.name, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(PAGE_MARGIN, A4[1] - 11 * mm, f"闪签云 · 电子签约存证证书 · 申请编号 {data.application_id}")
        canvas.drawRightString(A4[0] - PAGE_MARGIN, 10 * mm, f"存证证书 第 {doc.page} 页")
        canvas.restoreState()

    buffer = io.BytesIO()
    doc = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=PAGE_MARGIN,
        rightMargin=PAGE_MARGIN,
        topMargin=PAGE_MARGIN,
        bottomMargin=PAGE_MARGIN,
        title="电子签约存证证书",
        author="闪签云",
        creator="闪签云",
        invariant=1,
        # Every page's preamble selects the initial font: Helvetica (not embedded) unless told otherwise.
        initialFontName=font.name,
    )
    doc.build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()


TRANSITION_ACTIONS = {
    (None, 1): "提交简历并申请签约",
    (1, 2): "审核通过",
    (1, 4): "驳回",
    (2, 3): "签署完成",
}


def audit_rows(events) -> list[AuditEventRow]:
    """
    Certificate rows from ``SignEvent`` objects, in the order given. Pass a
    queryset with ``select_related("actor_staff")`` so the actor names cost no
    query per row.
    """

    def label(status) -> str:
        return SignStatus(status).label if status is not None else ""

    rows = []
    for event in events:
        if event.kind == SignEvent.Kind.TRANSITION:
            action = TRANSITION_ACTIONS.get((event.from_status, event.to_status), "")
            if event.to_status == SignStatus.CANCELLED:
                action = "取消"
        else:
            action = event.get_kind_display()
        rows.append(
            AuditEventRow(
                time=event.created_at,
                from_label=label(event.from_status),
                to_label=label(event.to_status),
                actor=event.actor_display,
                ip=event.ip or "",
                city=event.city or "",
                note=event.note or "",
                action=action,
                user_agent=event.user_agent or "",
                kind=event.kind,
            )
        )
    return rows
