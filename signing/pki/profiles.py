"""
Certificate and CRL profiles of the local hierarchy, as pure functions over
``cryptography`` objects (no database, no settings): what each kind of
certificate says and which extensions it carries.

* root CA — self-signed, ``pathLen 1``, keyCertSign + cRLSign;
* issuing CA — under the root, ``pathLen 0``, CRL DP ``/pki/root.crl``;
* TSA — under the issuing CA, the critical EKU ``id-kp-timeStamping`` (RFC 3161 §2.3);
* company and event certificates — under the issuing CA, digitalSignature +
  nonRepudiation, no EKU (NSS's e-mail-signer usage, which ``pdfsig``
  checks, and Adobe both accept that);
* every certificate below the root names its CRL (``/pki/issuing.crl`` or
  ``/pki/root.crl``) and its issuer's certificate (AIA caIssuers), so any
  validator can find both online.
"""

import datetime
import hashlib
import hmac
from dataclasses import dataclass

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.x509 import ocsp
from cryptography.x509.oid import AuthorityInformationAccessOID, ExtendedKeyUsageOID, NameOID

CLOCK_SKEW = datetime.timedelta(minutes=2)
ROOT_CRL_PATH = "/pki/root.crl"
ROOT_CRT_PATH = "/pki/root.crt"
ISSUING_CRL_PATH = "/pki/issuing.crl"
ISSUING_CRT_PATH = "/pki/issuing.crt"
# RFC 5280 ub-serial-number: the keyed hash (64 hex digits) fits exactly.
SUBJECT_SERIAL_LENGTH = 64


@dataclass(frozen=True)
class Endpoints:
    """Where the hierarchy publishes itself (``SIGNING_PKI_BASE_URL`` + the fixed paths)."""

    base_url: str

    def url(self, path: str) -> str:
        return self.base_url.rstrip("/") + path


def _name(*, common_name: str, organization: str = "", unit: str = "", serial: str = "", org_id: str = ""):
    attributes = [x509.NameAttribute(NameOID.COUNTRY_NAME, "CN")]
    if organization:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization))
    if org_id:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATION_IDENTIFIER, org_id))
    if unit:
        attributes.append(x509.NameAttribute(NameOID.ORGANIZATIONAL_UNIT_NAME, unit))
    if serial:
        attributes.append(x509.NameAttribute(NameOID.SERIAL_NUMBER, serial))
    attributes.append(x509.NameAttribute(NameOID.COMMON_NAME, common_name))
    return x509.Name(attributes)


def _key_usage(*, ca: bool) -> x509.KeyUsage:
    return x509.KeyUsage(
        digital_signature=not ca,
        content_commitment=not ca,
        key_encipherment=False,
        data_encipherment=False,
        key_agreement=False,
        key_cert_sign=ca,
        crl_sign=ca,
        encipher_only=False,
        decipher_only=False,
    )


def _builder(subject, public_key, issuer_name, issuer_public_key, not_before, not_after):
    return (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(issuer_name)
        .public_key(public_key)
        .serial_number(x509.random_serial_number())
        .not_valid_before(not_before)
        .not_valid_after(not_after)
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(public_key), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_public_key), critical=False)
    )


def _published(builder, endpoints: Endpoints, *, crl_path: str, crt_path: str):
    return builder.add_extension(
        x509.CRLDistributionPoints(
            [x509.DistributionPoint([x509.UniformResourceIdentifier(endpoints.url(crl_path))], None, None, None)]
        ),
        critical=False,
    ).add_extension(
        x509.AuthorityInformationAccess(
            [
                x509.AccessDescription(
                    AuthorityInformationAccessOID.CA_ISSUERS, x509.UniformResourceIdentifier(endpoints.url(crt_path))
                )
            ]
        ),
        critical=False,
    )


def _clamp(not_after: datetime.datetime, issuer: x509.Certificate) -> datetime.datetime:
    # A certificate never outlives its issuer (RFC 5280 path validation would reject the tail).
    return min(not_after, issuer.not_valid_after_utc)


def root_certificate(*, key, common_name: str, organization: str, now: datetime.datetime, years: int = 20):
    name = _name(common_name=common_name, organization=organization)
    return (
        _builder(
            name, key.public_key(), name, key.public_key(), now - CLOCK_SKEW, now + datetime.timedelta(days=365 * years)
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=1), critical=True)
        .add_extension(_key_usage(ca=True), critical=True)
        .sign(key, hashes.SHA256())
    )


def issuing_certificate(
    *, key, root: x509.Certificate, root_key, common_name: str, organization: str, now, endpoints: Endpoints, years=10
):
    builder = _builder(
        _name(common_name=common_name, organization=organization),
        key.public_key(),
        root.subject,
        root_key.public_key(),
        now - CLOCK_SKEW,
        _clamp(now + datetime.timedelta(days=365 * years), root),
    )
    builder = builder.add_extension(x509.BasicConstraints(ca=True, path_length=0), critical=True).add_extension(
        _key_usage(ca=True), critical=True
    )
    return _published(builder, endpoints, crl_path=ROOT_CRL_PATH, crt_path=ROOT_CRT_PATH).sign(
        root_key, hashes.SHA256()
    )


def _leaf(builder, issuer_key, endpoints: Endpoints, *, eku=None, under_root: bool = False):
    builder = builder.add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
    if eku:
        builder = builder.add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=False,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        # RFC 3161 §2.3: the TSA's certificate carries exactly this EKU, marked critical.
        builder = builder.add_extension(x509.ExtendedKeyUsage(eku), critical=True)
    else:
        builder = builder.add_extension(_key_usage(ca=False), critical=True)
    if under_root:
        builder = _published(builder, endpoints, crl_path=ROOT_CRL_PATH, crt_path=ROOT_CRT_PATH)
    else:
        builder = _published(builder, endpoints, crl_path=ISSUING_CRL_PATH, crt_path=ISSUING_CRT_PATH)
    return builder.sign(issuer_key, hashes.SHA256())


def tsa_certificate(
    *, public_key, issuer: x509.Certificate, issuer_key, common_name, organization, now, endpoints, years=5
):
    builder = _builder(
        _name(common_name=common_name, organization=organization),
        public_key,
        issuer.subject,
        issuer_key.public_key(),
        now - CLOCK_SKEW,
        _clamp(now + datetime.timedelta(days=365 * years), issuer),
    )
    under_root = issuer.subject == issuer.issuer  # the development TSA hangs off the root (see hierarchy)
    return _leaf(builder, issuer_key, endpoints, eku=[ExtendedKeyUsageOID.TIME_STAMPING], under_root=under_root)


def company_certificate(
    *, public_key, issuer, issuer_key, company_name: str, credit_code: str, seal_name: str, now, days: int, endpoints
):
    subject = _name(
        common_name=company_name,
        organization=company_name,
        # ETSI EN 319 412-1 §5.1.4 semantics: NTR = national trade register, then the country.
        org_id=f"NTRCN-{credit_code}" if credit_code else "",
        unit=seal_name,
    )
    builder = _builder(
        subject,
        public_key,
        issuer.subject,
        issuer_key.public_key(),
        now - CLOCK_SKEW,
        _clamp(now + datetime.timedelta(days=days), issuer),
    )
    return _leaf(builder, issuer_key, endpoints)


def event_certificate(
    *,
    public_key,
    issuer,
    issuer_key,
    real_name: str,
    subject_serial: str,
    application_label: str,
    now,
    minutes: int,
    endpoints,
):
    subject = _name(common_name=real_name, unit=application_label, serial=subject_serial)
    builder = _builder(
        subject,
        public_key,
        issuer.subject,
        issuer_key.public_key(),
        now - CLOCK_SKEW,
        _clamp(now + datetime.timedelta(minutes=minutes), issuer),
    )
    return _leaf(builder, issuer_key, endpoints)


def subject_serial(id_number: str, *, key: bytes) -> str:
    """The event certificate's serialNumber: HMAC-SHA256 of the ID number (upper case), never the number itself."""
    return hmac.new(key, id_number.strip().upper().encode(), hashlib.sha256).hexdigest().upper()


def revocation_list(
    *,
    issuer: x509.Certificate,
    issuer_key,
    number: int,
    this_update,
    next_update,
    revoked: list[tuple[int, datetime.datetime, str]],
) -> x509.CertificateRevocationList:
    builder = (
        x509.CertificateRevocationListBuilder()
        .issuer_name(issuer.subject)
        .last_update(this_update)
        .next_update(next_update)
        .add_extension(x509.CRLNumber(number), critical=False)
        .add_extension(x509.AuthorityKeyIdentifier.from_issuer_public_key(issuer_key.public_key()), critical=False)
    )
    for serial, revoked_at, reason in revoked:
        entry = x509.RevokedCertificateBuilder().serial_number(serial).revocation_date(revoked_at)
        if reason and reason != "unspecified":
            entry = entry.add_extension(x509.CRLReason(x509.ReasonFlags[reason]), critical=False)
        builder = builder.add_revoked_certificate(entry.build())
    return builder.sign(issuer_key, hashes.SHA256())


def signer_ocsp_response(
    *, certificate: x509.Certificate, issuer: x509.Certificate, issuer_key, now, minutes: int
) -> bytes:
    """
    "good" for ``certificate`` from ``thisUpdate`` (now, whole seconds, a
    little in the past for clocks that lag) for ``days`` or until the
    certificate's own ``notAfter`` if sooner — the window in which a
    long-term validator places the signature (see ``CaBackend.signer_status``).
    """
    this_update = (now - CLOCK_SKEW).replace(microsecond=0)
    next_update = min(certificate.not_valid_after_utc, this_update + CLOCK_SKEW + datetime.timedelta(minutes=minutes))
    response = (
        ocsp.OCSPResponseBuilder()
        .add_response(
            cert=certificate,
            issuer=issuer,
            algorithm=hashes.SHA256(),
            cert_status=ocsp.OCSPCertStatus.GOOD,
            this_update=this_update,
            next_update=next_update,
            revocation_time=None,
            revocation_reason=None,
        )
        .responder_id(ocsp.OCSPResponderEncoding.HASH, issuer)
        .sign(issuer_key, hashes.SHA256())
    )
    return response.public_bytes(serialization.Encoding.DER)
