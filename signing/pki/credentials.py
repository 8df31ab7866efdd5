"""
The two signers of a labour contract, as credentials the sealing pipeline uses.

``event_credential`` makes the worker's event key pair in memory (ECDSA
P-256), has the CA backend certify it (CN = real name, serialNumber = a keyed
hash of the ID number, OU naming the application, valid for
``SIGNING_EVENT_CERT_MINUTES``) and wraps key and certificate in a
``KeySigner``. The key exists nowhere else: no bytes of it are ever
produced, and ``SigningCredential.drop()`` — which the pipeline calls right
after the worker's signature, success or not — releases the only reference.

``company_credential`` finds the company's current certificate (not revoked,
within its validity) and its signer; ``CompanyCertificateMissing`` (409)
names the company and what is wrong.
"""

import hashlib
import hmac
from dataclasses import dataclass

from django.conf import settings
from django.utils import timezone

from shanqian.errors import Conflict

from .backends import CaUnavailable, EventCertificateRequest, csr_for, get_ca_backend
from .hierarchy import Held, chain
from .keystore import generate_key
from .models import CertificateKind, PkiCertificate
from .profiles import subject_serial
from .signer import KeySigner


class CompanyCertificateMissing(Conflict):
    """The company has no usable certificate (never issued, revoked or expired): no seal can be applied (409)."""


@dataclass
class SigningCredential:
    record: PkiCertificate
    signer: object  # a pyhanko Signer

    @property
    def held(self) -> Held:
        return Held.of(self.record)

    def drop(self) -> None:
        drop = getattr(self.signer, "drop", None)
        if drop is not None:
            drop()


def subject_hash_key() -> bytes:
    configured = settings.SIGNING_SUBJECT_HASH_KEY
    if configured:
        return configured.encode()
    return hmac.new(settings.SECRET_KEY.encode(), b"shanqian.signing.pki.subject-serial", hashlib.sha256).digest()


def event_request(*, application_id: int, real_name: str, id_number: str, **evidence) -> EventCertificateRequest:
    return EventCertificateRequest(
        application_id=application_id,
        real_name=real_name,
        id_number=id_number,
        subject_serial=subject_serial(id_number, key=subject_hash_key()),
        **evidence,
    )


def event_credential(*, request: EventCertificateRequest) -> SigningCredential:
    key = generate_key()
    record = get_ca_backend().certify_event_key(csr=csr_for(key, request), request=request)
    held = Held.of(record)
    if held.certificate.public_key() != key.public_key():
        raise CaUnavailable("签署证书签发异常，请稍后重试")
    signer = KeySigner(private_key=key, certificate=held.asn1, chain=[c.asn1 for c in chain()])
    del key
    return SigningCredential(record=record, signer=signer)


def company_certificate_current(company) -> PkiCertificate:
    now = timezone.now()
    rows = list(
        PkiCertificate.objects.filter(kind=CertificateKind.COMPANY, company=company).order_by("-not_before", "-id")[:5]
    )
    usable = [r for r in rows if r.revoked_at is None and r.not_before <= now < r.not_after]
    if usable:
        return usable[0]
    name = getattr(company, "company_name", "")
    if not rows:
        raise CompanyCertificateMissing(f"用人单位「{name}」尚未签发单位证书，无法盖章，请联系管理员在后台签发单位证书")
    if rows[0].revoked_at is not None:
        raise CompanyCertificateMissing(f"用人单位「{name}」的单位证书已吊销，无法盖章，请联系管理员重新签发单位证书")
    raise CompanyCertificateMissing(f"用人单位「{name}」的单位证书已过期，无法盖章，请联系管理员重新签发单位证书")


def company_credential(company) -> SigningCredential:
    record = company_certificate_current(company)
    return SigningCredential(record=record, signer=get_ca_backend().company_signer(record))
