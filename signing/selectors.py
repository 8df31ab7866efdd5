"""
Reads of signing applications. "Latest" means newest ``apply_time`` (then
highest id), the order of ``SignApplication.Meta.ordering`` and of the
``sign_apply_em_latest`` index.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from .models import SignApplication

if TYPE_CHECKING:
    from employees.models import WechatUser

LATEST = ("-apply_time", "-id")


def application_latest(*, employee_id: int, lock: bool = False) -> SignApplication | None:
    """The employee's latest application; ``lock=True`` takes a row lock (inside a transaction)."""
    queryset = SignApplication.objects.filter(em_id=employee_id).order_by(*LATEST)
    if lock:
        queryset = queryset.select_for_update()
    return queryset.first()


def em_status(*, user: WechatUser) -> dict:
    """
    ``GET /api/em_status``: the user's latest application and real-name status
    in one query (two without an application); ``status`` null and strings empty
    when there is no application.
    """
    latest = (
        SignApplication.objects.filter(em__user_id=user.pk)
        .order_by(*LATEST)
        .values("status", "reason", "company__company_name", "em__user__verify_status")
        .first()
    )
    return {
        "reason": (latest or {}).get("reason") or "",
        "company_name": (latest or {}).get("company__company_name") or "",
        "status": latest["status"] if latest else None,
        # Read in the same query; without an application, from the user row.
        "verify_status": latest["em__user__verify_status"] if latest else user.verify_status,
    }
