"""GET /pki/root.crt, /pki/issuing.crt, /pki/issuing.crl, /pki/root.crl: public, current, cacheable."""

import pytest
from cryptography import x509
from django.test import Client

from signing.pki.company import company_certificate_issue
from signing.pki.crl import certificate_revoke
from signing.pki.hierarchy import authority
from signing.pki.models import CertificateKind
from tests.factories import CompanyFactory


@pytest.fixture
def anonymous():
    return Client()


@pytest.mark.parametrize(
    ("url", "kind"), [("/pki/root.crt", CertificateKind.ROOT), ("/pki/issuing.crt", CertificateKind.ISSUING)]
)
def test_ca_certificates_are_served_as_der(pki, anonymous, url, kind):
    response = anonymous.get(url)

    assert response.status_code == 200
    assert response["Content-Type"] == "application/pkix-cert"
    assert response["Cache-Control"] == "public, max-age=3600"
    assert x509.load_der_x509_certificate(response.content) == authority(kind).certificate
    assert b"PRIVATE" not in response.content

    again = anonymous.get(url, HTTP_IF_NONE_MATCH=response["ETag"])
    assert again.status_code == 304 and again.content == b""


def test_the_issuing_crl_is_current_and_shows_a_revocation_at_once(pki, anonymous):
    record = company_certificate_issue(company=CompanyFactory())
    first = anonymous.get("/pki/issuing.crl")
    assert first.status_code == 200 and first["Content-Type"] == "application/pkix-crl"
    crl = x509.load_der_x509_crl(first.content)
    assert crl.get_revoked_certificate_by_serial_number(int(record.serial, 16)) is None
    assert crl.is_signature_valid(authority(CertificateKind.ISSUING).certificate.public_key())
    max_age = int(first["Cache-Control"].split("max-age=")[1])
    assert first["Cache-Control"].startswith("public") and 0 < max_age <= 300

    certificate_revoke(certificate=record)
    second = anonymous.get("/pki/issuing.crl", HTTP_IF_NONE_MATCH=first["ETag"])

    assert second.status_code == 200 and second["ETag"] != first["ETag"]
    revoked = x509.load_der_x509_crl(second.content).get_revoked_certificate_by_serial_number(int(record.serial, 16))
    assert revoked is not None


def test_the_root_crl_is_signed_by_the_root(pki, anonymous):
    response = anonymous.get("/pki/root.crl")

    crl = x509.load_der_x509_crl(response.content)
    assert crl.issuer == authority(CertificateKind.ROOT).certificate.subject
    assert crl.is_signature_valid(authority(CertificateKind.ROOT).certificate.public_key())


@pytest.mark.parametrize("url", ["/pki/root.crt", "/pki/issuing.crt", "/pki/issuing.crl", "/pki/root.crl"])
def test_an_uninitialised_hierarchy_answers_503_not_500(db, anonymous, url):
    response = anonymous.get(url)

    assert response.status_code == 503 and "证书体系尚未初始化" in response.content.decode()
    assert response["Cache-Control"] == "no-store"


def test_only_safe_methods(pki, anonymous):
    assert anonymous.post("/pki/issuing.crl").status_code == 405
    assert anonymous.head("/pki/root.crt").status_code == 200
