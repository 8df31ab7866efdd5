"""
The evidence report (证据报告, ``report.pdf`` of the 出证包): a document a
labour-arbitration clerk can read without tools — Chinese, fonts embedded, one
page (or more) per part:

一 概要 (the application, the parties, the files and what verification says) ·
二 身份核验 · 三 签署意愿 · 四 全部事件 (every event with IP, user agent and
location) · 五 数字证书 (serials, fingerprints, validity, revocation) ·
六 可信时间戳 · 七 如何核验.

``render_report(EvidenceFacts)`` is a pure function over plain values.
"""

import datetime
import io
from dataclasses import dataclass, field

from reportlab.lib import colors
from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer, TableStyle

from ..sealing.certificate import (
    CONTENT_WIDTH,
    PAGE_MARGIN,
    AuditEventRow,
    TrailTable,
    _escape,
    _kv_table,
    _Styles,
    format_time,
)
from ..sealing.fonts import certificate_font


@dataclass(frozen=True)
class CertificateFact:
    role: str  # 劳动者事件证书 / 单位证书 / 时间戳服务 / 签发 CA / 根 CA
    subject: str
    serial: str
    fingerprint_sha256: str
    not_before: datetime.datetime
    not_after: datetime.datetime
    revocation: str  # 未吊销 / 已于 … 吊销（原因）


@dataclass(frozen=True)
class TimestampFact:
    what: str
    authority: str
    time: datetime.datetime | None
    valid: bool


@dataclass(frozen=True)
class EvidenceFacts:
    application_id: int
    generated_at: datetime.datetime
    company_name: str
    employee_name: str
    id_number_masked: str
    phone_masked: str
    contract_name: str
    terms: str
    files: list[tuple[str, str]]  # (name, SHA-256)
    verification: str  # the verification report's message
    level: str
    realname: str
    intent: list[AuditEventRow]
    events: list[AuditEventRow]
    certificates: list[CertificateFact] = field(default_factory=list)
    timestamps: list[TimestampFact] = field(default_factory=list)
    root_fingerprint: str = ""
    pki_url: str = ""


def _events_table(rows: list[AuditEventRow], styles: _Styles):
    widths = [28 * mm, 24 * mm, 18 * mm, 22 * mm, 30 * mm]
    widths.append(CONTENT_WIDTH - sum(widths))
    header = [
        Paragraph(h, styles.head)
        for h in ("时间（北京时间）", "事件", "操作人", "IP / 城市", "设备（User-Agent）", "详情")
    ]
    data = [header]
    for row in rows:
        data.append(
            [
                Paragraph(_escape(format_time(row.time)), styles.cell),
                Paragraph(_escape(row.description), styles.cell),
                Paragraph(_escape(row.actor), styles.cell),
                Paragraph(_escape(" / ".join(x for x in (row.ip, row.city) if x) or "—"), styles.cell),
                Paragraph(_escape(row.user_agent or "—"), styles.cell),
                Paragraph(_escape(row.note), styles.cell),
            ]
        )
    table = TrailTable(data, colWidths=widths, repeatRows=1)
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


def render_report(facts: EvidenceFacts) -> bytes:
    font = certificate_font()
    styles = _Styles(font.name)
    story = [
        Paragraph("电子劳动合同签署证据报告", styles.title),
        Paragraph(
            f"闪签云 · 申请编号 {facts.application_id} · 生成时间 {format_time(facts.generated_at, with_zone=True)}",
            styles.subtitle,
        ),
        Paragraph("一、概要", styles.section),
        _kv_table(
            [
                ("申请编号", str(facts.application_id)),
                ("用人单位（甲方）", facts.company_name),
                ("劳动者（乙方）", facts.employee_name),
                ("合同", facts.contract_name),
                ("约定条款", facts.terms),
                ("核验结论", facts.verification),
                ("签名级别", f"PAdES {facts.level}" if facts.level else "—"),
            ],
            styles,
        ),
        Paragraph("本出证包内的文件及其 SHA-256", styles.section),
        _kv_table(facts.files, styles, value_style=styles.mono),
        PageBreak(),
        Paragraph("二、身份核验", styles.section),
        _kv_table(
            [
                ("姓名", facts.employee_name),
                ("身份证号", facts.id_number_masked),
                ("手机号", facts.phone_masked),
                ("实名认证", facts.realname or "无记录"),
            ],
            styles,
        ),
        Paragraph(
            "劳动者的事件证书以其真实姓名为主体名称，证书中的 serialNumber 为身份证号的带密钥摘要（HMAC-SHA256），"
            "不含身份证号本身；平台持有密钥，可在需要时就指定身份证号复核是否一致。",
            styles.note,
        ),
        PageBreak(),
        Paragraph("三、签署意愿", styles.section),
        _events_table(facts.intent, styles),
        Spacer(1, 2 * mm),
        Paragraph(
            "签署验证码发送至劳动者简历登记的手机号，仅用于本次签署、5 分钟有效、以摘要保存；"
            "验证通过后平台即时为劳动者签发仅用于本次签署的事件证书，签名完成后私钥随即销毁、从未保存。",
            styles.note,
        ),
        PageBreak(),
        Paragraph("四、全部事件（含 IP、设备与位置）", styles.section),
        _events_table(facts.events, styles),
        PageBreak(),
        Paragraph("五、数字证书", styles.section),
    ]
    for cert in facts.certificates:
        story.append(
            _kv_table(
                [
                    ("用途", cert.role),
                    ("主体", cert.subject),
                    ("序列号", cert.serial),
                    ("SHA-256 指纹", cert.fingerprint_sha256),
                    ("有效期", f"{format_time(cert.not_before)} 至 {format_time(cert.not_after)}"),
                    ("吊销状态", cert.revocation),
                ],
                styles,
            )
        )
        story.append(Spacer(1, 3 * mm))
    story += [PageBreak(), Paragraph("六、可信时间戳", styles.section)]
    if facts.timestamps:
        for stamp in facts.timestamps:
            story.append(
                _kv_table(
                    [
                        ("所加盖于", stamp.what),
                        ("时间戳服务", stamp.authority),
                        ("时间", format_time(stamp.time, with_zone=True) if stamp.time else "—"),
                        ("验证", "有效" if stamp.valid else "无效"),
                    ],
                    styles,
                )
            )
            story.append(Spacer(1, 3 * mm))
    else:
        story.append(Paragraph("本文件不含可信时间戳。", styles.value))
    story += [
        PageBreak(),
        Paragraph("七、如何核验", styles.section),
        Paragraph(
            "1. 核对文件：计算 signed.pdf 的 SHA-256，应与本报告第一部分所列一致；"
            "manifest.json 列出包内每个文件的 SHA-256。",
            styles.value,
        ),
        Paragraph(
            f"2. 信任锚：certs/root.crt 为平台根证书（SHA-256 指纹 {_escape(facts.root_fingerprint)}），"
            f"亦可从 {_escape(facts.pki_url)}/pki/root.crt 下载比对；吊销列表见 certs/ 与 /pki/issuing.crl。",
            styles.value,
        ),
        Paragraph(
            "3. 独立验证：以 poppler 的 pdfsig（将根证书导入 NSS 证书库并设为信任）查看两个签名均为"
            "“Signature is Valid”；以 pyHanko 的 AdES 长期验证（仅信任该根证书、只使用文件内的验证数据）"
            "可得 PAdES B-LTA 级别。",
            styles.value,
        ),
        Paragraph(
            "4. 平台核验：后台“核验签署文件”页面或 manage.py verify_document signed.pdf，"
            "将列出每个签名的签署人、签发机构、时间戳时间与机构、覆盖范围与级别，并拒绝签署后追加的任何修订。",
            styles.value,
        ),
    ]

    def decorate(canvas, doc):
        canvas.saveState()
        canvas.setFont(font.name, 8)
        canvas.setFillColor(colors.grey)
        canvas.drawString(PAGE_MARGIN, A4[1] - 11 * mm, f"闪签云 · 签署证据报告 · 申请编号 {facts.application_id}")
        canvas.drawRightString(A4[0] - PAGE_MARGIN, 10 * mm, f"第 {doc.page} 页")
        canvas.restoreState()

    buffer = io.BytesIO()
    SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=PAGE_MARGIN,
        rightMargin=PAGE_MARGIN,
        topMargin=PAGE_MARGIN,
        bottomMargin=PAGE_MARGIN,
        title="电子劳动合同签署证据报告",
        author="闪签云",
        creator="闪签云",
        invariant=1,
        # Every page's preamble selects the initial font: Helvetica (not embedded) unless told otherwise.
        initialFontName=font.name,
    ).build(story, onFirstPage=decorate, onLaterPages=decorate)
    return buffer.getvalue()
