"""
The legacy sealing certificate (verification only).

Before the PKI of SPEC §10, every contract was sealed with one platform
certificate at ``SIGNING_CERT_PATH``. Nothing signs with it any more; files
sealed then still verify against it (``signing.sealing.verify``), so a
deployment that issued such files keeps the certificate configured.
"""

from pathlib import Path

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEV_COMMON_NAME = "闪签云电子签约（开发）"


def load_signing_cert() -> asn1_x509.Certificate:
    """The configured certificate (the one verification trusts)."""
    cert_path = Path(settings.SIGNING_CERT_PATH)
    try:
        data = cert_path.read_bytes()
        cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"签章证书无法读取：{cert_path}（{exc.__class__.__name__}）") from exc
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))
