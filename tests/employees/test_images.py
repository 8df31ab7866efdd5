"""employees.images.process_image: type by content, pixel cap before decoding, re-encoding."""

import io

import pytest
from PIL import Image, ImageFile, PngImagePlugin

from employees.images import BrokenImage, ImageTooLarge, UnsupportedImage, process_image
from tests.factories import GPS_LATITUDE, image_bytes, jpeg_with_gps_and_orientation, png_header_only

MAX = 40_000_000


def reopen(content: bytes) -> Image.Image:
    image = Image.open(io.BytesIO(content))
    image.load()
    return image


@pytest.mark.parametrize(("fmt", "mode"), [("JPEG", "RGB"), ("PNG", "RGB"), ("PNG", "RGBA"), ("WEBP", "RGB")])
def test_supported_formats_are_re_encoded_in_their_own_format(fmt, mode):
    color = (10, 20, 30, 128) if mode == "RGBA" else (10, 20, 30)

    result = process_image(image_bytes(fmt, (70, 30), mode, color), max_pixels=MAX)

    assert (result.format, result.width, result.height) == (fmt, 70, 30)
    stored = reopen(result.content)
    assert stored.format == fmt
    assert stored.size == (70, 30)
    if mode == "RGBA":
        assert stored.mode == "RGBA" and stored.getpixel((0, 0))[3] == 128


def test_the_type_is_judged_by_content_not_by_name():
    # A PNG is a PNG whatever the client calls it; the extension comes from the content.
    result = process_image(image_bytes("PNG"), max_pixels=MAX)
    assert (result.format, result.extension) == ("PNG", "png")


@pytest.mark.parametrize(
    "data",
    [
        image_bytes("GIF", mode="P", color=1),
        image_bytes("BMP"),
        image_bytes("TIFF"),
        b"%PDF-1.7\n1 0 obj<<>>endobj\n",
        b"<svg xmlns='http://www.w3.org/2000/svg'/>",
        b"MZ\x90\x00" + b"\x00" * 200,
        bytes(range(256)) * 4,
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
    ],
    ids=["gif", "bmp", "tiff", "pdf", "svg", "exe", "garbage", "riff-wave"],
)
def test_anything_else_is_unsupported(data):
    with pytest.raises(UnsupportedImage) as raised:
        process_image(data, max_pixels=MAX)
    assert raised.value.code == 41500


@pytest.mark.parametrize("fmt", ["JPEG", "PNG", "WEBP"])
@pytest.mark.parametrize("keep", [0.5, 0.05, 20])
def test_truncated_images_are_broken_not_unsupported(fmt, keep):
    buffer = io.BytesIO()
    Image.effect_noise((400, 300), 64).convert("RGB").save(buffer, fmt)
    data = buffer.getvalue()
    cut = int(len(data) * keep) if keep < 1 else keep

    with pytest.raises(BrokenImage) as raised:
        process_image(data[:cut], max_pixels=MAX)

    # It claims to be a supported type and is not readable: the content is broken (40000).
    assert raised.value.code == 40000


def test_a_corrupt_body_behind_a_good_header_is_broken():
    data = bytearray(image_bytes("PNG", (200, 200)))
    data[60:80] = b"\x00" * 20

    with pytest.raises(BrokenImage):
        process_image(bytes(data), max_pixels=MAX)


def test_huge_dimensions_are_refused_from_the_header_without_decoding(monkeypatch):
    def load_must_not_run(self):
        raise AssertionError("pixel data decoded")

    monkeypatch.setattr(ImageFile.ImageFile, "load", load_must_not_run)

    with pytest.raises(ImageTooLarge) as raised:
        process_image(png_header_only(8000, 6000), max_pixels=MAX)

    assert raised.value.code == 41300


def test_decompression_bombs_beyond_pillows_own_limit_are_refused():
    # 400 megapixels: Pillow raises DecompressionBombError in Image.open itself.
    with pytest.raises(ImageTooLarge):
        process_image(png_header_only(20000, 20000), max_pixels=MAX)


def test_the_pixel_cap_is_a_parameter():
    with pytest.raises(ImageTooLarge):
        process_image(image_bytes("PNG", (101, 100)), max_pixels=100 * 100)
    assert process_image(image_bytes("PNG", (100, 100)), max_pixels=100 * 100).width == 100


def test_exif_orientation_is_applied_then_all_exif_is_dropped():
    data = jpeg_with_gps_and_orientation(size=(40, 20), orientation=6)
    original = Image.open(io.BytesIO(data)).getexif()
    assert original.get_ifd(0x8825)[2] == GPS_LATITUDE  # the fixture really carries GPS

    result = process_image(data, max_pixels=MAX)

    stored = reopen(result.content)
    assert (result.width, result.height) == stored.size == (20, 40)
    assert not stored.getexif()
    assert b"Exif" not in result.content
    assert b"SpyCam" not in result.content
    # Orientation 6 = rotate 90° clockwise to view: the yellow top-left marker ends up top-right.
    r, g, b = stored.getpixel((stored.width - 3, 3))
    assert r > 200 and g > 200 and b < 80


def test_png_text_chunks_and_icc_profiles_are_dropped():
    info = PngImagePlugin.PngInfo()
    info.add_text("Location", "39.9,116.4 home")
    buffer = io.BytesIO()
    Image.new("RGB", (10, 10)).save(buffer, "PNG", pnginfo=info, icc_profile=b"fake-icc-profile-bytes")

    result = process_image(buffer.getvalue(), max_pixels=MAX)

    assert b"39.9,116.4" not in result.content
    assert b"iCCP" not in result.content
    assert reopen(result.content).info == {}


def test_palette_png_with_transparency_keeps_its_alpha():
    image = Image.new("P", (4, 4), 0)
    image.putpalette([255, 0, 0, 0, 255, 0] + [0] * 762)
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)

    stored = reopen(process_image(buffer.getvalue(), max_pixels=MAX).content)

    assert stored.mode == "RGBA" and stored.getpixel((0, 0))[3] == 0


def test_cmyk_jpeg_becomes_rgb():
    stored = reopen(process_image(image_bytes("JPEG", mode="CMYK", color=(0, 255, 255, 0)), max_pixels=MAX).content)
    assert stored.mode == "RGB"


def test_grayscale_stays_grayscale():
    assert reopen(process_image(image_bytes("JPEG", mode="L", color=128), max_pixels=MAX).content).mode == "L"


def test_sixteen_bit_png_is_accepted():
    stored = reopen(process_image(image_bytes("PNG", mode="I;16", color=40000), max_pixels=MAX).content)
    assert stored.size == (64, 48)
