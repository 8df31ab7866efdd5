"""
Certificate revocation lists: always current, published on change.

``crl_current(ca)`` returns the CA's newest CRL, issuing a new one first when
it is older than ``SIGNING_CRL_REFRESH_HOURS`` or past its ``nextUpdate`` —
so ``/pki/issuing.crl`` is never stale even if nobody revoked anything for
weeks. ``certificate_revoke`` marks a certificate revoked and publishes a new
CRL of its issuer in the same transaction: the revocation is in the CRL the
moment it commits. CRL numbers grow by one per issuer; issuing locks the CA's
row so two instances never publish the same number.
"""

import datetime

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.db import transaction
from django.utils import timezone

from shanqian.errors import Conflict

from . import profiles
from .hierarchy import Held
from .models import CA_KINDS, PkiCertificate, RevocationList, RevocationReason


class AlreadyRevoked(Conflict):
    """The certificate is revoked already (409)."""


def _fresh(crl: RevocationList, now: datetime.datetime) -> bool:
    refresh = datetime.timedelta(hours=settings.SIGNING_CRL_REFRESH_HOURS)
    return crl.this_update + refresh > now and crl.next_update > now


def crl_current(ca: Held) -> RevocationList:
    now = timezone.now()
    latest = RevocationList.objects.filter(issuer_id=ca.record.pk).order_by("-number").first()
    if latest is not None and _fresh(latest, now):
        return latest
    return crl_publish(ca)


@transaction.atomic
def crl_publish(ca: Held, *, force: bool = False) -> RevocationList:
    """Issue the next CRL of ``ca`` (unless another process just did and ``force`` is off)."""
    PkiCertificate.objects.select_for_update().filter(pk=ca.record.pk).first()
    now = timezone.now()
    latest = RevocationList.objects.filter(issuer_id=ca.record.pk).order_by("-number").first()
    if latest is not None and not force and _fresh(latest, now):
        return latest
    revoked = list(
        PkiCertificate.objects.filter(issuer_id=ca.record.pk, revoked_at__isnull=False)
        .order_by("revoked_at", "id")
        .values_list("serial", "revoked_at", "revocation_reason")
    )
    number = (latest.number + 1) if latest is not None else 1
    # thisUpdate a little in the past, so a validator whose clock lags ours still accepts it.
    this_update = (now - profiles.CLOCK_SKEW).replace(microsecond=0)
    next_update = this_update + datetime.timedelta(days=settings.SIGNING_CRL_VALIDITY_DAYS)
    crl = profiles.revocation_list(
        issuer=ca.certificate,
        issuer_key=ca.key(),
        number=number,
        this_update=this_update,
        next_update=next_update,
        revoked=[(int(serial, 16), at, reason) for serial, at, reason in revoked],
    )
    return RevocationList.objects.create(
        issuer_id=ca.record.pk,
        number=number,
        this_update=this_update,
        next_update=next_update,
        revoked_count=len(revoked),
        der=crl.public_bytes(serialization.Encoding.DER),
    )


@transaction.atomic
def certificate_revoke(
    *, certificate: PkiCertificate, reason: str = RevocationReason.UNSPECIFIED, note: str = "", actor=None
) -> PkiCertificate:
    """Revoke a certificate and publish its issuer's CRL with it (see the module docstring)."""
    if reason not in RevocationReason.values:
        raise Conflict("吊销原因无效")
    locked = PkiCertificate.objects.select_for_update().get(pk=certificate.pk)
    if locked.revoked_at is not None:
        raise AlreadyRevoked(f"该证书已于 {timezone.localtime(locked.revoked_at):%Y-%m-%d %H:%M:%S} 吊销")
    if locked.kind in CA_KINDS:
        # Revoking a CA takes the whole hierarchy down; that is an operator's job, not an admin click.
        raise Conflict("CA 证书不能在后台吊销，请由运维人员按证书体系更换流程处理")
    # CRLs carry whole seconds; round up, so a revocation never appears earlier than it happened.
    now = timezone.now()
    locked.revoked_at = now.replace(microsecond=0) + (
        datetime.timedelta(seconds=1) if now.microsecond else datetime.timedelta()
    )
    locked.revocation_reason = reason
    locked.revocation_note = note[:256]
    locked.revoked_by = actor
    locked.save(update_fields=["revoked_at", "revocation_reason", "revocation_note", "revoked_by"])
    crl_publish(Held.of(locked.issuer), force=True)
    return locked
