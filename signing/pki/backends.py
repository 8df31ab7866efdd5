"""
``SIGNING_CA_BACKEND``: who certifies the signers' keys.

The signing pipeline never talks to a CA directly; it asks the configured
backend (``local`` by default, or the dotted path of a class) for four
things, and this module states the contract each implementation keeps:

``certify_event_key(csr=..., request=...) -> PkiCertificate``
    Certify the worker's freshly made event key. ``csr`` is a PKCS#10 request
    signed by that key (proof of possession); ``request`` carries who the
    signer is and what they are signing (``EventCertificateRequest``). The
    backend returns the stored certificate row (kind ``event``, no key).
``issue_company_certificate(company=..., credit_code=..., seal_name=..., actor=...) -> PkiCertificate``
    Issue (or enrol) the company's seal certificate.
``company_signer(certificate) -> pyhanko Signer``
    Something that signs with the company certificate's key: the local
    backend decrypts the key it holds; a licensed CA's backend returns a
    remote signer (e.g. CSC API) and the key never reaches us.
``validation_material() -> ValidationMaterial``
    The trust anchors, intermediates and current CRLs that a validator of
    this backend's certificates needs; they go into every document's DSS.
``signer_status(certificate) -> bytes``
    A DER OCSP response (RFC 6960) saying a signer's certificate (the event
    certificate, the company certificate) is good, produced at signing and
    valid for the minutes of an event certificate. It goes
    into the DSS: the CRLs were issued before the signature and are valid
    for days, the event certificate for minutes, so a validator judging the
    file years later (PAdES B-LTA, ETSI EN 319 102-1 §5.6.2 "time sliding")
    would otherwise slide the control time to a CRL's ``nextUpdate`` — past
    the event certificate's expiry (OUT_OF_BOUNDS_NO_POE) — and would find no
    revocation information issued after the signature
    (REVOCATION_OUT_OF_BOUNDS_NO_POE). With these responses the control time
    lands within each certificate's validity, after the signature timestamp
    and before the document timestamp that proves the signature existed then.

Errors: a refusal that the user can act on (identity not accepted, a company
not enrolled) is a ``shanqian.errors.Conflict`` with a Chinese message; a CA
that cannot be reached or answers garbage is ``CaUnavailable`` (503/50300).
Either way nothing is stored. ``docs/pki.md`` describes what a licensed CA's
remote backend must send and attest.
"""

import datetime
from dataclasses import dataclass, field
from functools import cache

from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from django.utils.module_loading import import_string

from shanqian.errors import Conflict, UpstreamBusy

from . import profiles
from .crl import crl_current
from .hierarchy import Held, authority, chain, endpoints, record_certificate
from .keystore import generate_key
from .models import CertificateKind, PkiCertificate
from .signer import KeySigner


class CaUnavailable(UpstreamBusy):
    """The certificate authority did not answer usably (503/50300); nothing was issued."""


@dataclass(frozen=True)
class EventCertificateRequest:
    """
    Who signs what, as the CA is told it. ``id_number`` travels to the CA
    (a licensed CA checks identity itself); only ``subject_serial`` (its keyed
    hash) may appear in the certificate.
    """

    application_id: int
    real_name: str
    id_number: str
    subject_serial: str
    # The identity and intent evidence the CA relies on (SPEC §10 audit trail).
    realname_method: str = ""
    realname_verified_at: datetime.datetime | None = None
    realname_verified_by: str = ""
    intent_phone_masked: str = ""
    intent_accepted_at: datetime.datetime | None = None

    @property
    def application_label(self) -> str:
        return f"闪签云签约申请 {self.application_id}"


@dataclass(frozen=True)
class ValidationMaterial:
    trust_roots: list[asn1_x509.Certificate]
    intermediates: list[asn1_x509.Certificate]
    crls: list[bytes] = field(default_factory=list)  # DER


class CaBackend:
    """The interface; see the module docstring."""

    name = ""

    def certify_event_key(
        self, *, csr: x509.CertificateSigningRequest, request: EventCertificateRequest
    ) -> PkiCertificate:
        raise NotImplementedError

    def issue_company_certificate(self, *, company, credit_code: str = "", seal_name: str = "", actor=None):
        raise NotImplementedError

    def company_signer(self, certificate: PkiCertificate):
        raise NotImplementedError

    def validation_material(self) -> ValidationMaterial:
        raise NotImplementedError

    def signer_status(self, certificate: PkiCertificate) -> bytes:
        raise NotImplementedError


class LocalCaBackend(CaBackend):
    """The project's own hierarchy (``manage.py pki_init``): issuing CA keys held encrypted in the database."""

    name = "local"

    def certify_event_key(self, *, csr, request):
        if not csr.is_signature_valid:
            raise Conflict("签署证书请求无效，请重新签署")
        issuing = authority(CertificateKind.ISSUING)
        cert = profiles.event_certificate(
            public_key=csr.public_key(),
            issuer=issuing.certificate,
            issuer_key=issuing.key(),
            real_name=request.real_name,
            subject_serial=request.subject_serial,
            application_label=request.application_label,
            now=timezone.now(),
            minutes=settings.SIGNING_EVENT_CERT_MINUTES,
            endpoints=endpoints(),
        )
        return record_certificate(
            cert,
            kind=CertificateKind.EVENT,
            issuer=issuing.record,
            backend=self.name,
            application_id=request.application_id,
        )

    def issue_company_certificate(self, *, company, credit_code="", seal_name="", actor=None):
        issuing = authority(CertificateKind.ISSUING)
        key = generate_key()
        cert = profiles.company_certificate(
            public_key=key.public_key(),
            issuer=issuing.certificate,
            issuer_key=issuing.key(),
            company_name=company.company_name,
            credit_code=credit_code,
            seal_name=seal_name or "合同专用章",
            now=timezone.now(),
            days=settings.SIGNING_COMPANY_CERT_DAYS,
            endpoints=endpoints(),
        )
        return record_certificate(
            cert, kind=CertificateKind.COMPANY, issuer=issuing.record, key=key, backend=self.name, company=company
        )

    def company_signer(self, certificate):
        held = Held.of(certificate)
        return KeySigner(private_key=held.key(), certificate=held.asn1, chain=[c.asn1 for c in chain()])

    def signer_status(self, certificate):
        """A response signed by the issuing CA itself (RFC 6960 §4.2.2.2: the CA may sign its own responses)."""
        issuing = Held.of(certificate.issuer) if certificate.issuer_id else authority(CertificateKind.ISSUING)
        return profiles.signer_ocsp_response(
            certificate=Held.of(certificate).certificate,
            issuer=issuing.certificate,
            issuer_key=issuing.key(),
            now=timezone.now(),
            # Minutes, like the event certificate: within every CRL's window that the DSS holds.
            minutes=settings.SIGNING_EVENT_CERT_MINUTES,
        )

    def validation_material(self):
        issuing, root = chain()
        return ValidationMaterial(
            trust_roots=[root.asn1],
            intermediates=[issuing.asn1],
            crls=[bytes(crl_current(issuing).der), bytes(crl_current(root).der)],
        )


BACKENDS = {"local": "signing.pki.backends.LocalCaBackend"}


@cache
def _backend_class(path: str):
    try:
        return import_string(BACKENDS.get(path, path))
    except ImportError as exc:
        raise ImproperlyConfigured(f"SIGNING_CA_BACKEND={path!r} 无法加载：{exc}") from exc


def get_ca_backend() -> CaBackend:
    return _backend_class(settings.SIGNING_CA_BACKEND)()


def csr_for(key, request: EventCertificateRequest) -> x509.CertificateSigningRequest:
    """The PKCS#10 request of an event key: the subject the certificate should carry, signed by the key."""
    subject = x509.Name(
        [
            x509.NameAttribute(x509.oid.NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(x509.oid.NameOID.ORGANIZATIONAL_UNIT_NAME, request.application_label),
            x509.NameAttribute(x509.oid.NameOID.SERIAL_NUMBER, request.subject_serial),
            x509.NameAttribute(x509.oid.NameOID.COMMON_NAME, request.real_name),
        ]
    )
    return x509.CertificateSigningRequestBuilder().subject_name(subject).sign(key, hashes.SHA256())


def csr_der(csr: x509.CertificateSigningRequest) -> bytes:
    return csr.public_bytes(serialization.Encoding.DER)
