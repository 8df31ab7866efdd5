"""
Two signatures and trusted time (SPEC §10), judged by independent validators:
poppler's pdfsig (with NSS) and pyHanko's AdES engine with the project root as
the only trust anchor.
"""

import io
import re
import subprocess

import pytest
from cryptography import x509
from cryptography.x509.oid import NameOID
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.fields import MDPPerm

from signing.pki.credentials import company_certificate_current, subject_hash_key
from signing.pki.hierarchy import Held
from signing.pki.models import CertificateKind
from signing.pki.profiles import subject_serial
from signing.sealing.pades import EMPLOYER_FIELD, TIMESTAMP_FIELD, WORKER_FIELD

from .helpers import issue_company_certificate, nss_database, pdfsig, pyhanko_lta, root_der, sign


@pytest.fixture
def signed(pki, world, signer):
    issue_company_certificate(world.company)
    return sign(signer.application)


def test_pdfsig_shows_both_signatures_valid_and_the_document_timestamp(signed, signer, world, tmp_path):
    signatures, raw = pdfsig(signed.pdf, tmp_path)

    assert len(signatures) == 3, raw
    worker, employer, stamp = signatures
    assert worker["Signature Field Name"] == WORKER_FIELD
    assert worker["Signer Certificate Common Name"] == signer.employee.real_name
    assert worker["Signature Type"] == "ETSI.CAdES.detached"
    assert worker["Signature Validation"] == "Signature is Valid."
    assert employer["Signer Certificate Common Name"] == world.company.company_name
    assert employer["Signature Validation"] == "Signature is Valid."
    assert stamp["Signature Field Name"] == TIMESTAMP_FIELD
    assert stamp["Signer Certificate Common Name"] == "闪签云时间戳服务（开发）"
    # The document timestamp covers the whole file. poppler 22.12 cannot validate an
    # ETSI.RFC3161 token ("Signature Type: unknown"); pyHanko validates it below.
    assert "Total document signed" in stamp
    assert "Not total document signed" in worker and "Not total document signed" in employer


def test_pdfsig_trusts_both_signers_with_the_project_root_in_nss(signed, tmp_path):
    nss = nss_database(tmp_path / "nss", trust_root=root_der())

    signatures, raw = pdfsig(signed.pdf, tmp_path / "run", nssdir=nss)

    assert signatures[0]["Certificate Validation"] == "Certificate is Trusted.", raw
    assert signatures[1]["Certificate Validation"] == "Certificate is Trusted.", raw


def test_pyhanko_validates_both_as_b_lta_with_the_project_root_as_only_anchor(signed):
    results = pyhanko_lta(signed.pdf, root=root_der())

    assert set(results) == {WORKER_FIELD, EMPLOYER_FIELD}
    for result in results.values():
        assert result.ades_subindic == AdESPassed.OK, result.failure_msg
        # B-T: a valid signature timestamp; B-LT: revocation data from the DSS only (offline);
        # B-LTA: a document timestamp after it.
        assert result.signature_timestamp_status is not None
        assert result.signature_timestamp_status.ades_subindic == AdESPassed.OK
        assert result.oldest_evidence_record_timestamp is not None
        assert result.api_status.bottom_line


def test_pyhanko_refuses_them_without_the_project_root(signed):
    from pyhanko.sign.ades.report import AdESIndeterminate

    from signing.pki import keystore

    stranger = keystore.generate_key()
    from signing.pki.profiles import root_certificate

    other_root = root_certificate(
        key=stranger, common_name="别人的根", organization="别人", now=signed.event_certificate.created_at
    )
    from cryptography.hazmat.primitives import serialization

    results = pyhanko_lta(signed.pdf, root=other_root.public_bytes(serialization.Encoding.DER))

    assert all(isinstance(r.ades_subindic, AdESIndeterminate) for r in results.values())


def test_the_revisions_are_worker_employer_then_dss_and_document_timestamp(signed):
    reader = PdfFileReader(io.BytesIO(signed.pdf))
    by_field = {s.field_name: s for s in reader.embedded_signatures}

    assert reader.xrefs.total_revisions == 4
    assert [by_field[f].signed_revision for f in (WORKER_FIELD, EMPLOYER_FIELD, TIMESTAMP_FIELD)] == [1, 2, 3]
    assert by_field[TIMESTAMP_FIELD].sig_object_type == "/DocTimeStamp"
    dss = reader.root["/DSS"]
    assert len(dss["/Certs"]) >= 5 and len(dss["/CRLs"]) == 2
    # The worker's certification: form filling and signing stay allowed, so the employer's
    # signature and the document timestamp do not break it.
    assert by_field[WORKER_FIELD].docmdp_level == MDPPerm.FILL_FORMS
    assert by_field[EMPLOYER_FIELD].docmdp_level is None


def test_both_signatures_carry_the_time_the_certificate_page_prints(signed):
    reader = PdfFileReader(io.BytesIO(signed.pdf))
    times = {s.field_name: s.self_reported_timestamp for s in reader.embedded_signatures[:2]}
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=signed.pdf, capture_output=True).stdout.decode()

    assert times[WORKER_FIELD] == times[EMPLOYER_FIELD]
    printed = re.search(r"签署时间\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \+08:00", text)
    assert printed, text
    from signing.sealing.certificate import format_time

    assert printed.group(1) == format_time(times[WORKER_FIELD])
    # And each RFC 3161 token is at or after it (the TSA answered during the signing).
    assert all(record.time >= times[WORKER_FIELD] for record in signed.outcome.timestamps)


def test_the_event_certificate_is_exactly_as_spec_10_says(signed, signer, settings):
    record = signed.event_certificate
    cert = Held.of(record).certificate

    assert record.kind == CertificateKind.EVENT and record.application_id == signer.application.pk
    assert bytes(record.key_pem) == b"" and not record.has_key
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == signer.employee.real_name
    serial = cert.subject.get_attributes_for_oid(NameOID.SERIAL_NUMBER)[0].value
    assert serial == subject_serial(signer.employee.id_number, key=subject_hash_key())
    assert signer.employee.id_number not in cert.public_bytes(_der()).decode("latin-1")
    assert signer.employee.id_number[-6:] not in serial
    unit = cert.subject.get_attributes_for_oid(NameOID.ORGANIZATIONAL_UNIT_NAME)[0].value
    assert unit == f"闪签云签约申请 {signer.application.pk}"
    lifetime = cert.not_valid_after_utc - cert.not_valid_before_utc
    assert lifetime.total_seconds() <= (settings.SIGNING_EVENT_CERT_MINUTES + 2) * 60
    assert cert.public_key().curve.name == "secp256r1"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment
    dp = cert.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value == "http://pki.test/pki/issuing.crl"


def test_the_company_signature_uses_the_company_certificate(signed, world):
    reader = PdfFileReader(io.BytesIO(signed.pdf))
    employer = next(s for s in reader.embedded_signatures if s.field_name == EMPLOYER_FIELD)
    record = company_certificate_current(world.company)

    assert employer.signer_cert.dump() == bytes(record.der)
    assert signed.company_certificate == record
    assert "印章授权 #7" in str(employer.sig_object["/Reason"])


def test_the_sealed_file_stays_within_the_size_budget(pki, world, signer):
    from tests.signing.sealing_helpers import contract_pdf

    issue_company_certificate(world.company)
    document = contract_pdf(10)

    result = sign(signer.application, document=document)

    assert result.size <= 2 * len(document) + 200 * 1024


def _der():
    from cryptography.hazmat.primitives.serialization import Encoding

    return Encoding.DER
