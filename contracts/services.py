"""
Contract templates: the PDF goes through the storage API and its SHA-256 is recorded.

``contract_save_file`` is the one way a template gets its file (admin form, seed_demo):
it checks the content is a real, readable PDF (``contract_pdf_check``), stores it
under a random name and records the digest the signing evidence refers to. A
replaced file is not deleted: signed documents quote the digest of the file they used.
"""

import hashlib

from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction

from .models import Contract

CONTRACT_MAX_BYTES = 20 * 1024 * 1024
CONTRACT_MAX_PAGES = 200


def file_sha256(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def contract_pdf_check(file: File) -> int:
    """The page count of ``file``; ``ValidationError`` unless it is a readable, unencrypted PDF."""
    from pypdf import PdfReader

    size = file.size
    if size is not None and size > CONTRACT_MAX_BYTES:
        raise ValidationError(f"合同文件不能超过 {CONTRACT_MAX_BYTES // (1024 * 1024)} MB。", code="too_large")
    file.seek(0)
    if b"%PDF-" not in file.read(1024):
        file.seek(0)
        raise ValidationError("合同文件必须是 PDF。", code="not_pdf")
    file.seek(0)
    try:
        reader = PdfReader(file)
        if reader.is_encrypted:
            raise ValidationError("合同文件不能加密或设置打开密码。", code="encrypted")
        pages = len(reader.pages)
        for page in reader.pages:
            page.mediabox  # noqa: B018 -- touching each page makes a broken page tree fail here
    except ValidationError:
        raise
    except Exception as exc:
        # pypdf raises many types on hostile input; any of them means "not a usable PDF".
        raise ValidationError("合同文件已损坏或不是有效的 PDF。", code="invalid_pdf") from exc
    finally:
        file.seek(0)
    if pages < 1:
        raise ValidationError("合同文件没有页面。", code="empty_pdf")
    if pages > CONTRACT_MAX_PAGES:
        raise ValidationError(f"合同文件不能超过 {CONTRACT_MAX_PAGES} 页。", code="too_many_pages")
    return pages


@transaction.atomic
def contract_save_file(*, contract: Contract, file: File | bytes, name: str = "contract.pdf") -> Contract:
    """Check, store and fingerprint ``file`` as the template's PDF, then save ``contract``."""
    if isinstance(file, bytes):
        file = ContentFile(file, name=name)
    contract_pdf_check(file)
    contract.sha256 = file_sha256(file)
    contract.file.save(name, file, save=False)
    contract.full_clean()
    contract.save()
    return contract
