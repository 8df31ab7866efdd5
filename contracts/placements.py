"""
Template placements (SPEC §9): which value goes where on a contract template's pages.

Coordinates are PDF points on the page as displayed, **origin at the top-left corner** of the page's
crop box (what pdfplumber, pypdfium2 renderings and the admin placement page use): ``x`` and ``y``
the box's top-left corner, ``width`` and ``height`` its size. ``signing.documents`` converts to PDF
user space (origin bottom-left) when drawing.

Where placements come from (``contract_placements_detect``, run on upload):

1. **AcroForm fields** whose name is a vocabulary key (``real_name``, ``company_seal``…): the field's
   widget rectangle on its page (``acroform_placements``);
2. **keyword anchors**: text found in the PDF with pypdfium2 (which reads the text positions and also
   renders the page images of the admin page), the box placed at an offset from the text
   (``ANCHORS``: ``乙方（签名）`` → the signature to its right, ``甲方（盖章）`` → the seal over it …);
3. the admin placement page (staff draw, drag and resize boxes).

``placements_missing(keys)`` is the enable rule: a template can be enabled only when
``employee_signature`` and ``company_seal`` are placed and every art. 17 term is placed somewhere.
"""

from __future__ import annotations

import io
from dataclasses import dataclass

import pypdfium2 as pdfium
from pypdf import PdfReader

VOCABULARY: dict[str, str] = {
    # employer
    "company_name": "用人单位名称",
    "credit_code": "统一社会信用代码",
    "company_address": "用人单位住所",
    "legal_representative": "法定代表人",
    # worker
    "real_name": "劳动者姓名",
    "id_number": "居民身份证号码",
    "gender": "性别",
    "phone": "联系电话",
    "acct_address": "户籍地址",
    "address": "现住址",
    "em_contact": "紧急联系人",
    # terms
    "work_pos": "工作岗位",
    "work_location": "工作地点",
    "entry_date": "合同起始日（入职日期）",
    "end_date": "合同终止日",
    "sign_year": "合同期限（年）",
    "probation_months": "试用期（月）",
    "probation_end": "试用期截止日",
    "salary": "月工资（元）",
    "salary_upper": "月工资（人民币大写）",
    "working_hours": "工时制度",
    "sign_date": "签订日期",
    # marks
    "employee_signature": "乙方签名（手写签名图片）",
    "company_seal": "甲方盖章（单位印章）",
    "seam_seal": "骑缝章",
}
MARKS = frozenset({"employee_signature", "company_seal", "seam_seal"})
# Filled at signing, not at approval.
AT_SIGNING = frozenset({"employee_signature", "company_seal", "seam_seal", "sign_date"})

# The enable rule: each group must have at least one of its keys placed.
REQUIRED_GROUPS: tuple[tuple[str, ...], ...] = (
    ("employee_signature",),
    ("company_seal",),
    ("real_name",),
    ("id_number",),
    ("acct_address", "address"),
    ("work_pos",),
    ("work_location",),
    ("entry_date",),
    ("end_date", "sign_year"),
    ("salary",),
    ("working_hours",),
)

MAX_PLACEMENTS = 200
MIN_BOX = 4.0  # points


def placements_missing(keys) -> list[str]:
    """The required values not placed, by Chinese name ("户籍地址或现住址"); empty when the template may be enabled."""
    placed = set(keys)
    return ["或".join(VOCABULARY[key] for key in group) for group in REQUIRED_GROUPS if not placed & set(group)]


@dataclass(frozen=True)
class Box:
    """One placement as values (the model ``contracts.Placement`` and the detectors share it)."""

    key: str
    page: int  # 1-based
    x: float
    y: float
    width: float
    height: float
    source: str = "manual"
    anchor: str = ""


def box_problem(box: Box, page_sizes: list[tuple[float, float]]) -> str:
    """Why the box cannot be saved (Chinese), or ""."""
    if box.key not in VOCABULARY:
        return f"未知的字段：{box.key}"
    if not 1 <= box.page <= len(page_sizes):
        return f"「{VOCABULARY[box.key]}」的页码 {box.page} 超出模板页数（共 {len(page_sizes)} 页）"
    width, height = page_sizes[box.page - 1]
    if box.width < MIN_BOX or box.height < MIN_BOX:
        return f"「{VOCABULARY[box.key]}」的区域太小"
    if box.x < -0.5 or box.y < -0.5 or box.x + box.width > width + 0.5 or box.y + box.height > height + 0.5:
        return f"「{VOCABULARY[box.key]}」的区域超出第 {box.page} 页的页面范围"
    return ""


# --- AcroForm fields ------------------------------------------------------------------------------


def acroform_placements(data: bytes) -> list[Box]:
    """A box for each widget of an AcroForm field named by a vocabulary key (pypdf)."""
    reader = PdfReader(io.BytesIO(data), strict=False)
    boxes = []
    for number, page in enumerate(reader.pages, start=1):
        crop = page.cropbox
        left, top = float(crop.left), float(crop.top)
        for ref in page.get("/Annots") or []:
            annot = ref.get_object()
            if annot.get("/Subtype") != "/Widget":
                continue
            name = annot.get("/T")
            if name is None and annot.get("/Parent") is not None:
                name = annot["/Parent"].get_object().get("/T")
            key = str(name or "").strip()
            if key not in VOCABULARY or "/Rect" not in annot:
                continue
            x0, y0, x1, y1 = (float(v) for v in annot["/Rect"])
            x0, x1 = sorted((x0, x1))
            y0, y1 = sorted((y0, y1))
            boxes.append(
                Box(key=key, page=number, x=x0 - left, y=top - y1, width=x1 - x0, height=y1 - y0, source="acroform")
            )
    return boxes


# --- keyword anchors --------------------------------------------------------------------------------


@dataclass(frozen=True)
class Anchor:
    """Text to find and where the box goes relative to it (points; dx from the text's right edge or left)."""

    text: str
    key: str
    width: float
    height: float
    side: str = "right"  # right: after the text; over: centred over the text
    dx: float = 14.0  # after the label and the full-width colon that usually follows it
    dy: float = 0.0


# The usual anchors of Chinese labour contracts. The first occurrence of each text counts, except the
# marks, which are placed at every occurrence (a signature block may repeat on an annex).
ANCHORS: tuple[Anchor, ...] = (
    Anchor("乙方（签名）", "employee_signature", 130, 44),
    Anchor("乙方（签字）", "employee_signature", 130, 44),
    Anchor("甲方（盖章）", "company_seal", 110, 110),
    Anchor("签订日期", "sign_date", 120, 16),
    Anchor("用人单位名称", "company_name", 260, 16),
    Anchor("甲方（用人单位）", "company_name", 260, 16),
    Anchor("统一社会信用代码", "credit_code", 200, 16),
    Anchor("住所", "company_address", 300, 16),
    Anchor("法定代表人", "legal_representative", 160, 16),
    Anchor("乙方（劳动者）", "real_name", 160, 16),
    Anchor("姓名", "real_name", 160, 16),
    Anchor("居民身份证号码", "id_number", 200, 16),
    Anchor("身份证号码", "id_number", 200, 16),
    Anchor("性别", "gender", 60, 16),
    Anchor("联系电话", "phone", 140, 16),
    Anchor("户籍地址", "acct_address", 300, 16),
    Anchor("现住址", "address", 300, 16),
    Anchor("紧急联系人", "em_contact", 220, 16),
    Anchor("工作岗位", "work_pos", 180, 16),
    Anchor("工作地点", "work_location", 300, 16),
    Anchor("合同起始日", "entry_date", 120, 16),
    Anchor("合同终止日", "end_date", 120, 16),
    Anchor("合同期限（年）", "sign_year", 60, 16),
    Anchor("试用期（月）", "probation_months", 60, 16),
    Anchor("试用期截止日", "probation_end", 120, 16),
    Anchor("月工资（元）", "salary", 120, 16),
    Anchor("月工资（大写）", "salary_upper", 220, 16),
    Anchor("工时制度", "working_hours", 140, 16),
)


def find_text(data: bytes, texts) -> dict[str, list[tuple[int, float, float, float, float]]]:
    """
    Every occurrence of each of ``texts``: ``(page, left, top, right, bottom)`` in top-left points
    (pypdfium2's text search over each page's text layer).
    """
    found: dict[str, list[tuple[int, float, float, float, float]]] = {text: [] for text in texts}
    document = pdfium.PdfDocument(data)
    try:
        for index in range(len(document)):
            page = document[index]
            height = page.get_height()
            textpage = page.get_textpage()
            try:
                for text in texts:
                    searcher = textpage.search(text, match_case=True)
                    while (hit := searcher.get_next()) is not None:
                        start, count = hit
                        boxes = [textpage.get_charbox(start + i) for i in range(count)]
                        left = min(b[0] for b in boxes)
                        bottom = min(b[1] for b in boxes)
                        right = max(b[2] for b in boxes)
                        top = max(b[3] for b in boxes)
                        found[text].append((index + 1, left, height - top, right, height - bottom))
                    searcher.close()
            finally:
                textpage.close()
                page.close()
    finally:
        document.close()
    return found


def anchor_box(anchor: Anchor, hit: tuple[int, float, float, float, float]) -> Box:
    page, left, top, right, bottom = hit
    middle = (top + bottom) / 2
    if anchor.side == "over":
        x = (left + right) / 2 - anchor.width / 2 + anchor.dx
        y = middle - anchor.height / 2 + anchor.dy
    else:
        x = right + anchor.dx
        y = middle - anchor.height / 2 + anchor.dy
    return Box(
        key=anchor.key,
        page=page,
        x=x,
        y=y,
        width=anchor.width,
        height=anchor.height,
        source="anchor",
        anchor=anchor.text,
    )


def anchor_placements(data: bytes, anchors=ANCHORS, *, skip_keys=()) -> list[Box]:
    """Boxes for the anchors found (each text value once, marks at every occurrence), clipped to the page."""
    document = pdfium.PdfDocument(data)
    try:
        sizes = [document[i].get_size() for i in range(len(document))]
    finally:
        document.close()
    hits = find_text(data, {anchor.text for anchor in anchors})
    boxes: list[Box] = []
    skip = set(skip_keys)
    placed = set(skip)
    for anchor in anchors:
        if anchor.key in skip or (anchor.key in placed and anchor.key not in MARKS):
            continue
        occurrences = hits.get(anchor.text) or []
        # "姓名" also occurs inside "紧急联系人姓名": a longer anchor's text that contains this one wins.
        occurrences = [hit for hit in occurrences if not _inside_longer(anchor, hit, hits, anchors)]
        if not occurrences:
            continue
        for hit in occurrences if anchor.key in MARKS else occurrences[:1]:
            boxes.append(clip_box(anchor_box(anchor, hit), sizes[hit[0] - 1]))
        placed.add(anchor.key)
    return boxes


def _inside_longer(anchor: Anchor, hit, hits, anchors) -> bool:
    for other in anchors:
        if other.text != anchor.text and anchor.text in other.text:
            for page, left, top, right, _bottom in hits.get(other.text) or []:
                if page == hit[0] and left - 1 <= hit[1] and hit[3] <= right + 1 and abs(top - hit[2]) < 2:
                    return True
    return False


def clip_box(box: Box, size: tuple[float, float]) -> Box:
    width, height = size
    x = min(max(box.x, 0), max(width - box.width, 0))
    y = min(max(box.y, 0), max(height - box.height, 0))
    return Box(
        key=box.key,
        page=box.page,
        x=x,
        y=y,
        width=min(box.width, width - x),
        height=min(box.height, height - y),
        source=box.source,
        anchor=box.anchor,
    )


def detect_placements(data: bytes) -> list[Box]:
    """AcroForm fields first; anchors for what the fields did not place."""
    boxes = acroform_placements(data)
    return boxes + anchor_placements(data, skip_keys={box.key for box in boxes})


def page_sizes(data: bytes) -> list[tuple[float, float]]:
    document = pdfium.PdfDocument(data)
    try:
        return [document[i].get_size() for i in range(len(document))]
    finally:
        document.close()


# --- the admin placement page ----------------------------------------------------------------------

PAGE_IMAGE_SCALE = 1.5  # page images for the admin: 1 pt = 1.5 px (108 dpi)


def page_png(data: bytes, page: int, *, scale: float = PAGE_IMAGE_SCALE) -> bytes:
    """Page ``page`` (1-based) of the PDF ``data`` as a PNG (pypdfium2: no system packages, no fonts needed)."""
    document = pdfium.PdfDocument(data)
    try:
        if not 1 <= page <= len(document):
            raise IndexError(page)
        pdf_page = document[page - 1]
        try:
            bitmap = pdf_page.render(scale=scale)
            try:
                image = bitmap.to_pil()
            finally:
                bitmap.close()
        finally:
            pdf_page.close()
    finally:
        document.close()
    out = io.BytesIO()
    image.save(out, "PNG", optimize=False, compress_level=3)
    return out.getvalue()


def boxes_from_json(items) -> tuple[list[Box], list[str]]:
    """
    The boxes the placement page posted (a list of ``{key, page, x, y, width, height, source?, anchor?}``)
    and the Chinese problems of entries that are not boxes at all (missing or non-numeric values).
    """
    if not isinstance(items, list):
        return [], ["提交的字段位置格式不正确，请刷新页面后重试。"]
    if len(items) > MAX_PLACEMENTS:
        return [], [f"字段位置不能超过 {MAX_PLACEMENTS} 个"]
    boxes: list[Box] = []
    problems: list[str] = []
    for number, item in enumerate(items, start=1):
        if not isinstance(item, dict):
            problems.append(f"第 {number} 个字段位置格式不正确。")
            continue
        key = str(item.get("key", ""))
        label = VOCABULARY.get(key, key or f"第 {number} 个字段")
        try:
            page = int(item["page"])
            x, y, width, height = (float(item[name]) for name in ("x", "y", "width", "height"))
        except (KeyError, TypeError, ValueError, OverflowError):
            problems.append(f"「{label}」的页码或位置不是有效的数字。")
            continue
        if any(value != value or value in (float("inf"), float("-inf")) for value in (x, y, width, height)):
            problems.append(f"「{label}」的页码或位置不是有效的数字。")
            continue
        source = str(item.get("source") or "manual")
        if source not in {"acroform", "anchor", "manual"}:
            source = "manual"
        anchor = str(item.get("anchor") or "")[:32] if source == "anchor" else ""
        boxes.append(Box(key=key, page=page, x=x, y=y, width=width, height=height, source=source, anchor=anchor))
    return boxes, problems


def keyword_box(data: bytes, *, key: str, text: str, dx: float, dy: float, width: float, height: float) -> list[Box]:
    """Boxes at every occurrence of ``text`` (offset ``dx``/``dy`` from its right edge, vertically centred)."""
    anchor = Anchor(text=text, key=key, width=width, height=height, dx=dx, dy=dy)
    hits = find_text(data, [text])[text]
    boxes = [anchor_box(anchor, hit) for hit in hits]
    return boxes if key in MARKS else boxes[:1]
