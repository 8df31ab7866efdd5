"""
Uploads as the resume and signing flow see them.

``upload_url`` gives a fresh signed link for an upload; ``upload_from_url``
turns a link the client sends back into one of *that user's* uploads and
refuses anything else (someone else's upload, a forged or foreign URL).
"""

from shanqian.storage import file_name_from_url, signed_file_url

from .models import Upload, WechatUser


class NotYourUpload(ValueError):
    """The URL is not one of the user's uploads."""


def upload_url(upload: Upload | None, *, request=None) -> str:
    return upload_name_url(upload.file.name, request=request) if upload else ""


def upload_name_url(name: str, *, request=None) -> str:
    """The signed link of a stored upload by its storage name: uploads are encrypted at rest, so
    always our ``/files/`` link, which decrypts (never an S3 presigned link to the ciphertext)."""
    return signed_file_url(name, request=request, encrypted=True) if name else ""


def upload_from_url(*, user: WechatUser, url: str) -> Upload:
    name = file_name_from_url(url)
    upload = Upload.objects.filter(file=name, owner=user).first() if name else None
    if upload is None:
        raise NotYourUpload("图片无效，请上传本人的图片")
    return upload
