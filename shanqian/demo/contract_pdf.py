"""
The demo's labour-contract templates: multi-page Chinese PDFs drawn with the project's embedded CJK
TrueType font (subset), so ``seed_demo`` gives every demo employer a real template to personalise and
sign. ``placement="anchors"``: the labels the keyword anchors of ``contracts.placements`` find
(``姓名：``, ``乙方（签名）：`` …) with blanks after them; ``placement="acroform"``: the same pages with an
AcroForm text field named by the vocabulary key over each blank (and a 骑缝章 field at the right edge).
"""

import io

from reportlab.lib.pagesizes import A4
from reportlab.lib.units import mm
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from signing.sealing.fonts import certificate_font


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
                "乙方的工作地点见本合同「合同条款」。因生产经营需要调整工作地点的，甲方应与乙方协商一致。",
            ],
        ),
        (
            "第三条 工作时间和休息休假",
            [
                "甲方按「合同条款」所载工时安排乙方工作，标准工时下乙方每日工作时间不超过八小时，平均每周工作时间不超过四十小时，"
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


# The fill-in blocks: (label, vocabulary key, blank width in points).
PARTIES = [
    ("甲方基本情况", None, 0),
    ("用人单位名称：", "company_name", 300),
    ("统一社会信用代码：", "credit_code", 200),
    ("住所：", "company_address", 330),
    ("法定代表人：", "legal_representative", 160),
    ("乙方基本情况", None, 0),
    ("姓名：", "real_name", 140),
    ("性别：", "gender", 60),
    ("居民身份证号码：", "id_number", 220),
    ("户籍地址：", "acct_address", 320),
    ("现住址：", "address", 330),
    ("联系电话：", "phone", 160),
    ("紧急联系人：", "em_contact", 300),
]
TERMS = [
    ("合同条款", None, 0),
    ("合同期限（年）：", "sign_year", 120),
    ("合同起始日：", "entry_date", 160),
    ("合同终止日：", "end_date", 260),
    ("试用期（月）：", "probation_months", 80),
    ("试用期截止日：", "probation_end", 160),
    ("工作岗位：", "work_pos", 200),
    ("工作地点：", "work_location", 320),
    ("工时制度：", "working_hours", 160),
    ("月工资（元）：", "salary", 140),
    ("月工资（大写）：", "salary_upper", 260),
]
SIGNATURES = [
    ("甲方（盖章）：", "company_seal", 0),
    ("乙方（签名）：", "employee_signature", 0),
    ("签订日期：", "sign_date", 160),
]


def labour_contract_pdf(
    *, company_name: str, contract_name: str, years: int, city: str, placement: str = "anchors"
) -> bytes:
    """See the module docstring: about four A4 pages, fonts embedded, no form unless ``placement="acroform"``."""
    font = certificate_font().name
    width, height = A4
    left, right, top, bottom = 25 * mm, width - 25 * mm, height - 25 * mm, 25 * mm
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
    pdf.setTitle(contract_name)
    pdf.setAuthor(company_name)
    pdf.setSubject("劳动合同")
    state = {"y": top, "page": 1}
    acroform = placement == "acroform"

    def footer():
        pdf.setFont(font, 9)
        pdf.drawCentredString(width / 2, 12 * mm, f"{contract_name}　第 {state['page']} 页")

    def new_page():
        footer()
        pdf.showPage()
        state["page"] += 1
        state["y"] = top

    def need(space):
        if state["y"] - space < bottom:
            new_page()

    def paragraph(text, size=11, leading=20, indent=22):
        pdf.setFont(font, size)
        line, first = "", True
        for char in text:
            limit = right - left - (indent if first else 0)
            if stringWidth(line + char, font, size) > limit:
                need(leading)
                pdf.drawString(left + (indent if first else 0), state["y"] - size, line)
                state["y"] -= leading
                line, first = char, False
            else:
                line += char
        if line:
            need(leading)
            pdf.drawString(left + (indent if first else 0), state["y"] - size, line)
            state["y"] -= leading

    def fill_in(rows, line_height=26):
        for label, key, blank in rows:
            if key is None:
                need(line_height + 8)
                pdf.setFont(font, 13)
                pdf.drawString(left, state["y"] - 13, label)
                state["y"] -= line_height + 4
                continue
            mark = key in ("company_seal", "employee_signature")
            need(110 if mark else line_height)
            size = 12
            pdf.setFont(font, size)
            baseline = state["y"] - size
            pdf.drawString(left, baseline, label)
            x = left + stringWidth(label, font, size) + 2
            if blank and not acroform:
                pdf.setLineWidth(0.5)
                pdf.line(x, baseline - 2, min(x + blank, right), baseline - 2)
            if acroform:
                box_w = (110 if key == "company_seal" else 130) if mark else min(blank, right - x)
                box_h = (110 if key == "company_seal" else 44) if mark else 18
                pdf.acroForm.textfield(
                    name=key,
                    x=x,
                    y=baseline - 4 - (box_h - 18) / 2,
                    width=box_w,
                    height=box_h,
                    borderWidth=0,
                    fontName="Helvetica",
                    fontSize=0,
                )
            state["y"] -= 120 if key == "company_seal" else (60 if mark else line_height)

    pdf.setFont(font, 22)
    state["y"] -= 40 * mm
    pdf.drawCentredString(width / 2, state["y"], "劳 动 合 同")
    state["y"] -= 30
    pdf.setFont(font, 12)
    pdf.drawCentredString(width / 2, state["y"], contract_name)
    state["y"] -= 30 * mm
    paragraph(
        "根据《中华人民共和国劳动法》《中华人民共和国劳动合同法》及有关法律法规的规定，甲乙双方遵循合法、公平、"
        "平等自愿、协商一致、诚实信用的原则，订立本劳动合同，共同遵守本合同所列条款。"
    )
    state["y"] -= 10
    fill_in(PARTIES)
    new_page()
    fill_in(TERMS)
    for clause, paragraphs in _contract_clauses(years=years, city=city):
        need(40)
        pdf.setFont(font, 13)
        pdf.drawString(left, state["y"] - 13, clause)
        state["y"] -= 24
        for text in paragraphs:
            paragraph(text)
    state["y"] -= 16
    fill_in(SIGNATURES)
    if acroform:
        # The 骑缝章 across the right edge of every page, at mid height (its page does not matter).
        pdf.acroForm.textfield(
            name="seam_seal", x=width - 40, y=height / 2 - 50, width=40, height=100, borderWidth=0, fontName="Helvetica"
        )
    footer()
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
