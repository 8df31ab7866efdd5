"""
Drawing values into a template's placements: pure, bytes in and bytes out (no database, no storage).

``fill_pdf(template, boxes, texts=…, images=…, seam=…)`` draws, on one reportlab overlay per page,

* each text value inside its box: wrapped by character (Chinese has no spaces to break at), shrunk
  from ``MAX_FONT_SIZE`` down to ``MIN_FONT_SIZE`` until every line fits, and clipped to the box, so a
  long address never overflows;
* each image (signature, seal) scaled into its box keeping its aspect ratio, centred, transparency
  kept (reportlab's ``mask="auto"`` keeps the PNG's alpha channel as a soft mask);
* the 骑缝章: the seal cut into one vertical strip per page, each strip at the right edge of its page
  at the seam placement's height, so the pages put side by side show the whole seal;

then merges the overlays onto the pages (pypdf) and flattens the form: the widgets and the
``/AcroForm`` are removed — the values are page content now. The font is the embedded CJK TrueType
of ``signing.sealing.fonts`` (subset by reportlab), so every font in the output is embedded.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from PIL import Image
from pypdf import PdfReader, PdfWriter, Transformation
from pypdf.generic import NameObject
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase.pdfmetrics import stringWidth
from reportlab.pdfgen import canvas

from ..sealing.fonts import certificate_font

MAX_FONT_SIZE = 12.0
MIN_FONT_SIZE = 4.0
LINE_SPACING = 1.18
PADDING = 1.0
TEXT_COLOUR = (0.05, 0.05, 0.3)


@dataclass(frozen=True)
class PageBox:
    """A placement in top-left page points (``contracts.placements.Box`` has the same fields)."""

    key: str
    page: int
    x: float
    y: float
    width: float
    height: float


def wrap(text: str, font: str, size: float, width: float) -> list[str]:
    """``text`` broken into lines no wider than ``width`` (by character; explicit newlines kept)."""
    lines: list[str] = []
    for paragraph in text.split("\n"):
        line = ""
        for char in paragraph:
            if line and stringWidth(line + char, font, size) > width:
                lines.append(line)
                line = char.lstrip() if char.isspace() else char
            else:
                line += char
        lines.append(line)
    return lines


def fit(text: str, font: str, width: float, height: float) -> tuple[float, list[str]]:
    """The largest size (≤ MAX_FONT_SIZE) at which ``text`` wraps inside ``width`` × ``height``, and its lines."""
    inner_w, inner_h = max(width - 2 * PADDING, 1.0), max(height - 2 * PADDING, 1.0)
    size = min(MAX_FONT_SIZE, inner_h / LINE_SPACING)
    while True:
        lines = wrap(text, font, size, inner_w)
        if len(lines) * size * LINE_SPACING <= inner_h + 0.01 or size <= MIN_FONT_SIZE:
            return size, lines
        size = max(MIN_FONT_SIZE, size - 0.5)


def _draw_text(pdf: canvas.Canvas, font: str, box: PageBox, text: str, page_height: float) -> None:
    size, lines = fit(text, font, box.width, box.height)
    bottom = page_height - box.y - box.height
    pdf.saveState()
    clip = pdf.beginPath()
    clip.rect(box.x, bottom, box.width, box.height)
    pdf.clipPath(clip, stroke=0, fill=0)
    pdf.setFillColorRGB(*TEXT_COLOUR)
    pdf.setFont(font, size)
    block = len(lines) * size * LINE_SPACING
    # Vertically centred in the box: a one-line value sits on the line it was placed over.
    top = bottom + box.height / 2 + block / 2
    for number, line in enumerate(lines):
        baseline = top - (number + 1) * size * LINE_SPACING + (LINE_SPACING - 1) * size / 2 + size * 0.12
        pdf.drawString(box.x + PADDING, baseline, line)
    pdf.restoreState()


def _draw_image(pdf: canvas.Canvas, box: PageBox, image: ImageReader, page_height: float) -> None:
    iw, ih = image.getSize()
    scale = min(box.width / iw, box.height / ih)
    w, h = iw * scale, ih * scale
    x = box.x + (box.width - w) / 2
    y = page_height - box.y - box.height + (box.height - h) / 2
    pdf.drawImage(image, x, y, width=w, height=h, mask="auto")


def _draw_seam(pdf: canvas.Canvas, box: PageBox, strip: ImageReader, page_width: float, page_height: float) -> None:
    sw, sh = strip.getSize()
    h = box.height
    w = sw * h / sh
    pdf.drawImage(strip, page_width - w, page_height - box.y - h, width=w, height=h, mask="auto")


def _seam_strips(seal_png: bytes, count: int) -> list[ImageReader]:
    seal = Image.open(io.BytesIO(seal_png)).convert("RGBA")
    strips = []
    for index in range(count):
        left = round(seal.width * index / count)
        right = max(round(seal.width * (index + 1) / count), left + 1)
        out = io.BytesIO()
        seal.crop((left, 0, right, seal.height)).save(out, "PNG")
        out.seek(0)
        strips.append(ImageReader(out))
    return strips


def fill_pdf(
    template: bytes,
    boxes: Iterable[PageBox],
    *,
    texts: Mapping[str, str] | None = None,
    images: Mapping[str, bytes] | None = None,
    seam: bytes | None = None,
    flatten: bool = True,
) -> bytes:
    """See the module docstring. Boxes whose key has no value in ``texts``/``images`` are left empty."""
    texts = texts or {}
    images = images or {}
    reader = PdfReader(io.BytesIO(template), strict=False)
    writer = PdfWriter(clone_from=reader)
    boxes = list(boxes)
    font = certificate_font().name
    readers = {key: ImageReader(io.BytesIO(data)) for key, data in images.items() if data}
    page_count = len(writer.pages)
    seam_boxes = [box for box in boxes if box.key == "seam_seal"] if seam else []
    strips = _seam_strips(seam, page_count) if seam_boxes and page_count > 1 else []

    by_page: dict[int, list[PageBox]] = {}
    for box in boxes:
        if box.key == "seam_seal":
            continue
        if (box.key in texts and texts[box.key] != "") or box.key in readers:
            by_page.setdefault(box.page, []).append(box)
    pages_to_draw = set(by_page) | (set(range(1, page_count + 1)) if strips else set())
    if pages_to_draw:
        overlay_buffer = io.BytesIO()
        overlay = canvas.Canvas(overlay_buffer, invariant=1, pageCompression=1, initialFontName=font)
        order = sorted(pages_to_draw)
        for number in order:
            crop = writer.pages[number - 1].cropbox
            width, height = float(crop.width), float(crop.height)
            overlay.setPageSize((width, height))
            for box in by_page.get(number, []):
                if box.key in readers:
                    _draw_image(overlay, box, readers[box.key], height)
                else:
                    _draw_text(overlay, font, box, str(texts[box.key]), height)
            if strips:
                _draw_seam(overlay, seam_boxes[0], strips[number - 1], width, height)
            overlay.showPage()
        overlay.save()
        drawn = PdfReader(io.BytesIO(overlay_buffer.getvalue()))
        for index, number in enumerate(order):
            page = writer.pages[number - 1]
            crop = page.cropbox
            # The overlay's origin is the crop box's lower-left corner.

            page.merge_transformed_page(
                drawn.pages[index], Transformation().translate(float(crop.left), float(crop.bottom))
            )
    if flatten:
        _flatten(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _flatten(writer: PdfWriter) -> None:
    """Remove form widgets and the AcroForm: what they showed is drawn as page content."""
    for page in writer.pages:
        annots = page.get("/Annots")
        if annots is None:
            continue
        kept = [ref for ref in annots if ref.get_object().get("/Subtype") != "/Widget"]
        if kept:
            page[NameObject("/Annots")] = type(annots)(kept)
        else:
            del page[NameObject("/Annots")]
    root = writer._root_object
    if "/AcroForm" in root:
        del root[NameObject("/AcroForm")]
