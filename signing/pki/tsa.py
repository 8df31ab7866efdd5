"""
Trusted time (SPEC §10): which RFC 3161 time-stamping authority signs.

``get_timestamper()`` answers by the settings:

* ``SIGNING_TSA_URL=https://…`` — ``HttpTimeStamper``, pyHanko's HTTP client
  (``application/timestamp-query`` → ``application/timestamp-reply``) with
  ``SIGNING_TSA_TIMEOUT`` and optional basic auth
  (``SIGNING_TSA_USERNAME`` / ``SIGNING_TSA_PASSWORD``);
* unset, under DEBUG — ``DevelopmentTimeStamper``: an in-process TSA that
  signs with the hierarchy's TSA certificate named （开发）; a *named
  development backend*, never used with DEBUG off;
* ``none`` — no timestamps at all (documented as not meeting the 指引);
* ``development`` — the development TSA in any mode (the test suite and the
  benchmarks, which run with DEBUG off); a system check error in production;
* unset with DEBUG off — ``ImproperlyConfigured`` (the system check reports it first).

Whatever goes wrong while asking for a token — refused, timed out, garbage,
a token for another digest — surfaces as ``TimestampUnavailable``
(503/50300), so signing stores nothing and the caller's transaction rolls back.
"""

import datetime
import logging
import secrets
from pathlib import Path

from asn1crypto import algos, cms, core, pem, tsp
from asn1crypto import x509 as asn1_x509
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone
from pyhanko.sign.general import as_signing_certificate_v2, simple_cms_attribute
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.timestamps.requests_client import RequestsHTTPTimeStamper

from shanqian.errors import UpstreamBusy

from .hierarchy import Held, authority
from .models import CertificateKind

logger = logging.getLogger(__name__)

# A policy OID of our own under the UUID arc (ITU-T X.667), so tokens of the development TSA
# name a policy nobody else uses.
DEV_TSA_POLICY = "2.25.19520549593439760448914576233194840941"
TSA_NONE = "none"
TSA_DEVELOPMENT = "development"
DIGESTS = {"sha256": hashes.SHA256, "sha384": hashes.SHA384, "sha512": hashes.SHA512}


class TimestampUnavailable(UpstreamBusy):
    """The time-stamping authority gave no usable token: signing is refused and nothing is stored (503/50300)."""


def tsa_mode() -> str:
    """``http``, ``development``, ``none`` or ``missing`` (DEBUG off without a URL)."""
    url = (settings.SIGNING_TSA_URL or "").strip()
    if url.lower() == TSA_NONE:
        return "none"
    if url.lower() == TSA_DEVELOPMENT:
        return "development"
    if url:
        return "http"
    return "development" if settings.DEBUG else "missing"


class DevelopmentTimeStamper(TimeStamper):
    """An in-process RFC 3161 TSA over the development TSA certificate (ECDSA; RFC 5816 ESSCertIDv2)."""

    local = True  # its certificate is ours: no revocation data to fetch, small fixed-size tokens

    def __init__(self, *, tsa: Held, chain_certs: list[asn1_x509.Certificate]):
        super().__init__()
        self.tsa = tsa
        self.chain_certs = chain_certs

    @classmethod
    def from_hierarchy(cls) -> "DevelopmentTimeStamper":
        tsa = authority(CertificateKind.TSA)
        # The TSA's issuer when it is not the root (the root is the validator's anchor, not embedded).
        issuer = tsa.record.issuer
        chain_certs = [] if issuer is None or issuer.issuer_id is None else [Held.of(issuer).asn1]
        return cls(tsa=tsa, chain_certs=chain_certs)

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return respond(req, certificate=self.tsa.asn1, key=self.tsa.key(), chain=self.chain_certs)


def _der(tag: int, content: bytes) -> bytes:
    size = len(content)
    if size < 0x80:
        return bytes([tag, size]) + content
    length = size.to_bytes((size.bit_length() + 7) // 8, "big")
    return bytes([tag, 0x80 | len(length)]) + length + content


_SEQUENCE, _SET, _OCTETS, _INTEGER, _CONTEXT_0 = 0x30, 0x31, 0x04, 0x02, 0xA0
_SHA256 = algos.DigestAlgorithm({"algorithm": "sha256"}).dump()
_ECDSA_SHA256 = algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}).dump()
_CONTENT_TYPE_ATTR = simple_cms_attribute("content_type", "tst_info").dump()
_OID_SIGNED_DATA = core.ObjectIdentifier("1.2.840.113549.1.7.2").dump()
_OID_TST_INFO = core.ObjectIdentifier("1.2.840.113549.1.9.16.1.4").dump()
_OID_SIGNING_TIME = core.ObjectIdentifier("1.2.840.113549.1.9.5").dump()
_OID_MESSAGE_DIGEST = core.ObjectIdentifier("1.2.840.113549.1.9.4").dump()
_GRANTED = _der(_SEQUENCE, core.Integer(0).dump())


class _Constant:
    """The per-certificate parts of every token, encoded once (the certificate never changes)."""

    _memo: dict[bytes, "_Constant"] = {}

    def __init__(self, certificate: asn1_x509.Certificate, chain):
        self.tsa_name = asn1_x509.GeneralName(name="directory_name", value=certificate.subject)
        self.sid = cms.IssuerAndSerialNumber(
            {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
        ).dump()
        self.signing_certificate = simple_cms_attribute(
            "signing_certificate_v2", as_signing_certificate_v2(certificate)
        ).dump()
        # CertificateSet is a SET OF: DER sorts its members too.
        self.certificates = b"".join(sorted(c.dump() for c in (certificate, *chain)))

    @classmethod
    def of(cls, certificate, chain) -> "_Constant":
        key = certificate.dump() + b"".join(c.dump() for c in chain)
        constant = cls._memo.get(key)
        if constant is None:
            constant = cls._memo[key] = cls(certificate, chain)
        return constant


def respond(
    req: tsp.TimeStampReq, *, certificate: asn1_x509.Certificate, key, chain=(), now: datetime.datetime | None = None
) -> tsp.TimeStampResp:
    """
    A granted TimeStampResp for ``req``, signed by ``key`` (RFC 3161 §2.4.2,
    ESSCertIDv2 per RFC 5816). The token is assembled as DER from parts
    encoded once per certificate: asn1crypto re-encodes nested certificates
    on every build, which cost tens of milliseconds per token.
    """
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the development TSA signs with ECDSA")
    imprint = req["message_imprint"]
    if imprint["hash_algorithm"]["algorithm"].native not in DIGESTS:
        return tsp.TimeStampResp(
            {"status": tsp.PKIStatusInfo({"status": "rejection", "fail_info": tsp.PKIFailureInfo({"bad_alg"})})}
        )
    constant = _Constant.of(certificate, list(chain))
    gen_time = (now or timezone.now()).astimezone(datetime.UTC)
    gen_time = gen_time.replace(microsecond=gen_time.microsecond // 1000 * 1000)
    info = {
        "version": "v1",
        "policy": DEV_TSA_POLICY,
        "message_imprint": imprint,
        "serial_number": secrets.randbits(127),
        "gen_time": core.GeneralizedTime(gen_time),
        "accuracy": tsp.Accuracy({"seconds": 1}),
        "tsa": constant.tsa_name,
    }
    if req["nonce"].native is not None:
        info["nonce"] = req["nonce"]
    tst_info = tsp.TSTInfo(info).dump()
    digest = hashes.Hash(hashes.SHA256())
    digest.update(tst_info)
    attributes = [
        _CONTENT_TYPE_ATTR,
        _der(_SEQUENCE, _OID_SIGNING_TIME + _der(_SET, core.UTCTime(gen_time.replace(microsecond=0)).dump())),
        constant.signing_certificate,
        _der(_SEQUENCE, _OID_MESSAGE_DIGEST + _der(_SET, _der(_OCTETS, digest.finalize()))),
    ]
    # DER orders the members of a SET OF by their encodings (X.690 §11.6).
    signed_attrs = b"".join(sorted(attributes))
    signature = key.sign(_der(_SET, signed_attrs), ec.ECDSA(hashes.SHA256()))
    signer_info = _der(
        _SEQUENCE,
        core.Integer(1).dump()
        + constant.sid
        + _SHA256
        + _der(_CONTEXT_0, signed_attrs)
        + _ECDSA_SHA256
        + _der(_OCTETS, signature),
    )
    encapsulated = _der(_SEQUENCE, _OID_TST_INFO + _der(_CONTEXT_0, _der(_OCTETS, tst_info)))
    certificates = _der(_CONTEXT_0, constant.certificates) if req["cert_req"].native else b""
    signed_data = _der(
        _SEQUENCE,
        core.Integer(3).dump() + _der(_SET, _SHA256) + encapsulated + certificates + _der(_SET, signer_info),
    )
    token = _der(_SEQUENCE, _OID_SIGNED_DATA + _der(_CONTEXT_0, signed_data))
    return tsp.TimeStampResp.load(_der(_SEQUENCE, _GRANTED + token))


class HttpTimeStamper(RequestsHTTPTimeStamper):
    """
    pyHanko's HTTP client, with every failure mode turned into a
    ``TimestampRequestError``: the body is parsed here, so a reply that is not
    a TimeStampResp fails now and not somewhere inside the CMS assembly.
    """

    async def async_request_tsa_response(self, req):
        try:
            response = await super().async_request_tsa_response(req)
            response.native  # noqa: B018 -- forces the full parse of the reply
        except TimestampRequestError:
            raise
        except Exception as exc:  # asn1crypto raises ValueError/TypeError/... on garbage
            raise TimestampRequestError(f"unreadable timestamp reply ({exc.__class__.__name__})") from exc
        return response


def get_timestamper() -> TimeStamper | None:
    mode = tsa_mode()
    if mode == "none":
        return None
    if mode == "http":
        auth = None
        if settings.SIGNING_TSA_USERNAME:
            auth = (settings.SIGNING_TSA_USERNAME, settings.SIGNING_TSA_PASSWORD)
        return HttpTimeStamper(settings.SIGNING_TSA_URL.strip(), timeout=settings.SIGNING_TSA_TIMEOUT, auth=auth)
    if mode == "development":
        return DevelopmentTimeStamper.from_hierarchy()
    raise ImproperlyConfigured(
        "SIGNING_TSA_URL 未设置：生产模式必须配置可信时间戳服务（RFC 3161）；"
        "如确实不加时间戳，请显式设置 SIGNING_TSA_URL=none（不符合《电子劳动合同订立指引》）。"
    )


def load_trust_roots(path) -> list[asn1_x509.Certificate]:
    """The certificates of a PEM bundle or a DER file (``SIGNING_TSA_TRUST_ROOTS``)."""
    data = Path(path).read_bytes()
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    certificate = asn1_x509.Certificate.load(data)
    certificate.native  # noqa: B018 -- parse now: a broken file fails here, not at the first signature
    return [certificate]


def tsa_trust_roots() -> list[asn1_x509.Certificate]:
    return load_trust_roots(settings.SIGNING_TSA_TRUST_ROOTS) if settings.SIGNING_TSA_TRUST_ROOTS else []
