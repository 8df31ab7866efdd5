"""
Image intake for ``POST /api/image`` (SPEC §4.10): bytes in, clean bytes out.

``process_image(data, max_pixels=…)`` is pure (no storage, no database):

1. The type is judged from the content, never from the name or the declared
   type: Pillow, restricted to JPEG, PNG and WebP, must identify it. Content
   that does not even start like one of them (GIF, PDF, text, random bytes…)
   is ``UnsupportedImage`` (415/41500); content that starts like one of them
   but cannot be read (truncated, corrupt) is ``BrokenImage`` (400/40000) — the
   type is fine, the file is not.
2. The dimensions come from the header (``Image.open`` is lazy) and are checked
   against ``max_pixels`` *before* any pixel is decoded: ``ImageTooLarge``
   (413/41300). Pillow's own decompression-bomb guard is caught the same way.
3. The pixels are decoded; failing that is ``BrokenImage`` (400/40000).
4. EXIF orientation is applied to the pixels, then the image is re-encoded in
   its own format from pixels only: EXIF (GPS!), XMP, ICC profiles, comments and
   text chunks are all dropped.

Memory (issue 15, finding 4). An allowed upload must not cost a gigabyte, so:

* the pixel limit fits the purpose — an ID-card photo or a signature needs a few megapixels,
  not 40. ``UPLOAD_MAX_PIXELS`` (16 MP, 4096×4096: still a 4624×3468 phone photo) bounds every
  upload; a JPEG is decoded at reduced scale, so that is all it needs. PNG and WebP can only be
  decoded at full size (Pillow's WebP decoder holds ~15 bytes a pixel, PNG ~6), so they have
  their own, lower caps: ``UPLOAD_MAX_PIXELS_PNG`` (12 MP) and ``UPLOAD_MAX_PIXELS_WEBP``
  (3 MP — a 2048×1536 picture; phone cameras and WeChat hand over JPEG);
* what is stored is at most ``max_side`` pixels on its long side (``UPLOAD_MAX_SIDE``, 2560):
  a JPEG is decoded straight at the scale that fits (``Image.draft``: libjpeg's DCT scaling,
  so the full-size pixels never exist), PNG and WebP are decoded once and ``reduce``d;
* there is one full-size pixel buffer at a time: no ``copy()`` when the mode is already
  right, orientation applied in place;
* at most ``UPLOAD_DECODE_CONCURRENCY`` decodes run at once per process (a semaphore; a
  threaded worker queues the rest, and one that waits longer than ``UPLOAD_DECODE_WAIT``
  seconds is told 503/50300 "busy").

``bench/upload_memory.py`` (run by ``make bench``) measures the worst case: peak worker
growth with 4 parallel uploads of the largest allowed images.
"""

import io
import math
import threading
from dataclasses import dataclass

from django.conf import settings
from PIL import Image, UnidentifiedImageError

from shanqian.errors import ApiError, Code, InvalidInput, UpstreamBusy

ACCEPTED_FORMATS = ("JPEG", "PNG", "WEBP")
EXTENSIONS = {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}


class UnsupportedImage(ApiError):
    code = Code.UNSUPPORTED_MEDIA


class ImageTooLarge(ApiError):
    code = Code.TOO_LARGE


class BrokenImage(InvalidInput):
    pass


@dataclass(frozen=True)
class ProcessedImage:
    content: bytes
    format: str  # "JPEG" | "PNG" | "WEBP"
    width: int
    height: int

    @property
    def extension(self) -> str:
        return EXTENSIONS[self.format]


def _looks_supported(data: bytes) -> bool:
    """The file signature of JPEG, PNG or WebP (what the content claims to be)."""
    return (
        data.startswith(b"\xff\xd8\xff")
        or data.startswith(b"\x89PNG\r\n\x1a\n")
        or (data[:4] == b"RIFF" and data[8:12] == b"WEBP")
    )


def _too_large(max_pixels: int) -> ImageTooLarge:
    if max_pixels >= 1_000_000:
        return ImageTooLarge(f"图片尺寸过大，像素总数不能超过 {max_pixels / 1_000_000:.3g} 百万")
    return ImageTooLarge(f"图片尺寸过大，像素总数不能超过 {max_pixels} 像素")


def _open(data: bytes, max_pixels: int) -> Image.Image:
    try:
        image = Image.open(io.BytesIO(data), formats=ACCEPTED_FORMATS)
    except Image.DecompressionBombError:
        raise _too_large(max_pixels) from None
    except (UnidentifiedImageError, OSError, SyntaxError, ValueError, EOFError):
        if _looks_supported(data):
            raise BrokenImage(_BROKEN) from None
        raise UnsupportedImage("仅支持 JPEG、PNG、WebP 格式的图片") from None
    width, height = image.size
    if width < 1 or height < 1:
        raise BrokenImage(_BROKEN)
    limit = min(max_pixels, _format_cap(image.format))
    if width * height > limit:
        raise _too_large(limit)
    return image


def _format_cap(fmt: str) -> int:
    """The full-size decoders (PNG, WebP) get their own, lower pixel caps (see the module docstring)."""
    if fmt == "PNG":
        return settings.UPLOAD_MAX_PIXELS_PNG
    if fmt == "WEBP":
        return settings.UPLOAD_MAX_PIXELS_WEBP
    return settings.UPLOAD_MAX_PIXELS


_BROKEN = "图片已损坏或不完整，请重新选择"
_ORIENTATION = 0x0112
# EXIF orientation → the transpose that makes the pixels upright (as ImageOps.exif_transpose).
_TRANSPOSE = {
    2: Image.Transpose.FLIP_LEFT_RIGHT,
    3: Image.Transpose.ROTATE_180,
    4: Image.Transpose.FLIP_TOP_BOTTOM,
    5: Image.Transpose.TRANSPOSE,
    6: Image.Transpose.ROTATE_270,
    7: Image.Transpose.TRANSVERSE,
    8: Image.Transpose.ROTATE_90,
}


def _decode(image: Image.Image, max_pixels: int, max_side: int | None) -> Image.Image:
    long_side = max(image.size)
    if max_side and long_side > max_side and image.format == "JPEG":
        # libjpeg scales by 1/2, 1/4 or 1/8 while decoding (to the smallest scale still >= the request),
        # so ask for the size the integer reduce below would give: the full-size pixels never exist.
        factor = math.ceil(long_side / max_side)
        image.draft(None, (math.ceil(image.width / factor), math.ceil(image.height / factor)))
    try:
        image.load()
    except Image.DecompressionBombError:
        raise _too_large(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError):
        raise BrokenImage(_BROKEN) from None
    try:
        orientation = image.getexif().get(_ORIENTATION, 1)
    except Exception:  # malformed EXIF must not reject a photo that decodes
        orientation = 1
    if max_side and max(image.size) > max_side:
        image = image.reduce(math.ceil(max(image.size) / max_side))
    method = _TRANSPOSE.get(orientation)
    if method is not None:
        image = image.transpose(method)
    return image


def _pixels_only(image: Image.Image, fmt: str) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La") or "transparency" in image.info
    if fmt == "JPEG":
        mode = "L" if image.mode == "L" else "RGB"
    else:
        mode = "RGBA" if has_alpha else ("L" if image.mode == "L" else "RGB")
    try:
        # No copy when the mode is already right: one full-size buffer at a time.
        clean = image.convert(mode) if image.mode != mode else image
    except (OSError, ValueError) as exc:
        raise UnsupportedImage("不支持该图片的色彩模式，请转换为常见的 JPEG 或 PNG 后重试") from exc
    # The pixels are all that is kept: ``info`` (EXIF, ICC, comments) and the parsed EXIF go.
    clean.info = {}
    clean._exif = None
    return clean


_decodes: threading.BoundedSemaphore | None = None
_decodes_lock = threading.Lock()


def _decode_slots() -> threading.BoundedSemaphore:
    global _decodes
    with _decodes_lock:
        if _decodes is None:
            _decodes = threading.BoundedSemaphore(max(1, settings.UPLOAD_DECODE_CONCURRENCY))
        return _decodes


_SETTING = object()


def process_image(data: bytes, *, max_pixels: int, max_side: int | None = _SETTING) -> ProcessedImage:
    """
    Validate and re-encode an uploaded image, at most ``max_side`` pixels on its long side
    (``UPLOAD_MAX_SIDE`` unless given; None keeps every pixel); raises UnsupportedImage,
    ImageTooLarge, BrokenImage, or UpstreamBusy when decoding waits too long.
    """
    if max_side is _SETTING:
        max_side = settings.UPLOAD_MAX_SIDE
    image = _open(data, max_pixels)  # the header only: refused before any pixel is decoded
    fmt = image.format
    slots = _decode_slots()
    if not slots.acquire(timeout=settings.UPLOAD_DECODE_WAIT):
        raise UpstreamBusy("图片处理繁忙，请稍后重试")
    try:
        return _reencode(image, fmt, max_pixels, max_side)
    finally:
        slots.release()


def _reencode(image: Image.Image, fmt: str, max_pixels: int, max_side: int | None) -> ProcessedImage:
    clean = _pixels_only(_decode(image, max_pixels, max_side), fmt)
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=90)
    elif fmt == "PNG":
        clean.save(out, "PNG")
    else:
        clean.save(out, "WEBP", quality=90, method=4)
    return ProcessedImage(content=out.getvalue(), format=fmt, width=clean.width, height=clean.height)
