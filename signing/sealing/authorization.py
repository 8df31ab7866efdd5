"""
Which seal authorisation (印章授权, SPEC §9) the employer's signature is made under.

``seal_authorization_for(application, at=...)`` reads the company's
authorisations (``contracts.SealAuthorisation``) and answers with a
``SealAuthorization`` value for the pipeline: the one in force at ``at``, or —
when none is — the latest one, whose refusal (expired, revoked, not yet in
force) the pipeline reports as a 409 before any key exists. A company that
never registered one is refused here.
"""

import datetime

from contracts.models import SealAuthorisation
from contracts.services import seal_authorisation_in_force

from .pipeline import SealAuthorization, SealAuthorizationInvalid


def _value(record: SealAuthorisation) -> SealAuthorization:
    return SealAuthorization(
        id=record.pk,
        label=record.label,
        valid_from=record.valid_from,
        valid_until=record.valid_until,
        revoked_at=record.revoked_at,
    )


def seal_authorization_for(application, *, at: datetime.datetime) -> SealAuthorization:
    record = seal_authorisation_in_force(company_id=application.company_id, at=at)
    if record is None:
        record = (
            SealAuthorisation.objects.filter(company_id=application.company_id).order_by("-valid_until", "-id").first()
        )
    if record is None:
        raise SealAuthorizationInvalid("用人单位尚未登记印章授权，无法自动盖章，请联系人事处理")
    return _value(record)
