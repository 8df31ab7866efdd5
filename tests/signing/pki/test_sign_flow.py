"""
POST /api/sign through the whole pipeline of SPEC §10: the worker's event
certificate made at the intent code's acceptance, the employer's signature
under the seal authorisation, trusted time, DSS and the document timestamp —
judged by pdfsig (poppler + NSS) and pyHanko's AdES engine, with what a
failing TSA or an unusable company certificate leaves behind (nothing).
"""

import datetime
import io
import logging
import re
import subprocess

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed

from employees.models import SmsCode, SmsPurpose
from signing.models import SignApplication, SignedDocument, SignEvent, SignStatus
from signing.pki import credentials
from signing.pki.crl import certificate_revoke
from signing.pki.models import CertificateKind, PkiCertificate
from signing.sealing.certificate import format_time
from signing.sealing.pades import EMPLOYER_FIELD, TIMESTAMP_FIELD, WORKER_FIELD
from signing.sealing.verification import verify_document
from tests.envelope import assert_error, assert_ok
from tests.factories import sign_code, signature_url
from tests.support.storage import sealed_files

from .helpers import cache_bytes, database_bytes, key_forms, nss_database, pdfsig, pyhanko_lta, root_der, storage_bytes

pytestmark = pytest.mark.django_db


def sign_through_the_api(signer, *, code=None):
    assert_ok(signer.client.get("/api/sign/contract"))
    body = {"sms_code": code or sign_code(signer.employee.phone), "signature": signature_url(signer.user)}
    return signer.client.post("/api/sign", body, format="json")


def stored_pdf() -> bytes:
    with default_storage.open(SignedDocument.objects.get().file.name, "rb") as handle:
        return handle.read()


def nothing_left(signer) -> dict:
    application = SignApplication.objects.get(pk=signer.application.pk)
    return {
        "status": application.status,
        "documents": SignedDocument.objects.count(),
        "event_certificates": PkiCertificate.objects.filter(kind=CertificateKind.EVENT).count(),
        "evidence_events": SignEvent.objects.exclude(
            kind__in=[SignEvent.Kind.TRANSITION, SignEvent.Kind.VIEWED]
        ).count(),
        "files": sealed_files(),
        "used_codes": SmsCode.objects.filter(used_at__isnull=False).count(),
    }


def test_a_contract_signed_through_the_api_is_two_valid_signatures_and_b_lta(pki, signer, world, tmp_path):
    assert_ok(sign_through_the_api(signer))
    pdf = stored_pdf()

    nss = nss_database(tmp_path / "nss", trust_root=root_der())
    signatures, raw = pdfsig(pdf, tmp_path / "run", nssdir=nss)
    assert len(signatures) == 3, raw
    worker, employer, stamp = signatures
    assert worker["Signer Certificate Common Name"] == signer.employee.real_name, raw
    assert employer["Signer Certificate Common Name"] == world.company.company_name, raw
    assert stamp["Signature Field Name"] == TIMESTAMP_FIELD
    for signature in (worker, employer):
        assert signature["Signature Validation"] == "Signature is Valid.", raw
        assert signature["Certificate Validation"] == "Certificate is Trusted.", raw
        assert "Signing Time" in signature, raw
    results = pyhanko_lta(pdf, root=root_der())
    assert set(results) == {WORKER_FIELD, EMPLOYER_FIELD}
    for result in results.values():
        assert result.ades_subindic == AdESPassed.OK, result.failure_msg
        assert result.signature_timestamp_status.ades_subindic == AdESPassed.OK
    report = verify_document(pdf)
    assert report.ok and report.level == "B-LTA", report.as_dict()
    assert report.application_id == signer.application.pk
    # The old single platform seal is gone from the sign flow.
    assert b"ShanqianSeal" not in pdf


def test_the_trail_of_an_api_signing_is_complete_and_in_order(pki, signer):
    assert_ok(sign_through_the_api(signer))

    kinds = list(SignEvent.objects.filter(application=signer.application).values_list("kind", flat=True))
    assert kinds == [
        "transition",
        "viewed",
        "intent_sent",
        "intent_ok",
        "signature",
        "event_cert",
        "seal_applied",
        "transition",
        "timestamp",
        "timestamp",
        "timestamp",
        "sealed",
    ]
    accepted = SignEvent.objects.get(kind=SignEvent.Kind.INTENT_ACCEPTED)
    assert accepted.actor_user_id == signer.user.pk
    sent = SignEvent.objects.get(kind=SignEvent.Kind.INTENT_SENT)
    assert sent.created_at == SmsCode.objects.get(purpose=SmsPurpose.SIGN).created_at
    assert "139****5678" in sent.note
    event_cert = PkiCertificate.objects.get(kind=CertificateKind.EVENT)
    assert SignEvent.objects.get(kind=SignEvent.Kind.EVENT_CERT).data["serial"] == event_cert.serial
    assert event_cert.application_id == signer.application.pk

    pdf = stored_pdf()
    text = subprocess.run(["pdftotext", "-layout", "-", "-"], input=pdf, capture_output=True).stdout.decode()
    for fragment in (
        "实名认证通过",
        "发送签署验证码",
        "签署验证码验证通",
        "提交手写签名",
        "签发事件证书",
        "加盖单位印章",
    ):
        assert fragment in re.sub(r"\s+", "", text), fragment
    # The certificate page's time is the signatures' /M, which is the acceptance of the code.
    reader = PdfFileReader(io.BytesIO(pdf))
    times = {s.field_name: s.self_reported_timestamp for s in reader.embedded_signatures[:2]}
    assert times[WORKER_FIELD] == times[EMPLOYER_FIELD]
    printed = re.search(r"签署时间\s+(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \+08:00", text)
    assert printed and printed.group(1) == format_time(times[WORKER_FIELD]) == format_time(accepted.created_at)


def test_the_event_key_of_an_api_signing_is_never_persisted(pki, signer, monkeypatch, caplog):
    made = []
    real_generate = credentials.generate_key

    def spy_generate():
        key = real_generate()
        made.append(key)
        return key

    monkeypatch.setattr(credentials, "generate_key", spy_generate)
    caplog.set_level(logging.DEBUG)

    assert_ok(sign_through_the_api(signer))

    assert len(made) == 1
    record = PkiCertificate.objects.get(kind=CertificateKind.EVENT)
    assert bytes(record.key_pem) == b""
    haystacks = {
        "database": database_bytes(),
        "storage": storage_bytes(),
        "cache": cache_bytes(),
        "logs": caplog.text.encode(),
    }
    for where, haystack in haystacks.items():
        for form in key_forms(made[0]):
            assert form not in haystack, f"event key material found in {where}"


@pytest.mark.parametrize("mode", ["slow", "garbage", "error"])
def test_a_failing_tsa_is_a_503_nothing_is_stored_and_the_code_still_signs(tsa_server, signer, mode):
    before = nothing_left(signer)
    code = sign_code(signer.employee.phone)
    tsa_server.mode = mode

    refused = sign_through_the_api(signer, code=code)

    assert_error(refused, 503, 50300)
    assert "验证码仍可使用" in refused.json()["msg"]
    assert nothing_left(signer) == before
    tsa_server.mode = "ok"
    assert_ok(sign_through_the_api(signer, code=code))
    assert SignApplication.objects.get(pk=signer.application.pk).status == SignStatus.SIGNED


def test_a_revoked_company_certificate_is_a_clear_409_and_nothing_is_stored(pki, signer, world):
    for record in PkiCertificate.objects.filter(kind=CertificateKind.COMPANY, company=world.company):
        certificate_revoke(certificate=record)
    before = nothing_left(signer)

    refused = sign_through_the_api(signer)

    assert_error(refused, 409, 40900)
    assert "单位证书已吊销" in refused.json()["msg"]
    assert nothing_left(signer) == before


def test_an_authorisation_expired_at_signing_is_a_clear_409_and_nothing_is_stored(pki, signer, world):
    from contracts.models import SealAuthorisation

    now = timezone.now()
    SealAuthorisation.objects.filter(company=world.company).update(
        valid_from=now - datetime.timedelta(days=30), valid_until=now - datetime.timedelta(minutes=1)
    )
    before = nothing_left(signer)

    refused = sign_through_the_api(signer)

    assert_error(refused, 409, 40900)
    assert "印章授权已过期" in refused.json()["msg"]
    assert nothing_left(signer) == before


def test_the_employer_signs_under_the_authorisation_in_force(pki, signer, world):
    from contracts.services import seal_authorisation_in_force

    assert_ok(sign_through_the_api(signer))

    authorisation = seal_authorisation_in_force(company_id=world.company.pk)
    applied = SignEvent.objects.get(kind=SignEvent.Kind.SEAL_APPLIED)
    assert applied.data["authorization_id"] == authorisation.pk
    assert authorisation.label in applied.note
    reader = PdfFileReader(io.BytesIO(stored_pdf()))
    employer = next(s for s in reader.embedded_signatures if s.field_name == EMPLOYER_FIELD)
    assert authorisation.label in str(employer.sig_object["/Reason"])
