"""
The evidence-grade sealed PDF (SPEC §6): the contract's pages, a certificate
page, a PAdES signature with the configured certificate; verification of such
files; private storage of them. Pure functions over bytes and dataclasses: no
HTTP, and only ``archived_document`` reads the database.

Typical use by the signing service::

    data = CertificateData(application_id=..., ..., events=audit_rows(application.events.all()))
    pdf = seal_contract(contract_pdf=contract_bytes, data=data)
    stored = store_sealed_pdf(pdf)
    SignedDocument.objects.create(application=..., file=stored.name, sha256=stored.sha256, size=stored.size, ...)
"""

from .certificate import AuditEventRow, CertificateData, audit_rows
from .keys import SigningCertExists, ensure_dev_signing_cert, load_signer, load_signing_cert, make_signing_cert
from .seal import ContractFileInvalid, seal_contract, sign_pdf
from .storage import StoredFile, store_sealed_pdf
from .verify import ArchiveMatch, VerificationResult, archived_document, verify_sealed_pdf

__all__ = [
    "ArchiveMatch",
    "AuditEventRow",
    "CertificateData",
    "ContractFileInvalid",
    "SigningCertExists",
    "StoredFile",
    "VerificationResult",
    "archived_document",
    "audit_rows",
    "ensure_dev_signing_cert",
    "load_signer",
    "load_signing_cert",
    "make_signing_cert",
    "seal_contract",
    "sign_pdf",
    "store_sealed_pdf",
    "verify_sealed_pdf",
]
