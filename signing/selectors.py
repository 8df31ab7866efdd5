"""
Reads of signing applications. "Latest" means newest ``apply_time`` (then
highest id), the order of ``SignApplication.Meta.ordering`` and of the
``sign_apply_em_latest`` index.

* ``application_latest_of_user`` — the user's latest application (with the
  rows the signing endpoints show), or None.
* ``application_history`` — the user's applications newest first with their
  events prefetched: a constant number of queries per page.
* ``signed_document_of_user`` — the sealed PDF of the user's signed application.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import Prefetch, QuerySet

from .models import SignApplication, SignedDocument, SignEvent

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
    in one query; ``status`` null and strings empty when there is no application.
    """
    latest = (
        SignApplication.objects.filter(em__user_id=user.pk)
        .order_by(*LATEST)
        .values("status", "reason", "company__company_name")
        .first()
    )
    return {
        "reason": (latest or {}).get("reason") or "",
        "company_name": (latest or {}).get("company__company_name") or "",
        "status": latest["status"] if latest else None,
        "verify_status": user.verify_status,
    }


def application_latest_of_user(*, user: WechatUser) -> SignApplication | None:
    """The user's latest application with its employee, company and contract (one query)."""
    return (
        SignApplication.objects.filter(em__user_id=user.pk)
        .select_related("em", "company", "contract")
        .order_by(*LATEST)
        .first()
    )


def application_history(*, user: WechatUser) -> QuerySet[SignApplication]:
    """
    The user's applications newest first, each with ``events`` in time order
    (actor staff joined): one query for the page and one for all its events.
    """
    events = SignEvent.objects.select_related("actor_staff").order_by("created_at", "id")
    return (
        SignApplication.objects.filter(em__user_id=user.pk)
        .select_related("company", "contract")
        .prefetch_related(Prefetch("events", queryset=events))
        .order_by(*LATEST)
    )


def signed_document_of_user(*, user: WechatUser) -> SignedDocument | None:
    """The newest sealed document of the user's applications (a user signs at most one: status 3 is final)."""
    return (
        SignedDocument.objects.filter(application__em__user_id=user.pk)
        .select_related("application")
        .order_by("-created_at", "-id")
        .first()
    )
