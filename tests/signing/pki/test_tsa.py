"""
Trusted time through the real HTTP path: pyHanko's HTTP timestamper against a
local RFC 3161 responder (pyHanko's own test TSA, RSA, behind a tiny WSGI
server on a free port) whose certificate our issuing CA issued; and what
happens when the TSA times out, answers garbage or fails.
"""

import base64
import datetime

import pytest
from asn1crypto import tsp
from django.db import transaction
from pyhanko.sign.ades.report import AdESPassed

from signing.pki.hierarchy import authority
from signing.pki.models import CertificateKind, PkiCertificate
from signing.pki.tsa import DEV_TSA_POLICY, TimestampUnavailable, respond
from signing.sealing.verification import verify_document

from .helpers import issue_company_certificate, pyhanko_lta, root_der, sign


def test_signing_through_the_http_tsa_is_b_lta(tsa_server, world, signer):
    issue_company_certificate(world.company)

    result = sign(signer.application)

    assert len(tsa_server.requests) == 3  # worker, employer, document timestamp
    assert {r["content_type"] for r in tsa_server.requests} == {"application/timestamp-query"}
    assert {t.authority for t in result.outcome.timestamps} == {"测试时间戳服务（HTTP）"}
    for status in pyhanko_lta(result.pdf, root=root_der()).values():
        assert status.ades_subindic == AdESPassed.OK, status.failure_msg
        assert status.oldest_evidence_record_timestamp is not None
    report = verify_document(result.pdf)
    assert report.ok, report.as_dict()
    assert report.level == "B-LTA"
    assert report.worker.timestamp.authority == "测试时间戳服务（HTTP）"


def test_basic_auth_is_sent_when_configured(tsa_server, pki_settings, world, signer):
    issue_company_certificate(world.company)
    pki_settings.SIGNING_TSA_USERNAME = "shanqian"
    pki_settings.SIGNING_TSA_PASSWORD = "tsa-secret"

    sign(signer.application)

    expected = "Basic " + base64.b64encode(b"shanqian:tsa-secret").decode()
    assert {r["authorization"] for r in tsa_server.requests} == {expected}


@pytest.mark.parametrize("mode", ["slow", "garbage", "error"])
def test_a_failing_tsa_is_a_503_and_leaves_nothing_behind(tsa_server, pki_settings, world, signer, mode, caplog):
    issue_company_certificate(world.company)
    pki_settings.SIGNING_TSA_USERNAME = "shanqian"
    pki_settings.SIGNING_TSA_PASSWORD = "tsa-secret"
    tsa_server.mode = mode
    events_before = PkiCertificate.objects.filter(kind=CertificateKind.EVENT).count()

    with pytest.raises(TimestampUnavailable) as raised, transaction.atomic():
        sign(signer.application)

    assert raised.value.status_code == 503 and raised.value.code == 50300
    assert "时间戳" in raised.value.msg and "验证码仍可使用" in raised.value.msg
    assert PkiCertificate.objects.filter(kind=CertificateKind.EVENT).count() == events_before
    assert tsa_server.url not in caplog.text and "tsa-secret" not in caplog.text


def test_the_development_tsa_token_is_canonical_der(pki):
    """The hand-assembled token re-encodes byte for byte through asn1crypto, and names our policy."""
    from asn1crypto import algos

    tsa = authority(CertificateKind.TSA)
    req = tsp.TimeStampReq(
        {
            "version": 1,
            "message_imprint": tsp.MessageImprint(
                {"hash_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}), "hashed_message": bytes(32)}
            ),
            "nonce": 424242,
            "cert_req": True,
        }
    )
    at = datetime.datetime(2026, 12, 2, 6, 30, 1, 123456, tzinfo=datetime.UTC)

    response = respond(
        req, certificate=tsa.asn1, key=tsa.key(), chain=[authority(CertificateKind.ISSUING).asn1], now=at
    )

    raw = response.dump()
    assert tsp.TimeStampResp.load(raw).dump(force=True) == raw
    info = response["time_stamp_token"]["content"]["encap_content_info"]["content"].parsed
    assert info["policy"].dotted == DEV_TSA_POLICY and info["nonce"].native == 424242
    assert info["gen_time"].native == at.replace(microsecond=123000)
    assert response["status"]["status"].native == "granted"
