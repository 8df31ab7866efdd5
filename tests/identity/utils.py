"""Helpers shared by the identity tests (login, captcha, SMS codes, uploads)."""

import io
import json
import struct
import zlib
from pathlib import Path

from django.conf import settings
from PIL import Image

from tests.envelope import assert_error, assert_ok  # noqa: F401  (re-exported)


def sent_sms() -> list[dict]:
    """The messages the ``file`` SMS backend wrote."""
    path = Path(settings.SMS_FILE_PATH)
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text(encoding="utf-8").splitlines()]


def image_bytes(fmt="JPEG", size=(64, 48), mode="RGB", color=(200, 30, 30), **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


GPS_LATITUDE = (39.0, 54.0, 27.0)


def jpeg_with_gps_and_orientation(size=(40, 20), orientation=6) -> bytes:
    """A JPEG whose EXIF carries GPS coordinates, a camera model and an orientation."""
    image = Image.new("RGB", size, (10, 120, 200))
    # A marker in the top-left corner tells whether the orientation was applied.
    image.paste((255, 255, 0), (0, 0, 8, 8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0110] = "SpyCam 3000"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 44.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` but carries no real pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    )
