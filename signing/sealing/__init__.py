"""
Signed contracts (SPEC §6, §10): the certificate page, the two-party PAdES
B-LTA signing pipeline (``pipeline.seal_and_archive``), verification of such
files (``verification.verify_document``) and of the first generation's single
platform seal (``verify.verify_sealed_pdf``), and private storage of them.
"""

from .certificate import AuditEventRow, CertificateData, audit_rows
from .pipeline import ContractFileInvalid
from .storage import StoredFile, store_sealed_pdf
from .verify import ArchiveMatch, VerificationResult, archived_document, verify_sealed_pdf

__all__ = [
    "ArchiveMatch",
    "AuditEventRow",
    "CertificateData",
    "ContractFileInvalid",
    "StoredFile",
    "VerificationResult",
    "archived_document",
    "audit_rows",
    "store_sealed_pdf",
    "verify_sealed_pdf",
]
