"""
Private media (SPEC §4.10): nothing under MEDIA_ROOT is public.

A stored file is reached only through a signed, expiring link:
* file-system storage → ``/files/<token>``, where the token signs the storage
  name with a timestamp (``django.core.signing``); ``private_file`` serves it
  while the token is fresh;
* S3-compatible storage (django-storages) → the storage's own presigned URL.

Files encrypted at rest (``shanqian.encrypted_storage``) always take the
``/files/<token>`` route, on S3 too (a presigned link would serve ciphertext):
pass ``encrypted=True``. ``private_file`` reads through ``EncryptedStorage``,
which decrypts an encrypted file and passes any other file through unchanged.

``file_name_from_url`` turns one of our links back into the storage name
(whatever its age) so the resume can accept an upload by URL and then check
who owns it.
"""

from urllib.parse import unquote, urlsplit

from django.conf import settings
from django.core import signing
from django.core.files.storage import default_storage
from django.http import FileResponse
from django.urls import reverse

from .encrypted_storage import encrypted_storage
from .envelope import error_response
from .errors import Code

_SALT = "shanqian.storage.private-file"
CONTENT_TYPES = {
    "jpg": "image/jpeg",
    "jpeg": "image/jpeg",
    "png": "image/png",
    "webp": "image/webp",
    "pdf": "application/pdf",
}


def _is_s3() -> bool:
    return settings.STORAGE_BACKEND == "s3"


def signed_file_url(name: str, *, request=None, ttl: int | None = None, encrypted: bool = False) -> str:
    """
    A link to the stored file ``name`` that works for ``ttl`` seconds (default UPLOAD_URL_TTL).
    ``encrypted``: the file is stored through ``EncryptedStorage`` and must be decrypted by us.
    """
    ttl = ttl or settings.UPLOAD_URL_TTL
    if _is_s3() and not encrypted:
        return default_storage.url(name, parameters=None, expire=ttl)
    token = signing.dumps({"n": name, "t": ttl}, salt=_SALT, compress=True)
    path = reverse("private-file", args=[token])
    return request.build_absolute_uri(path) if request is not None else path


def file_name_from_url(url: str) -> str | None:
    """The storage name behind one of our links, or None when it is not one (expiry is not checked)."""
    if not isinstance(url, str) or len(url) > 2048:
        return None
    path = urlsplit(url.strip()).path
    prefix = reverse("private-file", args=["x"])[:-1]
    if path.startswith(prefix):
        token = path[len(prefix) :].rstrip("/")
        try:
            return signing.loads(token, salt=_SALT)["n"]
        except (signing.BadSignature, KeyError, TypeError, ValueError):
            return None
    if _is_s3():
        bucket = default_storage.bucket_name
        key = unquote(path).lstrip("/")
        if key.startswith(f"{bucket}/"):
            key = key[len(bucket) + 1 :]
        return key or None
    return None


def private_file(request, token: str):
    """Serve a stored file for a fresh signed token; 404 for anything else."""
    try:
        payload = signing.loads(token, salt=_SALT)
        ttl = int(payload.get("t") or settings.UPLOAD_URL_TTL)
        name = signing.loads(token, salt=_SALT, max_age=ttl)["n"]
    except signing.SignatureExpired:
        return error_response(Code.NOT_FOUND, "链接已过期，请重新获取")
    except (signing.BadSignature, KeyError, TypeError, ValueError):
        return error_response(Code.NOT_FOUND, "文件不存在")
    if not default_storage.exists(name):
        return error_response(Code.NOT_FOUND, "文件不存在")
    extension = name.rsplit(".", 1)[-1].lower()
    # Decrypted here, and only here, on its way out (plain files pass through unchanged).
    response = FileResponse(
        encrypted_storage.open(name, "rb"), content_type=CONTENT_TYPES.get(extension, "application/octet-stream")
    )
    response["Cache-Control"] = "private, no-store"
    response["X-Content-Type-Options"] = "nosniff"
    response["Content-Security-Policy"] = "default-src 'none'; sandbox"
    return response
