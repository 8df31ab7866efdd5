"""
Company seal images (电子印章, SPEC §9): the generated round red contract seal and the upload check.

``round_seal_png(company_name)`` draws the standard round red contract seal with Pillow: a red ring,
the company name along the upper arc (each character turned to face the centre), a five-pointed star
in the middle and ``合同专用章`` along the lower edge, on a transparent background. The CJK font is
``PDF_CJK_FONT`` when set, else 文泉驿微米黑 from the pinned pip package ``paperang-p2-fonts-cjk``.

``seal_image_clean(data)`` is the upload check: judged from the content (Pillow must identify a PNG),
the dimensions checked from the header before any pixel is decoded, the pixels decoded, a real
transparent background required, and the image re-encoded from pixels only (no metadata kept).
Every refusal is an ``InvalidInput`` (``shanqian.errors``) with a Chinese message.
"""

from __future__ import annotations

import io
import math
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from PIL import Image, ImageDraw, ImageFont, UnidentifiedImageError

from shanqian.errors import InvalidInput

SEAL_RED = (220, 30, 35, 255)
SEAL_SIZE = 600  # pixels; drawn at ~42 mm that is ~360 dpi
SEAL_MAX_BYTES = 2 * 1024 * 1024
SEAL_MIN_SIDE = 100
SEAL_MAX_SIDE = 2000
SEAL_LOWER_TEXT = "合同专用章"
# At least this share of the pixels must be (almost) fully transparent: a seal on a white box is not one.
SEAL_MIN_TRANSPARENT_SHARE = 0.10


@dataclass(frozen=True)
class SealImage:
    content: bytes  # PNG, RGBA
    width: int
    height: int


def cjk_font_path() -> tuple[str, int]:
    """(path, face index) of the CJK TrueType font seals and contract documents are drawn with."""
    spec = getattr(settings, "PDF_CJK_FONT", "") or ""
    if spec:
        path, _, face = spec.partition("#")
        return path, int(face) if face.isdigit() else 0
    try:
        import paperang_p2_fonts_cjk  # a try: PDF_CJK_FONT may name another font instead
    except ImportError as exc:  # pinned in requirements.txt; only a broken install lacks it
        raise ImproperlyConfigured("没有可用的中文字体：请安装 paperang-p2-fonts-cjk 或设置 PDF_CJK_FONT。") from exc
    path = Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc"
    return str(path), 0


@cache
def _font(size: int) -> ImageFont.FreeTypeFont:
    path, face = cjk_font_path()
    return ImageFont.truetype(path, size=size, index=face)


def _star(draw: ImageDraw.ImageDraw, cx: float, cy: float, radius: float) -> None:
    inner = radius * math.sin(math.radians(18)) / math.sin(math.radians(126))
    points = []
    for i in range(10):
        r = radius if i % 2 == 0 else inner
        angle = math.radians(-90 + i * 36)
        points.append((cx + r * math.cos(angle), cy + r * math.sin(angle)))
    draw.polygon(points, fill=SEAL_RED)


def _arc_text(image: Image.Image, text: str, *, cx: float, cy: float, radius: float, size: int) -> None:
    """``text`` along the upper arc, clockwise, each character upright towards the rim."""
    font = _font(size)
    count = len(text)
    # The name spans up to 220° around the top; short names keep a natural spacing.
    step = min(220 / max(count - 1, 1), 32)
    start = -step * (count - 1) / 2
    for index, char in enumerate(text):
        theta = start + index * step  # degrees clockwise from the top
        glyph = Image.new("RGBA", (size * 2, size * 2), (0, 0, 0, 0))
        ImageDraw.Draw(glyph).text((size, size), char, font=font, fill=SEAL_RED, anchor="mm")
        glyph = glyph.rotate(-theta, resample=Image.Resampling.BICUBIC)
        x = cx + radius * math.sin(math.radians(theta))
        y = cy - radius * math.cos(math.radians(theta))
        image.alpha_composite(glyph, (round(x - size), round(y - size)))


def round_seal_png(company_name: str, *, size: int = SEAL_SIZE, lower_text: str = SEAL_LOWER_TEXT) -> SealImage:
    """The round red contract seal of ``company_name`` as a transparent PNG ``size`` pixels square."""
    name = "".join((company_name or "").split())
    if not name:
        raise InvalidInput("用人单位名称为空，无法生成印章。")
    # Drawn at twice the size and reduced: smooth edges without a ragged alpha fringe.
    scale = 2
    side = size * scale
    image = Image.new("RGBA", (side, side), (0, 0, 0, 0))
    draw = ImageDraw.Draw(image)
    c = side / 2
    ring = side * 0.035
    draw.ellipse((ring / 2, ring / 2, side - ring / 2, side - ring / 2), outline=SEAL_RED, width=round(ring))
    _star(draw, c, c, side * 0.17)
    glyph_size = round(side * (0.115 if len(name) <= 12 else max(0.075, 0.115 * 12 / len(name))))
    _arc_text(image, name, cx=c, cy=c, radius=side / 2 - ring * 1.6 - glyph_size * 0.6, size=glyph_size)
    lower_size = round(side * 0.085)
    draw.text((c, side * 0.75), lower_text, font=_font(lower_size), fill=SEAL_RED, anchor="mm")
    image = image.resize((size, size), Image.Resampling.LANCZOS)
    out = io.BytesIO()
    image.save(out, "PNG", optimize=True)
    return SealImage(content=out.getvalue(), width=size, height=size)


def seal_image_clean(data: bytes) -> SealImage:
    """The upload check (see the module docstring): clean RGBA PNG bytes, or ``InvalidInput``."""
    if len(data) > SEAL_MAX_BYTES:
        raise InvalidInput(f"印章图片不能超过 {SEAL_MAX_BYTES // (1024 * 1024)} MB。")
    try:
        image = Image.open(io.BytesIO(data), formats=["PNG"])
    except (UnidentifiedImageError, OSError, ValueError, SyntaxError):
        raise InvalidInput("印章图片必须是 PNG 图片（带透明背景）。") from None
    width, height = image.size
    if min(width, height) < SEAL_MIN_SIDE:
        raise InvalidInput(f"印章图片太小（至少 {SEAL_MIN_SIDE}×{SEAL_MIN_SIDE} 像素）。")
    if max(width, height) > SEAL_MAX_SIDE:
        raise InvalidInput(f"印章图片太大（不超过 {SEAL_MAX_SIDE}×{SEAL_MAX_SIDE} 像素）。")
    try:
        image.load()
    except (OSError, ValueError, SyntaxError, EOFError, Image.DecompressionBombError):
        raise InvalidInput("印章图片已损坏或不完整。") from None
    if image.mode not in ("RGBA", "LA", "PA") and "transparency" not in image.info:
        raise InvalidInput("印章图片须有透明背景（带 Alpha 通道的 PNG）。")
    try:
        clean = image.convert("RGBA")
    except (OSError, ValueError):
        raise InvalidInput("不支持该图片的色彩模式，请另存为 RGBA 的 PNG。") from None
    alpha = clean.getchannel("A")
    transparent = alpha.histogram()[:16]
    if sum(transparent) < SEAL_MIN_TRANSPARENT_SHARE * width * height:
        raise InvalidInput("印章图片须有透明背景：图片几乎没有透明区域。")
    if alpha.getextrema()[1] < 128:
        raise InvalidInput("印章图片是空白的（全透明）。")
    clean.info = {}
    out = io.BytesIO()
    clean.save(out, "PNG", optimize=True)
    return SealImage(content=out.getvalue(), width=width, height=height)
