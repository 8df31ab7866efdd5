"""A fresh local hierarchy per test (pki_init is cheap: three P-256 keys); the settings come from ``pki_settings``."""

import pytest
from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from django.utils import timezone
from pyhanko.sign.timestamps.dummy_client import DummyTimeStamper

from signing.pki import profiles
from signing.pki.hierarchy import authority, endpoints, record_certificate
from signing.pki.models import CertificateKind
from signing.pki.setup import pki_init
from tests.conftest import PKI_TEST_PASSPHRASE as TEST_PASSPHRASE  # noqa: F401 -- tests here name it

from .tsa_server import TsaServer


@pytest.fixture
def pki(db, pki_settings):
    return pki_init(dev_tsa=True)


@pytest.fixture
def tsa_server(pki, pki_settings):
    """pyHanko's DummyTimeStamper (RSA) with a TSA certificate issued by our issuing CA."""
    issuing = authority(CertificateKind.ISSUING)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    cert = profiles.tsa_certificate(
        public_key=key.public_key(),
        issuer=issuing.certificate,
        issuer_key=issuing.key(),
        common_name="测试时间戳服务（HTTP）",
        organization="测试",
        now=timezone.now(),
        endpoints=endpoints(),
    )
    der = cert.public_bytes(serialization.Encoding.DER)
    record_certificate(cert, kind=CertificateKind.TSA, issuer=issuing.record)
    responder = DummyTimeStamper(
        tsa_cert=asn1_x509.Certificate.load(der),
        tsa_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(
                serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
            )
        ),
        certs_to_embed=[issuing.asn1],
    )
    server = TsaServer(responder)
    pki_settings.SIGNING_TSA_URL = server.url
    pki_settings.SIGNING_TSA_TIMEOUT = 1.0
    yield server
    server.close()
