"""
The CJK font of the certificate page.

The certificate page must render Chinese and carry its font inside the PDF, so
it reads the same on any machine. reportlab embeds TrueType outlines only
(TTF, or one face of a TTC); CFF-based OpenType (Noto CJK ``.otf``) it cannot.

Search order: the ``PDF_CJK_FONT`` setting (a path; ``path.ttc#1`` picks the
face), then 文泉驿微米黑 shipped by the pip package ``paperang-p2-fonts-cjk``
(pinned in requirements.txt, byte-identical to Debian's ``fonts-wqy-microhei``),
then the usual Debian/Ubuntu paths. When none is found the page falls back to
reportlab's built-in ``STSong-Light`` CID font with a warning: the text still
extracts, but the glyphs are not embedded and depend on the reader.
"""

import logging
import zlib
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.cidfonts import UnicodeCIDFont
from reportlab.pdfbase.ttfonts import TTFError, TTFont

logger = logging.getLogger(__name__)

FONT_NAME = "ShanqianCJK"
FALLBACK_FONT_NAME = "STSong-Light"

DEBIAN_FONT_PATHS = (
    "/usr/share/fonts/truetype/wqy/wqy-microhei.ttc",
    "/usr/share/fonts/truetype/wqy/wqy-zenhei.ttc",
    "/usr/share/fonts/truetype/arphic/uming.ttc",
    "/usr/share/fonts/truetype/droid/DroidSansFallbackFull.ttf",
)


@dataclass(frozen=True)
class CertificateFont:
    name: str  # the reportlab font name to draw with
    path: str  # "" for the non-embedded fallback
    embedded: bool


def _packaged_font_path() -> str | None:
    try:
        import paperang_p2_fonts_cjk  # optional here: without it the certificate falls back to a CID font
    except ImportError:
        return None
    path = Path(paperang_p2_fonts_cjk.__file__).parent / "fonts" / "wqy-microhei.ttc"
    return str(path) if path.is_file() else None


def candidate_paths() -> list[str]:
    packaged = _packaged_font_path()
    return [*([packaged] if packaged else []), *DEBIAN_FONT_PATHS]


def _split_face(spec: str) -> tuple[str, int]:
    path, _, face = spec.partition("#")
    return path, int(face) if face.isdigit() else 0


@cache
def _register(spec: str) -> CertificateFont:
    if not spec:
        for path in candidate_paths():
            if Path(path).is_file():
                return _register(path)
        logger.warning(
            "没有找到可嵌入的中文 TrueType 字体（可安装 paperang-p2-fonts-cjk 或 fonts-wqy-microhei，"
            "或设置 PDF_CJK_FONT）；存证页改用 STSong-Light，字体不会嵌入 PDF。"
        )
        pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT_NAME))
        return CertificateFont(name=FALLBACK_FONT_NAME, path="", embedded=False)

    path, face = _split_face(spec)
    # One registered name per file and face: reportlab's registry is process-wide.
    name = f"{FONT_NAME}-{zlib.crc32(path.encode()):08x}-{face}"
    try:
        pdfmetrics.registerFont(TTFont(name, path, subfontIndex=face))
    except (OSError, TTFError) as exc:
        raise ImproperlyConfigured(
            f"中文字体无法加载：{path}（{exc}）。PDF_CJK_FONT 须指向 TrueType 字体（.ttf/.ttc），"
            "不支持 CFF 轮廓的 .otf。"
        ) from exc
    return CertificateFont(name=name, path=path, embedded=True)


def certificate_font() -> CertificateFont:
    """The font to draw the certificate page with (registered with reportlab once per process)."""
    return _register(getattr(settings, "PDF_CJK_FONT", "") or "")
