"""
Domain errors of the signing state machine.

They subclass the API's error classes (``shanqian.errors``), so a view just
lets them propagate (409/40900 or 403/40300 in the envelope) and the admin
catches them and shows ``msg`` as an error message.
"""

from shanqian.errors import Conflict, Forbidden


class TransitionNotAllowed(Conflict):
    """The application's current status does not allow the requested move (409/40900)."""


class RealnameRequired(Conflict):
    """Signing needs a verified real name first (setting ``SIGN_REQUIRE_REALNAME``)."""


class NotYourApplication(Forbidden):
    """The actor may not act on this application: another user's, or another handler's (403/40300)."""


class ContractNotViewed(Conflict):
    """The employee has not opened this contract file (GET /api/sign/contract) before signing it (409/40900)."""
