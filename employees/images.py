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
"""

import io
from dataclasses import dataclass

from PIL import Image, ImageOps, UnidentifiedImageError

from shanqian.errors import ApiError, Code, InvalidInput

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
    return ImageTooLarge(f"图片尺寸过大，像素总数不能超过 {max_pixels // 1_000_000} 百万")


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
    if width * height > max_pixels:
        raise _too_large(max_pixels)
    return image


_BROKEN = "图片已损坏或不完整，请重新选择"


def _decode(image: Image.Image, max_pixels: int) -> Image.Image:
    try:
        image.load()
    except Image.DecompressionBombError:
        raise _too_large(max_pixels) from None
    except (OSError, SyntaxError, ValueError, EOFError, IndexError, MemoryError):
        raise BrokenImage(_BROKEN) from None
    try:
        upright = ImageOps.exif_transpose(image)
    except Exception:  # malformed EXIF must not reject a photo that decodes
        upright = image
    return upright if upright is not None else image


def _pixels_only(image: Image.Image, fmt: str) -> Image.Image:
    has_alpha = image.mode in ("RGBA", "LA", "PA", "La") or "transparency" in image.info
    if fmt == "JPEG":
        mode = "L" if image.mode == "L" else "RGB"
    else:
        mode = "RGBA" if has_alpha else ("L" if image.mode == "L" else "RGB")
    try:
        clean = image.convert(mode) if image.mode != mode else image.copy()
    except (OSError, ValueError) as exc:
        raise UnsupportedImage("不支持该图片的色彩模式，请转换为常见的 JPEG 或 PNG 后重试") from exc
    # A converted or copied image inherits ``info`` (EXIF, ICC, comments): drop all of it.
    clean.info = {}
    return clean


def process_image(data: bytes, *, max_pixels: int) -> ProcessedImage:
    """Validate and re-encode an uploaded image; raises UnsupportedImage, ImageTooLarge or BrokenImage."""
    image = _open(data, max_pixels)
    fmt = image.format
    upright = _decode(image, max_pixels)
    clean = _pixels_only(upright, fmt)
    out = io.BytesIO()
    if fmt == "JPEG":
        clean.save(out, "JPEG", quality=90)
    elif fmt == "PNG":
        clean.save(out, "PNG")
    else:
        clean.save(out, "WEBP", quality=90, method=4)
    return ProcessedImage(content=out.getvalue(), format=fmt, width=clean.width, height=clean.height)
