"""Files encrypted at rest: the storage wrapper on the file system and on S3, and the signed link."""

import os
from pathlib import Path

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from shanqian import fieldcrypt
from shanqian.encrypted_storage import EncryptedStorage, encrypted_storage
from shanqian.storage import file_name_from_url, signed_file_url

PNG = b"\x89PNG\r\n\x1a\n" + os.urandom(2000)


def test_filesystem_file_is_ciphertext_on_disk_and_plain_through_the_storage(settings, db):
    name = encrypted_storage.save("uploads/aa/photo.png", ContentFile(PNG))

    on_disk = (Path(settings.MEDIA_ROOT) / name).read_bytes()

    assert on_disk.startswith(b"SQE1") and PNG not in on_disk
    assert fieldcrypt.file_key_id(on_disk) == fieldcrypt.load_keyring().current_id
    with encrypted_storage.open(name) as handle:
        assert handle.read() == PNG


def test_the_signed_link_decrypts_as_it_serves(db):
    name = encrypted_storage.save("uploads/aa/photo.png", ContentFile(PNG))

    response = Client().get(signed_file_url(name, encrypted=True))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == PNG
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]


def test_a_file_from_before_encryption_is_still_served(db):
    name = default_storage.save("uploads/aa/legacy.png", ContentFile(PNG))

    response = Client().get(signed_file_url(name, encrypted=True))

    assert b"".join(response.streaming_content) == PNG


def test_an_encrypted_file_has_no_direct_url():
    with pytest.raises(NotImplementedError):
        encrypted_storage.url("uploads/aa/photo.png")


def test_a_tampered_file_does_not_decrypt(settings, db):
    name = encrypted_storage.save("uploads/aa/photo.png", ContentFile(PNG))
    path = Path(settings.MEDIA_ROOT) / name
    data = bytearray(path.read_bytes())
    data[-1] ^= 1
    path.write_bytes(bytes(data))

    with pytest.raises(fieldcrypt.FieldDecryptionError):
        encrypted_storage.open(name)


@pytest.fixture
def s3_storage(tmp_path):
    from storages.backends.s3 import S3Storage

    from tests.support.servers import moto_bucket

    with moto_bucket(tmp_path, "enc-test") as (options, client):
        yield S3Storage(**options), client


def test_s3_object_is_ciphertext_and_reads_back_plain(s3_storage):
    inner, client = s3_storage
    storage = EncryptedStorage(inner)

    name = storage.save("uploads/bb/photo.png", ContentFile(PNG))
    stored = client.get_object(Bucket="enc-test", Key=name)["Body"].read()

    assert stored.startswith(b"SQE1") and PNG not in stored
    with storage.open(name) as handle:
        assert handle.read() == PNG


def test_on_s3_an_encrypted_file_gets_our_link_not_a_presigned_one(settings, db):
    settings.STORAGE_BACKEND = "s3"

    url = signed_file_url("uploads/bb/photo.png", encrypted=True)

    assert url.startswith("/files/")
    assert file_name_from_url("https://api.example.com" + url) == "uploads/bb/photo.png"
