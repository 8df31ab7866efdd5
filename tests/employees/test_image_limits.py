"""
Issue 15, finding 4: a 69 KB WebP of 39.7 MP took 1.1 GB of one worker, four in parallel 4.5 GB.

Pixel caps now fit the purpose (16 MP JPEG, 12 MP PNG, 3 MP WebP — see employees.images),
checked from the header before any pixel is decoded; what is stored is at most UPLOAD_MAX_SIDE
on its long side, a JPEG decoded straight at that scale; and at most UPLOAD_DECODE_CONCURRENCY
decodes run at once per process. The memory figure itself is a benchmark
(``bench/upload_memory.py``, in ``make bench``).
"""

import io
import threading
import time

import pytest
from PIL import Image
from rest_framework.test import APIClient

from employees import images
from employees.images import ImageTooLarge, process_image
from shanqian.errors import UpstreamBusy

BIG = 50_000_000  # a caller's overall cap above every format cap


def _encoded(fmt: str, size: tuple[int, int], mode: str = "RGB") -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, (200, 30, 30) if mode == "RGB" else (200, 30, 30, 128)).save(buffer, fmt)
    return buffer.getvalue()


@pytest.mark.parametrize(
    ("fmt", "size", "mode"),
    [
        ("WEBP", (6300, 6300), "RGB"),  # the reported 39.7 MP WebP
        ("WEBP", (2049, 1537), "RGBA"),  # just over the WebP cap
        ("PNG", (4000, 3001), "RGBA"),  # just over the PNG cap
        ("JPEG", (4097, 4096), "RGB"),  # just over the overall cap
    ],
)
def test_images_over_their_format_cap_are_refused_before_decoding(fmt, size, mode, monkeypatch):
    """Finding 4: 40 MP was allowed for every format."""
    data = _encoded(fmt, size, mode)
    monkeypatch.setattr(Image.Image, "load", lambda self: pytest.fail("decoded before the pixel check"))

    with pytest.raises(ImageTooLarge):
        process_image(data, max_pixels=BIG)


def test_a_phone_photo_is_decoded_at_reduced_scale_and_stored_within_the_side_limit(settings):
    """Finding 4: a 4624×3468 photo (16 MP) is accepted, decoded by libjpeg at 1/2 scale, stored ≤ UPLOAD_MAX_SIDE."""
    data = _encoded("JPEG", (4624, 3468))
    decoded_sizes = []
    original = images._pixels_only

    def spy(image, fmt):
        decoded_sizes.append(image.size)
        return original(image, fmt)

    images._pixels_only = spy
    try:
        result = process_image(data, max_pixels=BIG)
    finally:
        images._pixels_only = original

    assert (result.width, result.height) == (2312, 1734)
    assert max(result.width, result.height) <= settings.UPLOAD_MAX_SIDE
    assert decoded_sizes == [(2312, 1734)]  # the full 16 MP never existed as pixels


def test_a_png_larger_than_the_side_limit_is_reduced(settings):
    settings.UPLOAD_MAX_SIDE = 1000

    result = process_image(_encoded("PNG", (3000, 1200)), max_pixels=BIG)

    assert (result.width, result.height) == (1000, 400)


def test_at_most_the_configured_number_of_decodes_run_at_once(settings, monkeypatch):
    """Finding 4: four parallel uploads held four full-size decodes in one worker."""
    monkeypatch.setattr(images, "_decodes", None)
    settings.UPLOAD_DECODE_CONCURRENCY = 1
    running, peak, lock = [0], [0], threading.Lock()
    original = images._reencode

    def slow(*args):
        with lock:
            running[0] += 1
            peak[0] = max(peak[0], running[0])
        time.sleep(0.1)
        try:
            return original(*args)
        finally:
            with lock:
                running[0] -= 1

    monkeypatch.setattr(images, "_reencode", slow)
    data = _encoded("PNG", (64, 48))
    threads = [threading.Thread(target=process_image, args=(data,), kwargs={"max_pixels": BIG}) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()

    assert peak[0] == 1


def test_a_decode_that_waits_too_long_is_a_503(settings, monkeypatch):
    monkeypatch.setattr(images, "_decodes", threading.BoundedSemaphore(1))
    settings.UPLOAD_DECODE_WAIT = 0.05
    images._decodes.acquire()
    try:
        with pytest.raises(UpstreamBusy):
            process_image(_encoded("PNG", (64, 48)), max_pixels=BIG)
    finally:
        images._decodes.release()


def test_the_default_caps_are_purpose_fit(settings):
    """Finding 4: decided and documented (docs/configuration.md, docs/operations.md)."""
    assert settings.UPLOAD_MAX_PIXELS == 4096 * 4096
    assert settings.UPLOAD_MAX_PIXELS_PNG == 12_000_000
    assert settings.UPLOAD_MAX_PIXELS_WEBP == 2048 * 1536


@pytest.mark.django_db
def test_the_schema_states_the_pixel_caps_in_force():
    schema = APIClient().get("/api/schema", {"format": "json"}).json()
    description = schema["paths"]["/api/image"]["post"]["description"]

    assert "5 MB" in description
    assert "JPEG 不超过 1678 万、PNG 1200 万、WebP 315 万" in description
    assert "4000 万" not in description
