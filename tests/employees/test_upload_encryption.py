"""
Uploads — ID-card photos among them — are encrypted at rest (SPEC §13), on the file system and on
S3 alike: the stored object is no image at all, and only the signed ``/files/`` link decrypts it.
The resume, the real-name check and the signature read them as before.
"""

import io
from urllib.parse import urlsplit

import pytest
from django.core.files.storage import default_storage
from django.core.files.uploadedfile import SimpleUploadedFile
from PIL import Image, UnidentifiedImageError
from rest_framework.test import APIClient

from employees.models import Upload
from tests.envelope import assert_error, assert_ok
from tests.factories import image_bytes

pytestmark = pytest.mark.django_db


def upload(client, data: bytes):
    return assert_ok(
        client.post("/api/image", {"file": SimpleUploadedFile("id.jpg", data, "image/jpeg")}, format="multipart")
    )["url"]


def served(url: str) -> bytes:
    response = APIClient().get(urlsplit(url).path)
    assert response.status_code == 200, response
    return b"".join(response.streaming_content)


def assert_ciphertext(stored: bytes, plain: bytes) -> None:
    assert stored.startswith(b"SQE1") and plain not in stored and plain[:64] not in stored
    with pytest.raises(UnidentifiedImageError):
        Image.open(io.BytesIO(stored))


def test_on_the_file_system_the_stored_photo_is_no_image_and_the_link_serves_it_decrypted(user_api):
    url = upload(user_api, image_bytes("JPEG", size=(80, 50)))
    row = Upload.objects.get()
    plain = row.file.open().read()

    assert_ciphertext(default_storage.open(row.file.name).read(), plain)
    image = Image.open(io.BytesIO(served(url)))
    assert (image.format, image.size) == ("JPEG", (80, 50))
    assert served(url) == plain


@pytest.fixture
def s3(settings, tmp_path):
    from tests.support.servers import moto_bucket

    with moto_bucket(tmp_path, "photos") as (options, client):
        settings.STORAGE_BACKEND = "s3"
        settings.STORAGES = {
            **settings.STORAGES,
            "default": {"BACKEND": "storages.backends.s3.S3Storage", "OPTIONS": options},
        }
        yield client


def test_on_s3_the_object_is_no_image_and_only_our_link_decrypts_it(user_api, s3):
    url = upload(user_api, image_bytes("JPEG", size=(80, 50)))
    row = Upload.objects.get()
    stored = s3.get_object(Bucket="photos", Key=row.file.name)["Body"].read()
    plain = row.file.open().read()

    assert_ciphertext(stored, plain)
    assert urlsplit(url).path.startswith("/files/")  # never a presigned link to the ciphertext
    assert Image.open(io.BytesIO(served(url))).size == (80, 50)
    assert_error(APIClient().get(urlsplit(url).path[:-3] + "AAA"), 404, 40400)


def test_on_s3_reencrypt_fields_encrypts_a_plain_object_in_place(user_api, s3, settings):
    from django.core.management import call_command

    plain = image_bytes("PNG", size=(30, 20))
    s3.put_object(Bucket="photos", Key="uploads/ab/legacy.png", Body=plain)
    Upload.objects.create(
        owner=user_api.user, file="uploads/ab/legacy.png", format="PNG", size=len(plain), width=30, height=20
    )
    out = io.StringIO()

    call_command("reencrypt_fields", "--skip-files", stdout=out)
    assert "Upload" not in out.getvalue()
    call_command("reencrypt_fields", stdout=out)

    assert "employees.Upload.file: scanned=1 reencrypted=0 encrypted=1 batches=1" in out.getvalue()
    assert_ciphertext(s3.get_object(Bucket="photos", Key="uploads/ab/legacy.png")["Body"].read(), plain)
    assert Upload.objects.get().file.open().read() == plain
