"""How a signing application's status looks in the back office: a badge whose tone follows the status."""

from shanqian.admin_tools import status_badge

from .models import SignApplication, SignStatus

STATUS_TONES = {
    SignStatus.APPLIED: "waiting",
    SignStatus.AWAITING_SIGNATURE: "active",
    SignStatus.SIGNED: "done",
    SignStatus.REJECTED: "refused",
    SignStatus.CANCELLED: "closed",
}


def application_badge(application: SignApplication):
    return status_badge(
        application.get_status_display(),
        tone=STATUS_TONES.get(application.status, "closed"),
        css_class=f"sq-status-{application.status}",
    )
