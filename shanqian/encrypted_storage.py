"""
Files encrypted at rest (SPEC §13: ID-card photos), on whatever storage is configured.

``EncryptedStorage`` wraps another storage (``default_storage`` unless given: the file system or
S3 alike) and stores every file as ``fieldcrypt.encrypt_bytes`` output — a ``SQE1`` header with
the key id, then AES-256-GCM. ``open()`` returns the plain bytes; nothing else in the process sees
the ciphertext. There is deliberately no ``url()``: a direct storage URL (an S3 presigned link)
would hand out ciphertext, so an encrypted file leaves only through ``shanqian.storage``'s signed
``/files/<token>`` link, which decrypts as it serves (``signed_file_url(…, encrypted=True)``).

A file written before encryption was switched on is read as it is (``open`` tells by the header);
``manage.py reencrypt_fields`` (``shanqian.reencrypt``) encrypts such files, and re-encrypts files
under an old key, each in place under its own name (``replace_raw``).

``encrypted_storage`` is the instance model fields use (``FileField(storage=encrypted_storage)``).
"""

from __future__ import annotations

import contextlib
import os
import tempfile

from django.core.files.base import ContentFile
from django.core.files.storage import Storage, default_storage
from django.utils.deconstruct import deconstructible

from . import fieldcrypt

FILE_PURPOSE = "file"


@deconstructible(path="shanqian.encrypted_storage.EncryptedStorage")
class EncryptedStorage(Storage):
    def __init__(self, inner: Storage | None = None):
        self._inner = inner

    @property
    def inner(self) -> Storage:
        # default_storage is lazy, so tests (and settings) that change MEDIA_ROOT/STORAGES are followed.
        return self._inner if self._inner is not None else default_storage

    def __eq__(self, other):
        return isinstance(other, EncryptedStorage) and self._inner is other._inner

    def __hash__(self):
        return hash((EncryptedStorage, id(self._inner)))

    # --- reading and writing ---------------------------------------------------------------------

    def read_raw(self, name: str) -> bytes:
        with self.inner.open(name, "rb") as handle:
            return handle.read()

    def _open(self, name, mode="rb"):
        if "w" in mode or "a" in mode or "+" in mode:
            raise ValueError("加密存储的文件不能原地修改，请保存为新文件。")
        data = self.read_raw(name)
        if fieldcrypt.is_encrypted_bytes(data):
            data = fieldcrypt.decrypt_bytes(data, purpose=FILE_PURPOSE)
        return ContentFile(data, name=name)

    def _save(self, name, content):
        if hasattr(content, "seek"):
            content.seek(0)
        data = content.read()
        if isinstance(data, str):
            data = data.encode()
        return self.inner.save(name, ContentFile(fieldcrypt.encrypt_bytes(data, purpose=FILE_PURPOSE)))

    def replace_raw(self, name: str, data: bytes) -> None:
        """
        Put ``data`` (an already encrypted file: re-encryption) in place of the file ``name``, under
        the same name. On the file system a temporary file in the same folder is renamed over it
        (atomic: a reader sees the old or the new file, never half of one); elsewhere (S3) the
        object is written again under its key, which S3 replaces whole.
        """
        inner = self.inner
        try:
            path = inner.path(name)
        except NotImplementedError:
            inner._save(name, ContentFile(data))  # S3Storage._save writes the key as given
            return
        folder = os.path.dirname(path)
        descriptor, temporary = tempfile.mkstemp(dir=folder, prefix=".reencrypt-")
        try:
            with os.fdopen(descriptor, "wb") as handle:
                handle.write(data)
                handle.flush()
                os.fsync(handle.fileno())
            if inner.file_permissions_mode is not None:
                os.chmod(temporary, inner.file_permissions_mode)
            os.replace(temporary, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(temporary)
            raise

    # --- the rest is the wrapped storage's ------------------------------------------------------------

    def delete(self, name):
        return self.inner.delete(name)

    def exists(self, name):
        return self.inner.exists(name)

    def listdir(self, path):
        return self.inner.listdir(path)

    def size(self, name):
        return self.inner.size(name)

    def get_valid_name(self, name):
        return self.inner.get_valid_name(name)

    def get_available_name(self, name, max_length=None):
        return self.inner.get_available_name(name, max_length=max_length)

    def generate_filename(self, filename):
        return self.inner.generate_filename(filename)

    def get_modified_time(self, name):
        return self.inner.get_modified_time(name)

    def get_created_time(self, name):
        return self.inner.get_created_time(name)

    def url(self, name):
        raise NotImplementedError("加密文件没有直接链接：请用 shanqian.storage.signed_file_url(name, encrypted=True)。")


encrypted_storage = EncryptedStorage()
