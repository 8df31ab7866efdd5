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

from asn1crypto import algos, cms, core, tsp
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

from .hierarchy import Held, authority, chain
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
        return cls(tsa=tsa, chain_certs=[c.asn1 for c in chain()[:1]])

    async def async_request_tsa_response(self, req: tsp.TimeStampReq) -> tsp.TimeStampResp:
        return respond(req, certificate=self.tsa.asn1, key=self.tsa.key(), chain=self.chain_certs)


def respond(
    req: tsp.TimeStampReq, *, certificate: asn1_x509.Certificate, key, chain=(), now: datetime.datetime | None = None
) -> tsp.TimeStampResp:
    """A granted TimeStampResp for ``req``, signed by ``key`` (RFC 3161 §2.4.2; the token as in §2.4.2 + RFC 5816)."""
    if not isinstance(key, ec.EllipticCurvePrivateKey):
        raise TypeError("the development TSA signs with ECDSA")
    imprint = req["message_imprint"]
    digest_name = imprint["hash_algorithm"]["algorithm"].native
    if digest_name not in DIGESTS:
        return tsp.TimeStampResp(
            {"status": tsp.PKIStatusInfo({"status": "rejection", "fail_info": tsp.PKIFailureInfo({"bad_alg"})})}
        )
    gen_time = (now or timezone.now()).astimezone(datetime.UTC)
    gen_time = gen_time.replace(microsecond=gen_time.microsecond // 1000 * 1000)
    info = {
        "version": "v1",
        "policy": DEV_TSA_POLICY,
        "message_imprint": imprint,
        "serial_number": secrets.randbits(127),
        "gen_time": core.GeneralizedTime(gen_time),
        "accuracy": tsp.Accuracy({"seconds": 1}),
        "tsa": asn1_x509.GeneralName(name="directory_name", value=certificate.subject),
    }
    if req["nonce"].native is not None:
        info["nonce"] = req["nonce"]
    tst_info = tsp.TSTInfo(info).dump()
    digest = hashes.Hash(hashes.SHA256())
    digest.update(tst_info)
    signed_attrs = cms.CMSAttributes(
        [
            simple_cms_attribute("content_type", "tst_info"),
            simple_cms_attribute("signing_time", cms.Time({"utc_time": core.UTCTime(gen_time.replace(microsecond=0))})),
            simple_cms_attribute("signing_certificate_v2", as_signing_certificate_v2(certificate)),
            simple_cms_attribute("message_digest", digest.finalize()),
        ]
    )
    signature = key.sign(signed_attrs.dump(), ec.ECDSA(hashes.SHA256()))
    signer_info = cms.SignerInfo(
        {
            "version": "v1",
            "sid": cms.SignerIdentifier(
                {
                    "issuer_and_serial_number": cms.IssuerAndSerialNumber(
                        {"issuer": certificate.issuer, "serial_number": certificate.serial_number}
                    )
                }
            ),
            "digest_algorithm": algos.DigestAlgorithm({"algorithm": "sha256"}),
            "signature_algorithm": algos.SignedDigestAlgorithm({"algorithm": "sha256_ecdsa"}),
            "signed_attrs": signed_attrs,
            "signature": signature,
        }
    )
    certificates = [certificate, *chain] if req["cert_req"].native else []
    signed_data = cms.SignedData(
        {
            "version": "v3",
            "digest_algorithms": cms.DigestAlgorithms([algos.DigestAlgorithm({"algorithm": "sha256"})]),
            "encap_content_info": cms.EncapsulatedContentInfo(
                {"content_type": "tst_info", "content": cms.ParsableOctetString(tst_info)}
            ),
            "certificates": certificates,
            "signer_infos": [signer_info],
        }
    )
    return tsp.TimeStampResp(
        {
            "status": tsp.PKIStatusInfo({"status": "granted"}),
            "time_stamp_token": cms.ContentInfo({"content_type": "signed_data", "content": signed_data}),
        }
    )


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
    from pathlib import Path

    from asn1crypto import pem

    data = Path(path).read_bytes()
    if pem.detect(data):
        return [asn1_x509.Certificate.load(der) for _, _, der in pem.unarmor(data, multiple=True)]
    certificate = asn1_x509.Certificate.load(data)
    certificate.native  # noqa: B018 -- parse now: a broken file fails here, not at the first signature
    return [certificate]


def tsa_trust_roots() -> list[asn1_x509.Certificate]:
    return load_trust_roots(settings.SIGNING_TSA_TRUST_ROOTS) if settings.SIGNING_TSA_TRUST_ROOTS else []
