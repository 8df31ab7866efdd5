"""
Company certificates (单位证书): issued per company through the CA backend,
revoked from the back office, superseded when re-issued.

``company_certificate_issue`` issues a new certificate for the company (its
particulars read from the company: name, and the unified social credit code
when the company has one) and, in the same transaction, revokes the previous
current one as *superseded* — a company seals with one certificate at a time.
"""

from django.db import transaction

from .backends import get_ca_backend
from .crl import certificate_revoke
from .models import CertificateKind, PkiCertificate, RevocationReason


@transaction.atomic
def company_certificate_issue(*, company, credit_code: str | None = None, seal_name: str = "", actor=None):
    if credit_code is None:
        credit_code = getattr(company, "credit_code", "") or ""
    previous = list(
        PkiCertificate.objects.select_for_update().filter(
            kind=CertificateKind.COMPANY, company=company, revoked_at__isnull=True
        )
    )
    record = get_ca_backend().issue_company_certificate(
        company=company, credit_code=credit_code, seal_name=seal_name, actor=actor
    )
    for old in previous:
        certificate_revoke(certificate=old, reason=RevocationReason.SUPERSEDED, note="已签发新的单位证书", actor=actor)
    return record
