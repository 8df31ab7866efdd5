"""POST /api/image and the signed /files/<token> links it hands out (SPEC §4.10)."""

import hashlib
import io
import time
from pathlib import Path
from unittest import mock
from urllib.parse import urlsplit

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from PIL import Image
from rest_framework.test import APIClient

from employees.models import Upload
from employees.uploads import upload_from_url
from shanqian.throttling import UploadThrottle
from tests.envelope import assert_error, assert_ok
from tests.factories import GPS_LATITUDE, WechatUserFactory, image_bytes, jpeg_with_gps_and_orientation, png_header_only

pytestmark = pytest.mark.django_db


def upload(client, data: bytes, name="photo.jpg", content_type="image/jpeg"):
    return client.post("/api/image", {"file": SimpleUploadedFile(name, data, content_type)}, format="multipart")


def stored_files(settings) -> list[Path]:
    root = Path(settings.MEDIA_ROOT)
    return [p for p in root.rglob("*") if p.is_file()] if root.exists() else []


def nothing_stored(settings) -> bool:
    return Upload.objects.count() == 0 and stored_files(settings) == []


def test_upload_stores_a_clean_private_copy_and_returns_a_signed_url(user_api, settings):
    original = jpeg_with_gps_and_orientation(size=(40, 20), orientation=6)
    assert Image.open(io.BytesIO(original)).getexif().get_ifd(0x8825)[2] == GPS_LATITUDE

    data = assert_ok(upload(user_api, original, name="我的身份证 GPS.jpg"))

    row = Upload.objects.get()
    assert row.owner == user_api.user
    assert (row.format, row.width, row.height) == ("JPEG", 20, 40)
    content = row.file.open().read()  # decrypted: the stored object is ciphertext (test_upload_encryption)
    assert row.size == len(content)
    assert row.sha256 == hashlib.sha256(content).hexdigest()
    assert "身份证" not in row.file.name and "photo" not in row.file.name
    assert row.file.name.startswith("uploads/") and row.file.name.endswith(".jpg")
    stored = Image.open(io.BytesIO(content))
    assert not stored.getexif()
    assert b"Exif" not in content and b"SpyCam" not in content
    assert set(data) == {"url"}
    assert urlsplit(data["url"]).path.startswith("/files/")
    assert upload_from_url(user=user_api.user, url=data["url"]) == row


def test_the_signed_url_serves_the_file_while_fresh(user_api):
    url = assert_ok(upload(user_api, image_bytes("PNG"), name="a.png"))["url"]

    response = APIClient().get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "image/png"
    assert b"".join(response.streaming_content) == Upload.objects.get().file.open().read()
    assert response["Cache-Control"] == "private, no-store"


def test_the_signed_url_stops_working_after_expiry(user_api, settings):
    settings.UPLOAD_URL_TTL = 60
    url = assert_ok(upload(user_api, image_bytes("PNG"), name="a.png"))["url"]
    later = time.time() + 61

    with mock.patch("django.core.signing.time.time", return_value=later):
        response = APIClient().get(url)

    assert_error(response, 404, 40400)


def test_a_tampered_token_is_404(user_api):
    url = assert_ok(upload(user_api, image_bytes("PNG"), name="a.png"))["url"]
    path = urlsplit(url).path.rstrip("/")
    tampered = path[:-3] + ("AAA" if not path.endswith("AAA") else "BBB")

    assert_error(APIClient().get(tampered), 404, 40400)
    assert_error(APIClient().get("/files/not-a-token"), 404, 40400)


@pytest.mark.parametrize(("fmt", "ext"), [("JPEG", "jpg"), ("PNG", "png"), ("WEBP", "webp")])
def test_each_supported_format_is_accepted_whatever_its_declared_name(user_api, fmt, ext):
    assert_ok(upload(user_api, image_bytes(fmt), name="file.gif", content_type="image/gif"))

    row = Upload.objects.get()
    assert row.format == fmt and row.file.name.endswith(f".{ext}")


@pytest.mark.parametrize(
    "data",
    [image_bytes("GIF", mode="P", color=1), b"%PDF-1.4 not an image", b"plain text pretending", image_bytes("BMP")],
    ids=["gif", "pdf", "text", "bmp"],
)
def test_files_that_are_not_supported_images_are_41500(user_api, settings, data):
    body = assert_error(upload(user_api, data, name="x.jpg"), 415, 41500)
    assert "JPEG" in body["msg"]
    assert nothing_stored(settings)


def test_a_truncated_image_is_40000(user_api, settings):
    buffer = io.BytesIO()
    Image.effect_noise((300, 300), 50).convert("RGB").save(buffer, "JPEG")
    data = buffer.getvalue()

    assert_error(upload(user_api, data[: len(data) // 2]), 400, 40000)
    assert nothing_stored(settings)


def test_huge_dimensions_are_41300(user_api, settings):
    assert_error(upload(user_api, png_header_only(10000, 5000), name="x.png"), 413, 41300)
    assert nothing_stored(settings)


def test_a_decompression_bomb_is_41300(user_api, settings):
    assert_error(upload(user_api, png_header_only(30000, 30000), name="x.png"), 413, 41300)
    assert nothing_stored(settings)


def test_pixel_cap_follows_the_setting(user_api, settings):
    settings.UPLOAD_MAX_PIXELS = 100 * 100
    assert_error(upload(user_api, image_bytes("PNG", (101, 100))), 413, 41300)
    assert nothing_stored(settings)


def test_a_file_over_the_byte_cap_is_41300(user_api, settings):
    data = image_bytes("PNG", (64, 48))
    settings.UPLOAD_MAX_BYTES = len(data) - 1

    assert_error(upload(user_api, data, name="a.png"), 413, 41300)
    assert nothing_stored(settings)


def test_a_body_over_the_api_cap_is_41300_before_it_is_read(user_api, settings):
    settings.API_MAX_BODY_BYTES = 1000
    assert_error(upload(user_api, b"\xff\xd8\xff" + b"\x00" * 5000), 413, 41300)
    assert nothing_stored(settings)


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"file": ""},
        {"file": "not a file, a text field"},
        {"other": SimpleUploadedFile("a.png", image_bytes("PNG"))},
        {"file": SimpleUploadedFile("empty.jpg", b"")},
    ],
    ids=["no-parts", "empty-field", "text-field", "wrong-field-name", "empty-file"],
)
def test_missing_or_empty_file_is_40000(user_api, settings, body):
    body = assert_error(user_api.post("/api/image", body, format="multipart"), 400, 40000)

    assert body["data"]["errors"]["file"]
    assert nothing_stored(settings)


def test_an_empty_multipart_body_is_40000(user_api, settings):
    response = user_api.generic("POST", "/api/image", b"", content_type="multipart/form-data; boundary=xyz")
    assert_error(response, 400, 40000)
    assert nothing_stored(settings)


def test_a_multipart_body_without_boundary_is_40000(user_api, settings):
    response = user_api.generic("POST", "/api/image", b"--x\r\n", content_type="multipart/form-data")
    assert_error(response, 400, 40000)
    assert nothing_stored(settings)


def test_json_or_form_bodies_are_41500(user_api, settings):
    assert_error(user_api.post("/api/image", {"file": "aGVsbG8="}, format="json"), 415, 41500)
    form = user_api.generic("POST", "/api/image", b"file=aGVsbG8%3D", content_type="application/x-www-form-urlencoded")
    assert_error(form, 415, 41500)
    assert nothing_stored(settings)


def test_anonymous_upload_is_40100(api, settings):
    assert_error(upload(api, image_bytes("PNG")), 401, 40100)
    assert nothing_stored(settings)


def test_another_users_url_is_not_theirs(user_api, platform):
    url = assert_ok(upload(user_api, image_bytes("PNG")))["url"]
    with pytest.raises(ValueError, match="本人"):
        upload_from_url(user=WechatUserFactory(platform=platform), url=url)


def test_a_database_failure_removes_the_stored_file(user_api, settings, monkeypatch):
    def fail(*args, **kwargs):
        raise RuntimeError("database went away")

    monkeypatch.setattr(Upload, "save", fail)

    assert_error(upload(user_api, image_bytes("PNG")), 500, 50000)

    assert stored_files(settings) == []


def test_uploads_are_throttled_per_user(user_api, settings, monkeypatch):
    monkeypatch.setattr(UploadThrottle, "THROTTLE_RATES", {"upload": "2/hour"})
    assert_ok(upload(user_api, image_bytes("PNG")))
    assert_ok(upload(user_api, image_bytes("PNG")))

    response = upload(user_api, image_bytes("PNG"))

    body = assert_error(response, 429, 42900)
    assert 3500 <= body["data"]["retry_after"] <= 3600
    assert response["Retry-After"] == str(body["data"]["retry_after"])
    assert Upload.objects.count() == 2


def test_upload_query_count(user_api, capsys):
    user_api.get("/api/captcha")  # warm the platform cache
    with CaptureQueriesContext(connection) as ctx:
        assert_ok(upload(user_api, image_bytes("JPEG", (800, 600))))

    real = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"].upper()]
    # Resolve the token (with its user), the consent gate (SPEC §13), insert the Upload row.
    assert len(real) == 3, real
    with capsys.disabled():
        print(f"\n[upload queries] {len(ctx)} total / {len(real)} real")
