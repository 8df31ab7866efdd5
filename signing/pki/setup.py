"""
Creating the local hierarchy: ``pki_init`` (``manage.py pki_init``).

``pki_init`` is idempotent: it creates what is missing — the root CA, the
issuing CA under the current root, the development TSA certificate when asked,
the first CRL of each CA — and leaves what exists alone, after checking that
every key it keeps still decrypts with the configured passphrase. Names carry
``（开发）`` when created under DEBUG, so a development hierarchy can never be
mistaken for a deployment's.

It stands above ``hierarchy`` (finding the parts) and ``crl`` (which signs with them), so both
stay free of each other's imports.
"""

import logging
from dataclasses import dataclass, field

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from . import keystore, profiles
from .crl import crl_current
from .hierarchy import DEV_SUFFIX, Held, current, endpoints, record_certificate
from .models import CertificateKind, PkiCertificate

logger = logging.getLogger(__name__)


def _names(kind: str, organization: str, debug: bool) -> str:
    suffix = DEV_SUFFIX if debug else ""
    return {
        CertificateKind.ROOT: f"{organization}根CA{suffix}",
        CertificateKind.ISSUING: f"{organization}签发CA{suffix}",
        # The development TSA is named as such whatever the mode (SPEC §10).
        CertificateKind.TSA: f"{organization}时间戳服务{DEV_SUFFIX}",
    }[kind]


@dataclass
class InitReport:
    created: list[PkiCertificate] = field(default_factory=list)
    kept: list[PkiCertificate] = field(default_factory=list)


@transaction.atomic
def pki_init(*, dev_tsa: bool | None = None, organization: str | None = None) -> InitReport:
    """Create the missing parts of the hierarchy (see the module docstring). Raises ``KeyUndecryptable``."""
    organization = organization or settings.SIGNING_PKI_ORGANIZATION
    debug = settings.DEBUG
    dev_tsa = debug if dev_tsa is None else dev_tsa
    now = timezone.now()
    report = InitReport()
    where = endpoints()

    root = current(CertificateKind.ROOT)
    if root is None:
        key = keystore.generate_key()
        cert = profiles.root_certificate(
            key=key, common_name=_names(CertificateKind.ROOT, organization, debug), organization=organization, now=now
        )
        root = record_certificate(cert, kind=CertificateKind.ROOT, issuer=None, key=key)
        report.created.append(root)
    else:
        report.kept.append(root)
    root_held = Held.of(root)
    root_key = root_held.key()  # proves the passphrase before anything is issued under it

    issuing = current(CertificateKind.ISSUING, issuer=root)
    if issuing is None:
        key = keystore.generate_key()
        cert = profiles.issuing_certificate(
            key=key,
            root=root_held.certificate,
            root_key=root_key,
            common_name=_names(CertificateKind.ISSUING, organization, debug),
            organization=organization,
            now=now,
            endpoints=where,
        )
        issuing = record_certificate(cert, kind=CertificateKind.ISSUING, issuer=root, key=key)
        report.created.append(issuing)
    else:
        report.kept.append(issuing)
    issuing_held = Held.of(issuing)
    issuing_held.key()  # proves the passphrase for the issuing CA too

    if dev_tsa:
        # The TSA is certified by the root, not by the issuing CA of the signers: a validator years
        # later fetches a current CRL for the TSA's chain to judge the outermost document timestamp,
        # and a current CRL of the signers' CA would keep it from sliding back to the signing time
        # (ETSI EN 319 102-1 §5.6.2.1), where the short-lived event certificate was valid.
        tsa = current(CertificateKind.TSA, issuer=root)
        if tsa is None:
            key = keystore.generate_key()
            cert = profiles.tsa_certificate(
                public_key=key.public_key(),
                issuer=root_held.certificate,
                issuer_key=root_key,
                common_name=_names(CertificateKind.TSA, organization, debug),
                organization=organization,
                now=now,
                endpoints=where,
            )
            tsa = record_certificate(cert, kind=CertificateKind.TSA, issuer=root, key=key)
            report.created.append(tsa)
        else:
            Held.of(tsa).key()
            report.kept.append(tsa)

    crl_current(root_held)
    crl_current(issuing_held)
    for record in report.created:
        logger.info("pki_init: created %s %s", record.get_kind_display(), record.serial)
    return report
