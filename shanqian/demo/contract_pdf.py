"""
The demo's labour-contract template: a multi-page Chinese PDF drawn with reportlab's built-in CID
font (no font file needed), so ``seed_demo`` gives every demo employer a real template to sign.
"""

import io

_FONT = "STSong-Light"


def _contract_clauses(*, years: int, city: str) -> list[tuple[str, list[str]]]:
    return [
        (
            "第一条 合同期限",
            [
                f"本合同为固定期限劳动合同，期限 {years} 年，自乙方实际入职之日起计算。"
                "其中试用期按照《中华人民共和国劳动合同法》第十九条的规定执行，试用期包含在合同期限内。",
                "合同期满前三十日，双方可协商续订劳动合同；未续订的，本合同于期满之日终止。",
            ],
        ),
        (
            "第二条 工作内容和工作地点",
            [
                "乙方同意根据甲方工作需要，担任签约申请中所载岗位的工作，并按照甲方依法制定的岗位职责，"
                "按时、按质、按量完成工作任务。",
                f"乙方的工作地点为{city}。因生产经营需要调整工作地点的，甲方应与乙方协商一致。",
            ],
        ),
        (
            "第三条 工作时间和休息休假",
            [
                "甲方实行标准工时制度，乙方每日工作时间不超过八小时，平均每周工作时间不超过四十小时，"
                "每周至少休息一日。",
                "甲方因生产经营需要安排乙方延长工作时间的，应依法与乙方协商，并依法支付加班工资或安排补休。",
                "乙方依法享有法定节假日、带薪年休假、婚假、产假、丧假等假期。",
            ],
        ),
        (
            "第四条 劳动报酬",
            [
                "乙方的月工资标准以签约时确认的薪资为准，且不低于当地最低工资标准。"
                "甲方于每月十五日前以货币形式足额支付乙方上月工资，不得克扣或者无故拖欠。",
                "甲方根据经营状况和乙方的工作业绩，依法调整乙方的工资水平。",
            ],
        ),
        (
            "第五条 社会保险和福利待遇",
            [
                "甲乙双方依法参加养老、医疗、失业、工伤、生育等社会保险，并依法缴纳住房公积金。"
                "乙方个人应缴纳的部分，由甲方从乙方工资中代扣代缴。",
                "乙方患病或非因工负伤的，其医疗期及医疗期内的待遇按照国家和地方的有关规定执行。",
            ],
        ),
        (
            "第六条 劳动保护、劳动条件和职业危害防护",
            [
                "甲方应建立健全劳动安全卫生制度，为乙方提供符合国家规定的劳动条件和必要的劳动防护用品，"
                "对可能产生职业危害的岗位，应当如实告知乙方，并做好防护工作。",
                "乙方应严格遵守安全操作规程，对甲方管理人员违章指挥、强令冒险作业的，有权拒绝执行。",
            ],
        ),
        (
            "第七条 劳动纪律与保密",
            [
                "乙方应遵守甲方依法制定并已公示的各项规章制度，遵守职业道德，爱护甲方财产。",
                "乙方对在工作中知悉的甲方商业秘密及员工、客户的个人信息负有保密义务，"
                "未经授权不得披露、使用或者允许他人使用。",
            ],
        ),
        (
            "第八条 劳动合同的变更、解除和终止",
            [
                "经甲乙双方协商一致，可以变更本合同约定的内容，变更应当采用书面形式（含数据电文形式）。",
                "甲乙双方解除或者终止本合同，应当按照《中华人民共和国劳动合同法》第四章的规定执行。"
                "乙方提前三十日以书面形式通知甲方，可以解除本合同；乙方在试用期内提前三日通知甲方，"
                "可以解除本合同。",
                "甲方应当在解除或者终止本合同时出具解除或者终止劳动合同的证明，"
                "并在十五日内为乙方办理档案和社会保险关系转移手续；依法应当支付经济补偿的，在办结工作交接时支付。",
            ],
        ),
        (
            "第九条 劳动争议处理",
            [
                "双方因履行本合同发生争议的，可以协商解决；不愿协商或者协商不成的，可以向甲方所在地的"
                "劳动争议调解组织申请调解，也可以向劳动争议仲裁委员会申请仲裁；对仲裁裁决不服的，"
                "可以依法向人民法院提起诉讼。",
            ],
        ),
        (
            "第十条 其他",
            [
                "本合同未尽事宜，按照国家和地方有关法律、法规和政策执行。",
                "本合同以数据电文形式订立，乙方通过闪签云以实名认证、短信验证码确认签约意愿并手写签名，"
                "与在纸质合同上签字具有同等法律效力（《中华人民共和国电子签名法》第十四条）。",
                "本合同自甲乙双方签署之日起生效，签署后的电子文件由双方各自留存，具有同等效力。",
            ],
        ),
    ]


def labour_contract_pdf(*, company_name: str, contract_name: str, years: int, city: str) -> bytes:
    """A multi-page labour-contract template in Chinese (reportlab's built-in CID font, no font file)."""
    from reportlab.lib.enums import TA_CENTER
    from reportlab.lib.pagesizes import A4
    from reportlab.lib.styles import ParagraphStyle
    from reportlab.lib.units import mm
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.platypus import PageBreak, Paragraph, SimpleDocTemplate, Spacer

    pdfmetrics.registerFont(UnicodeCIDFont(_FONT))
    title = ParagraphStyle("title", fontName=_FONT, fontSize=22, leading=30, alignment=TA_CENTER, spaceAfter=12)
    subtitle = ParagraphStyle("subtitle", fontName=_FONT, fontSize=12, leading=18, alignment=TA_CENTER)
    heading = ParagraphStyle("heading", fontName=_FONT, fontSize=13, leading=22, spaceBefore=10, spaceAfter=4)
    body = ParagraphStyle("body", fontName=_FONT, fontSize=11, leading=20, firstLineIndent=22, wordWrap="CJK")
    line = ParagraphStyle("line", fontName=_FONT, fontSize=12, leading=28, wordWrap="CJK")

    def footer(canvas, doc):
        canvas.saveState()
        canvas.setFont(_FONT, 9)
        canvas.drawCentredString(A4[0] / 2, 12 * mm, f"{contract_name}　第 {doc.page} 页")
        canvas.restoreState()

    story = [
        Spacer(1, 40 * mm),
        Paragraph("劳 动 合 同", title),
        Paragraph(contract_name, subtitle),
        Spacer(1, 30 * mm),
        Paragraph(f"甲方（用人单位）：{company_name}", line),
        Paragraph("乙方（劳动者）：________________", line),
        Paragraph("签订日期：以电子签署时间为准", line),
        Spacer(1, 20 * mm),
        Paragraph(
            "根据《中华人民共和国劳动法》《中华人民共和国劳动合同法》及有关法律法规的规定，甲乙双方遵循合法、公平、"
            "平等自愿、协商一致、诚实信用的原则，订立本劳动合同，共同遵守本合同所列条款。",
            body,
        ),
        PageBreak(),
        Paragraph("甲方基本情况", heading),
        Paragraph(f"单位名称：{company_name}", line),
        Paragraph(f"住所：{city}________________", line),
        Paragraph("法定代表人（主要负责人）：________________", line),
        Paragraph("乙方基本情况", heading),
        Paragraph("姓名：________　　性别：____　　民族：____", line),
        Paragraph("居民身份证号码：________________________", line),
        Paragraph("户籍地址：________________________________", line),
        Paragraph("现居住地址：______________________________", line),
        Paragraph("联系电话：________________", line),
    ]
    for clause, paragraphs in _contract_clauses(years=years, city=city):
        story.append(Paragraph(clause, heading))
        story.extend(Paragraph(text, body) for text in paragraphs)
    story += [
        Spacer(1, 16 * mm),
        Paragraph(f"甲方（盖章）：{company_name}", line),
        Paragraph("乙方（签名）：________________（见签署证书页）", line),
        Paragraph("签订日期：________年____月____日", line),
    ]

    buffer = io.BytesIO()
    document = SimpleDocTemplate(
        buffer,
        pagesize=A4,
        leftMargin=25 * mm,
        rightMargin=25 * mm,
        topMargin=25 * mm,
        bottomMargin=25 * mm,
        title=contract_name,
        author=company_name,
        subject="劳动合同",
    )
    document.build(story, onFirstPage=footer, onLaterPages=footer)
    return buffer.getvalue()
