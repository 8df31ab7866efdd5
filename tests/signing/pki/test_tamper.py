"""
Tampering, each caught by verify_document and by an independent validator
(pdfsig, pyHanko): a flipped byte, an appended page, a changed /Info, a
revoked company certificate.
"""

import io
import time

import pytest
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation import validate_pdf_signature
from pyhanko_certvalidator import ValidationContext
from pypdf import PdfReader, PdfWriter

from signing.pki.crl import certificate_revoke, crl_current
from signing.pki.hierarchy import authority
from signing.pki.models import CertificateKind
from signing.sealing.pades import EMPLOYER_FIELD
from signing.sealing.verification import verify_document

from .helpers import issue_company_certificate, nss_database, pdfsig, root_der, sign


@pytest.fixture
def signed(pki, world, signer):
    issue_company_certificate(world.company)
    return sign(signer.application)


def test_the_untouched_file_verifies(signed, signer):
    report = verify_document(signed.pdf)

    assert report.ok, report.as_dict()
    assert report.application_id == signer.application.pk and report.level == "B-LTA"
    assert [s.role for s in report.signatures] == ["worker", "employer", "document_timestamp"]
    assert report.signatures[-1].covers_whole_file


def test_a_byte_flipped_in_a_signed_range(signed, tmp_path):
    data = bytearray(signed.pdf)
    # Inside the first revision (the contract itself), which every signature covers.
    offset = data.index(b"stream", 2000) + 40
    data[offset] ^= 0x01
    tampered = bytes(data)

    report = verify_document(tampered)
    assert not report.ok and not report.intact
    assert not any(s.intact for s in report.signatures)

    signatures, raw = pdfsig(tampered, tmp_path)
    assert signatures[0]["Signature Validation"] != "Signature is Valid.", raw
    assert signatures[1]["Signature Validation"] != "Signature is Valid.", raw


def _append(pdf: bytes, change) -> bytes:
    writer = PdfWriter(io.BytesIO(pdf), incremental=True)
    change(writer)
    out = io.BytesIO()
    writer.write(out)
    return out.getvalue()


def test_an_incremental_update_that_adds_a_page(signed, tmp_path):
    tampered = _append(signed.pdf, lambda w: w.add_blank_page(595, 842))
    assert len(PdfReader(io.BytesIO(tampered)).pages) == len(PdfReader(io.BytesIO(signed.pdf)).pages) + 1

    report = verify_document(tampered)
    assert not report.ok
    assert any("未签名的修订" in p for p in report.problems)

    signatures, raw = pdfsig(tampered, tmp_path)
    assert "Not total document signed" in signatures[2], raw  # the document timestamp no longer covers it all
    worker = next(s for s in PdfFileReader(io.BytesIO(tampered)).embedded_signatures if s.field_name != EMPLOYER_FIELD)
    status = validate_pdf_signature(worker, ValidationContext(trust_roots=[authority(CertificateKind.ROOT).asn1]))
    assert not status.docmdp_ok  # pyHanko: a page added after a certification signature is not allowed


def test_an_incremental_update_that_changes_the_application_id(signed, signer, tmp_path):
    other = signer.application.pk + 1000
    tampered = _append(signed.pdf, lambda w: w.add_metadata({"/ShanqianApplicationId": str(other)}))
    assert str(other).encode() in tampered

    report = verify_document(tampered)

    assert not report.ok
    assert any("未签名的修订" in p for p in report.problems)
    # The application comes from the revision the worker signed, never from the appended one.
    assert report.application_id == signer.application.pk
    signatures, raw = pdfsig(tampered, tmp_path)
    assert "Not total document signed" in signatures[2], raw


def test_a_revoked_company_certificate(signed, tmp_path):
    revoked = certificate_revoke(certificate=signed.company_certificate, note="单位注销")

    report = verify_document(signed.pdf)
    employer = next(s for s in report.signatures if s.role == "employer")
    assert employer.revoked_at is not None
    assert "晚于签名时间戳" in employer.revocation and "签名仍然有效" in employer.revocation
    stamp = employer.timestamp.time
    assert employer.revoked_at > stamp

    # pyHanko, judging now with the current CRL, sees the revocation.
    crl = bytes(crl_current(authority(CertificateKind.ISSUING)).der)
    reader = PdfFileReader(io.BytesIO(signed.pdf))
    sig = next(s for s in reader.embedded_signatures if s.field_name == EMPLOYER_FIELD)
    context = ValidationContext(
        trust_roots=[authority(CertificateKind.ROOT).asn1],
        crls=[crl, bytes(crl_current(authority(CertificateKind.ROOT)).der)],
        revocation_mode="hard-fail",
    )
    status = validate_pdf_signature(sig, context)
    assert status.revoked

    # pdfsig, with the project root trusted and the current CRL imported into NSS, says so too. NSS judges
    # at the present moment, and the CRL's revocation date is rounded up to the next whole second: wait
    # for that second, as any verifier after the revocation would.
    while timezone.now() < revoked.revoked_at:
        time.sleep(0.05)
    nss = nss_database(
        tmp_path / "nss", trust_root=root_der(), crls=[crl], intermediates=[authority(CertificateKind.ISSUING).der]
    )
    signatures, raw = pdfsig(signed.pdf, tmp_path / "run", nssdir=nss)
    assert signatures[1]["Certificate Validation"] == "Certificate has been Revoked.", raw
    assert signatures[0]["Certificate Validation"] == "Certificate is Trusted.", raw


def test_a_revocation_before_the_signature_invalidates_it(signed):
    import datetime

    from signing.pki.models import PkiCertificate

    record = signed.company_certificate
    certificate_revoke(certificate=record)
    # As if the CA had revoked it before the signing (a backdated or remote CA's record).
    PkiCertificate.objects.filter(pk=record.pk).update(revoked_at=record.not_before + datetime.timedelta(seconds=1))

    report = verify_document(signed.pdf)

    employer = next(s for s in report.signatures if s.role == "employer")
    assert not report.ok and "早于签名时间戳" in employer.revocation and "签名无效" in employer.revocation


def test_garbage_and_unsigned_files_get_an_answer(pki):
    from tests.signing.sealing_helpers import contract_pdf

    assert not verify_document(b"not a pdf at all").ok
    report = verify_document(contract_pdf(1))
    assert not report.ok and "不含数字签名" in report.message


def test_a_file_signed_by_someone_else_is_not_ours(signed, pki_settings):
    from django.utils import timezone

    from signing.pki import keystore, profiles
    from signing.pki.credentials import SigningCredential
    from signing.pki.signer import KeySigner
    from signing.sealing.pades import _sign

    key = keystore.generate_key()
    foreign = profiles.root_certificate(key=key, common_name="李小雷", organization="别人", now=timezone.now())
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization

    asn1 = asn1_x509.Certificate.load(foreign.public_bytes(serialization.Encoding.DER))
    credential = SigningCredential(record=None, signer=KeySigner(private_key=key, certificate=asn1, chain=[]))
    import asyncio

    from tests.signing.sealing_helpers import contract_pdf

    pdf = asyncio.run(
        _sign(
            contract_pdf(1),
            credential=credential,
            field_name="X",
            certify=False,
            reason="",
            location="",
            signing_time=timezone.now(),
            timestamper=None,
            reserve=16384,
        )
    )

    report = verify_document(pdf)
    assert not report.is_ours and not report.ok
