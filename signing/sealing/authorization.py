"""
Which seal authorisation (印章授权) the employer's signature is made under.

``seal_authorization_for(application, at=...)`` answers with a
``SealAuthorization`` value for the pipeline. The contracts app's own
authorisation records (issue 11) are read here once they exist; until then the
authorisation is the company certificate the platform holds for the company
(issued in the back office, which is the act that entrusts the seal to the
platform), valid for the certificate's validity. A company without a usable
certificate is refused by ``company_certificate_current`` (409, in Chinese).
"""

import datetime

from ..pki.credentials import company_certificate_current
from .pipeline import SealAuthorization


def seal_authorization_for(application, *, at: datetime.datetime) -> SealAuthorization:
    certificate = company_certificate_current(application.company)
    return SealAuthorization(
        id=0,
        label=f"单位证书托管授权（证书序列号 {certificate.serial}）",
        valid_from=certificate.not_before,
        valid_until=certificate.not_after,
        revoked_at=certificate.revoked_at,
    )
