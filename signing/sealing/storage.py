"""
Private storage of sealed PDFs.

``store_sealed_pdf`` writes the bytes through Django's default storage under a
random name (nothing in the path names the person or the application) and
returns what a ``SignedDocument`` row needs. Media is never served publicly;
the file goes out only through signed, expiring links.
"""

import hashlib
import secrets
from dataclasses import dataclass

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage

SEALED_DIR = "signed"


@dataclass(frozen=True)
class StoredFile:
    name: str  # the storage name, for SignedDocument.file
    sha256: str
    size: int


def store_sealed_pdf(pdf: bytes) -> StoredFile:
    name = f"{SEALED_DIR}/{secrets.token_hex(1)}/{secrets.token_hex(16)}.pdf"
    saved = default_storage.save(name, ContentFile(pdf))
    return StoredFile(name=saved, sha256=hashlib.sha256(pdf).hexdigest(), size=len(pdf))
