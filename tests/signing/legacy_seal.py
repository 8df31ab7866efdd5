"""
Files of the first generation: the contract plus the certificate page under one
PAdES certification signature by a single self-signed platform certificate.

The sign flow no longer makes them (it signs through the PKI of SPEC §10), but
files issued before still verify (``signing.sealing.verify``); these builders
make such files for the verification tests, exactly as the old seal did.
"""

import dataclasses
import datetime
import hashlib
import io
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pypdf import PdfReader, PdfWriter

from signing.sealing.certificate import CertificateData, render_certificate
from signing.sealing.keys import DEV_COMMON_NAME
from signing.sealing.pipeline import (
    META_APPLICATION_ID,
    META_CONTRACT_SHA256,
    META_SIGNATURE_SHA256,
    document_pages,
)

SIGNATURE_FIELD = "ShanqianSeal"


def make_legacy_cert(cert_path, key_path, *, common_name=DEV_COMMON_NAME, algorithm="rsa", days=3650) -> None:
    """A self-signed document-signing certificate and its unencrypted key, as PEM files."""
    key = (
        rsa.generate_private_key(public_exponent=65537, key_size=2048)
        if algorithm == "rsa"
        else (ec.generate_private_key(ec.SECP256R1()))
    )
    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, "闪签云"),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    Path(cert_path).parent.mkdir(parents=True, exist_ok=True)
    Path(cert_path).write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    Path(key_path).write_bytes(
        key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )


def seal_contract(*, contract_pdf: bytes, data: CertificateData) -> bytes:
    """The contract's pages, the certificate page, one certification signature (DocMDP: no changes)."""
    pages = document_pages(contract_pdf)
    data = dataclasses.replace(
        data,
        contract_sha256=data.contract_sha256 or hashlib.sha256(contract_pdf).hexdigest(),
        signature_sha256=data.signature_sha256 or hashlib.sha256(data.signature_image).hexdigest(),
    )
    writer = PdfWriter(clone_from=PdfReader(io.BytesIO(contract_pdf)))
    writer.append(PdfReader(io.BytesIO(render_certificate(data, contract_pages=pages))))
    writer.add_metadata(
        {
            "/Title": f"{data.contract_name}（已签署）",
            META_APPLICATION_ID: str(data.application_id),
            META_CONTRACT_SHA256: data.contract_sha256,
            META_SIGNATURE_SHA256: data.signature_sha256,
        }
    )
    merged = io.BytesIO()
    writer.write(merged)
    cert_pem = Path(settings.SIGNING_CERT_PATH).read_bytes()
    key = serialization.load_pem_private_key(Path(settings.SIGNING_KEY_PATH).read_bytes(), password=None)
    signer = signers.SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(
            x509.load_pem_x509_certificate(cert_pem).public_bytes(serialization.Encoding.DER)
        ),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        cert_registry=SimpleCertificateStore(),
    )
    metadata = signers.PdfSignatureMetadata(
        field_name=SIGNATURE_FIELD,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        reason="闪签云电子签约存证",
        location=data.city or None,
        name="闪签云",
        certify=True,
        docmdp_permissions=fields.MDPPerm.NO_CHANGES,
    )
    out = signers.PdfSigner(metadata, signer=signer).sign_pdf(IncrementalPdfFileWriter(io.BytesIO(merged.getvalue())))
    return out.getvalue()
