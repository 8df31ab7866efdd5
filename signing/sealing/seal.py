"""
Sealing: the contract's pages + the certificate page, digitally signed.

``seal_contract`` takes the contract file's bytes and the certificate data and
returns the sealed PDF's bytes; it touches no database and no storage. The
signature is a PAdES certification signature (DocMDP "no changes") made with
the configured key, so a reader shows the document as signed and any later
change to a byte invalidates it. The application id and the fingerprints go
into the document information dictionary, inside the signed bytes, so
verification can tell which application a file belongs to.
"""

import dataclasses
import hashlib
import io
import logging

from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pypdf import PdfReader, PdfWriter

from shanqian.errors import Conflict

from .certificate import CertificateData, render_certificate
from .keys import load_signer

logger = logging.getLogger(__name__)

SIGNATURE_FIELD = "ShanqianSeal"
SIGNATURE_REASON = "闪签云电子签约存证"
META_APPLICATION_ID = "/ShanqianApplicationId"
META_CONTRACT_SHA256 = "/ShanqianContractSHA256"
META_SIGNATURE_SHA256 = "/ShanqianSignatureSHA256"


class ContractFileInvalid(Conflict):
    """The contract template's file cannot be sealed (corrupt, encrypted, empty, or not the registered file)."""


def _read_contract(contract_pdf: bytes) -> PdfReader:
    # pypdf's lenient mode rebuilds a truncated file from the objects it finds, which would
    # seal a contract with pages missing; a file that lost its end marker is refused instead.
    if not contract_pdf.lstrip()[:5].startswith(b"%PDF-") or b"%%EOF" not in contract_pdf[-2048:]:
        raise ContractFileInvalid("合同模板文件损坏，无法签署，请联系人事更换合同模板")
    try:
        reader = PdfReader(io.BytesIO(contract_pdf), strict=False)
        encrypted = reader.is_encrypted
        if not encrypted:
            pages = len(reader.pages)
            for page in reader.pages:
                page.mediabox  # noqa: B018 -- walks the page tree; broken trees fail here, not mid-merge
    # pypdf raises a zoo of types on hostile or truncated files; all of them mean "cannot seal".
    except Exception as exc:
        logger.info("contract PDF unreadable: %s", exc.__class__.__name__)
        raise ContractFileInvalid("合同模板文件损坏，无法签署，请联系人事更换合同模板") from exc
    if encrypted:
        raise ContractFileInvalid("合同模板文件已加密，无法签署，请联系人事更换为未加密的 PDF")
    if pages == 0:
        raise ContractFileInvalid("合同模板文件没有任何页面，无法签署，请联系人事更换合同模板")
    return reader


def _merge(reader: PdfReader, certificate_pdf: bytes, data: CertificateData) -> bytes:
    writer = PdfWriter(clone_from=reader)
    writer.append(PdfReader(io.BytesIO(certificate_pdf)))
    writer.add_metadata(
        {
            "/Title": f"{data.contract_name}（已签署）",
            "/Author": "闪签云",
            "/Producer": "闪签云电子签约",
            META_APPLICATION_ID: str(data.application_id),
            META_CONTRACT_SHA256: data.contract_sha256,
            META_SIGNATURE_SHA256: data.signature_sha256,
        }
    )
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def _check_digest(given: str, actual: str, what: str) -> str:
    if given and given.lower() != actual:
        raise ContractFileInvalid(f"{what}与登记的 SHA-256 不一致，无法签署，请联系人事处理")
    return actual


def seal_contract(*, contract_pdf: bytes, data: CertificateData) -> bytes:
    """
    Append the certificate page to the contract and PAdES-sign the result.

    Raises ``ContractFileInvalid`` (409) for a contract file that cannot be
    sealed, ``InvalidInput`` for an undecodable signature image, and
    ``ImproperlyConfigured`` when the signing key is missing or unreadable.
    """
    reader = _read_contract(contract_pdf)
    data = dataclasses.replace(
        data,
        contract_sha256=_check_digest(data.contract_sha256, hashlib.sha256(contract_pdf).hexdigest(), "合同文件"),
        signature_sha256=_check_digest(
            data.signature_sha256, hashlib.sha256(data.signature_image).hexdigest(), "签名图片"
        ),
    )
    certificate_pdf = render_certificate(data, contract_pages=len(reader.pages))
    try:
        merged = _merge(reader, certificate_pdf, data)
    except Exception as exc:
        logger.info("contract PDF could not be merged: %s", exc.__class__.__name__)
        raise ContractFileInvalid("合同模板文件损坏，无法签署，请联系人事更换合同模板") from exc
    return sign_pdf(merged, location=data.city)


def sign_pdf(pdf: bytes, *, location: str = "") -> bytes:
    """PAdES-sign a PDF with the configured key as a certification signature (no later changes allowed)."""
    signer = load_signer()
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason=SIGNATURE_REASON,
        location=location or None,
        name="闪签云",
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    out = signers.PdfSigner(metadata, signer=signer).sign_pdf(writer)
    return out.getvalue()
