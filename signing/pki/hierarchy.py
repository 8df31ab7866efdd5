"""
The local hierarchy: finding its parts (creating it is ``signing.pki.setup.pki_init``).

``authority(kind)`` returns the current certificate of a kind (the newest that
is neither revoked nor expired) with its parsed forms; ``PkiNotInitialised``
(an ``ImproperlyConfigured``) when there is none.
"""

import datetime
import hashlib
import logging
from dataclasses import dataclass, field
from functools import cached_property

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from . import keystore, profiles
from .models import CertificateKind, PkiCertificate

logger = logging.getLogger(__name__)

DEV_SUFFIX = "（开发）"
KIND_NAMES = {
    CertificateKind.ROOT: "根 CA",
    CertificateKind.ISSUING: "签发 CA",
    CertificateKind.TSA: "开发时间戳服务",
}


class PkiNotInitialised(ImproperlyConfigured):
    """The hierarchy (or the part asked for) does not exist yet: run ``manage.py pki_init``."""


def endpoints() -> profiles.Endpoints:
    return profiles.Endpoints(base_url=settings.SIGNING_PKI_BASE_URL)


def fingerprint(certificate: x509.Certificate) -> str:
    return hashlib.sha256(certificate.public_bytes(serialization.Encoding.DER)).hexdigest()


def serial_hex(certificate: x509.Certificate) -> str:
    return format(certificate.serial_number, "X")


def describe(name: x509.Name) -> str:
    """A subject or issuer as people read it: ``CN=…, O=…`` (RFC 4514, in the order written)."""
    return name.rfc4514_string(
        {
            x509.oid.NameOID.ORGANIZATION_IDENTIFIER: "organizationIdentifier",
            x509.oid.NameOID.SERIAL_NUMBER: "serialNumber",
        }
    )


@dataclass(frozen=True)
class Held:
    """A stored certificate with its parsed forms; ``key()`` decrypts the held private key (memoised)."""

    record: PkiCertificate
    certificate: x509.Certificate = field(repr=False)

    @classmethod
    def of(cls, record: PkiCertificate) -> "Held":
        return cls(record=record, certificate=_parsed(record))

    @cached_property
    def asn1(self) -> asn1_x509.Certificate:
        return asn1_x509.Certificate.load(bytes(self.record.der))

    @property
    def der(self) -> bytes:
        return bytes(self.record.der)

    def key(self):
        if not self.record.key_pem:
            raise ImproperlyConfigured(f"{self.record.common_name} 的私钥不由本系统保管，无法在本地签名。")
        name = KIND_NAMES.get(self.record.kind, self.record.common_name)
        return keystore.decrypt_key(self.record.key_pem, name=name, memo_key=self.record.fingerprint_sha256)


_parsed_memo: dict[str, x509.Certificate] = {}


def _parsed(record: PkiCertificate) -> x509.Certificate:
    cert = _parsed_memo.get(record.fingerprint_sha256)
    if cert is None:
        cert = _parsed_memo[record.fingerprint_sha256] = x509.load_der_x509_certificate(bytes(record.der))
    return cert


def record_certificate(
    certificate: x509.Certificate, *, kind: str, issuer: PkiCertificate | None, key=None, **fields
) -> PkiCertificate:
    """Store an issued certificate (and, for the kinds whose key we hold, its encrypted key)."""
    return PkiCertificate.objects.create(
        kind=kind,
        serial=serial_hex(certificate),
        issuer=issuer,
        common_name=_common_name(certificate.subject),
        subject=describe(certificate.subject),
        der=certificate.public_bytes(serialization.Encoding.DER),
        fingerprint_sha256=fingerprint(certificate),
        not_before=certificate.not_valid_before_utc,
        not_after=certificate.not_valid_after_utc,
        key_pem=keystore.encrypt_key(key) if key is not None else b"",
        **fields,
    )


def _common_name(name: x509.Name) -> str:
    values = name.get_attributes_for_oid(x509.oid.NameOID.COMMON_NAME)
    return str(values[0].value) if values else ""


def current(kind: str, *, issuer: PkiCertificate | None = None, at: datetime.datetime | None = None):
    at = at or timezone.now()
    rows = PkiCertificate.objects.filter(kind=kind, revoked_at__isnull=True, not_before__lte=at, not_after__gt=at)
    if issuer is not None:
        rows = rows.filter(issuer=issuer)
    return rows.order_by("-not_before", "-id").first()


def authority(kind: str) -> Held:
    record = current(kind)
    if record is None:
        raise PkiNotInitialised(
            f"证书体系尚未初始化：没有有效的{KIND_NAMES.get(kind, kind)}证书，请运行 manage.py pki_init。"
        )
    return Held.of(record)


def chain() -> list[Held]:
    """The issuing CA then the root: what every leaf of the hierarchy chains through."""
    issuing = authority(CertificateKind.ISSUING)
    root = Held.of(issuing.record.issuer) if issuing.record.issuer_id else authority(CertificateKind.ROOT)
    return [issuing, root]


_SHORT_NAMES = {
    "2.5.4.3": "CN",
    "2.5.4.5": "serialNumber",
    "2.5.4.6": "C",
    "2.5.4.10": "O",
    "2.5.4.11": "OU",
    "2.5.4.97": "organizationIdentifier",
}


def describe_asn1(name) -> str:
    """An asn1crypto ``Name`` in the shape of ``describe`` (RFC 4514: the last RDN first)."""
    parts = []
    for rdn in reversed(list(name.chosen)):
        for attribute in rdn:
            oid = attribute["type"].dotted
            value = str(attribute["value"].native).replace(",", "\\,")
            parts.append(f"{_SHORT_NAMES.get(oid, oid)}={value}")
    return ",".join(parts)
