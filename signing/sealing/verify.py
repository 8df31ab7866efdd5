"""
Verification of a sealed PDF.

``verify_sealed_pdf`` answers three questions about any bytes: is this a file
we sealed (its signature is made with our configured certificate), is it
unaltered (the signature is cryptographically valid, chains to our
certificate, and covers the whole file: no byte changed and nothing appended),
and for which application (from the signed document information). It never
raises on bad input: garbage, unsigned and foreign PDFs get a plain answer.
``archived_document`` then matches a result against the stored
``SignedDocument`` rows.
"""

import datetime
import hashlib
import io
import logging
from dataclasses import dataclass

from asn1crypto import parser as asn1_parser
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext

from ..models import SignApplication, SignedDocument
from .certificate import SHANGHAI, format_time
from .keys import load_signing_cert
from .pipeline import META_APPLICATION_ID, META_CONTRACT_SHA256

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class VerificationResult:
    is_ours: bool
    intact: bool
    message: str
    sha256: str  # of the bytes examined
    signer_subject: str = ""
    signed_at: datetime.datetime | None = None  # the signer-reported signing time, Asia/Shanghai
    application_id: int | None = None
    contract_sha256: str = ""

    @property
    def ok(self) -> bool:
        return self.is_ours and self.intact

    @property
    def signed_at_display(self) -> str:
        return format_time(self.signed_at, with_zone=True) if self.signed_at else ""


def _info_value(reader: PdfFileReader, key: str) -> str:
    try:
        info = reader.trailer_view.get("/Info")
        value = info.get_object().get(key) if info is not None else None
    except Exception:
        return ""
    return str(value) if value is not None else ""


def _application_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _contents_canonical(pdf: bytes, signature) -> bool:
    """
    The ``/Contents`` hole is the one stretch the signature cannot cover, and its
    zero padding (or the case of a hex digit) can change without touching the
    CMS blob. Pin it too: exactly the DER blob in hex, one letter case, zeros after.
    """
    try:
        _, signed_until, resumes_at, _ = (int(x) for x in signature.byte_range)
        raw = signature.pkcs7_content
        _, _, _, header, content, _ = asn1_parser.parse(raw, strict=False)
    except Exception:
        return False
    der = len(header) + len(content)
    padding = b"0" * (2 * (len(raw) - der))
    hole = pdf[signed_until:resumes_at]
    return hole in {
        b"<" + raw[:der].hex().upper().encode() + padding + b">",
        b"<" + raw[:der].hex().encode() + padding + b">",
    }


def verify_sealed_pdf(pdf: bytes) -> VerificationResult:
    """Check a PDF against our signing certificate. See the module docstring."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    our_cert = load_signing_cert()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = reader.embedded_signatures
    # A tampered or foreign file may break the parser anywhere; that is an answer, not an error.
    except Exception as exc:
        logger.info("verification: unreadable PDF (%s)", exc.__class__.__name__)
        return VerificationResult(
            is_ours=False, intact=False, sha256=sha256, message="无法识别：该文件不是有效的 PDF，或已损坏。"
        )
    if not signatures:
        return VerificationResult(
            is_ours=False, intact=False, sha256=sha256, message="该文件不含数字签名，不是闪签云签署的文件。"
        )

    ours = None
    for signature in signatures:
        try:
            if signature.signer_cert.dump() == our_cert.dump():
                ours = signature
                break
        except Exception as exc:  # an unparsable CMS blob is simply not ours
            logger.info("verification: unreadable signature (%s)", exc.__class__.__name__)
    if ours is None:
        return VerificationResult(
            is_ours=False,
            intact=False,
            sha256=sha256,
            message="该文件的数字签名不是由闪签云的签章证书签署的，不是本系统签署的文件。",
        )

    application_id = _application_id(_info_value(reader, META_APPLICATION_ID))
    contract_sha256 = _info_value(reader, META_CONTRACT_SHA256)
    subject = our_cert.subject.human_friendly
    # Our certificate is the trust anchor itself, whose validity period is not checked
    # (RFC 5280 §6.1), so seals keep verifying after it expires. After a key rotation, seals
    # made with the previous certificate read as "not ours": only the configured one is trusted.
    context = ValidationContext(trust_roots=[our_cert], allow_fetching=False, revocation_mode="soft-fail")
    try:
        status = validate_pdf_signature(ours, signer_validation_context=context)
    except Exception as exc:
        logger.info("verification: signature validation failed (%s)", exc.__class__.__name__)
        status = None

    intact = bool(
        status is not None
        and status.bottom_line
        and status.coverage == SignatureCoverageLevel.ENTIRE_FILE
        and _contents_canonical(pdf, ours)
    )
    signed_at = status.signer_reported_dt.astimezone(SHANGHAI) if status and status.signer_reported_dt else None
    label = f"申请编号 {application_id}" if application_id is not None else "未记录申请编号"
    if intact:
        message = f"验证通过：该文件由闪签云签署（{label}），签署后未被改动。"
    else:
        message = f"验证失败：该文件带有闪签云的签章（{label}），但签署后已被改动或签名已损坏，不能作为有效的签署文件。"
    return VerificationResult(
        is_ours=True,
        intact=intact,
        sha256=sha256,
        message=message,
        signer_subject=subject,
        signed_at=signed_at,
        application_id=application_id,
        contract_sha256=contract_sha256,
    )


@dataclass(frozen=True)
class ArchiveMatch:
    """How a verified file relates to what the database holds."""

    application: object | None  # SignApplication
    document: object | None  # SignedDocument
    matches: bool  # the file is byte-for-byte the archived sealed PDF of that application
    message: str


def archived_document(result: VerificationResult) -> ArchiveMatch:
    """Look the result's application up and compare the file's SHA-256 with the archived one."""
    if result.application_id is None:
        return ArchiveMatch(None, None, False, "文件中没有申请编号，无法与系统存档比对。")
    application = SignApplication.objects.filter(pk=result.application_id).select_related("em").first()
    if application is None:
        return ArchiveMatch(None, None, False, f"系统中没有申请编号为 {result.application_id} 的签约申请。")
    document = SignedDocument.objects.filter(application=application).first()
    if document is None:
        return ArchiveMatch(application, None, False, "该签约申请在系统中没有已签署文件的存档。")
    if document.sha256 != result.sha256:
        return ArchiveMatch(application, document, False, "与系统存档的已签署文件不一致（SHA-256 不同）。")
    return ArchiveMatch(application, document, True, "与系统存档的已签署文件完全一致。")
