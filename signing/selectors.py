"""
Reads of signing applications. "Latest" means newest ``apply_time`` (then
highest id), the order of ``SignApplication.Meta.ordering`` and of the
``sign_apply_em_latest`` index.

* ``application_latest_of_user`` — the user's latest application (with the
  rows the signing endpoints show), or None.
* ``application_history`` — the user's applications newest first with their
  events prefetched: a constant number of queries per page.
* ``signed_document_of_user`` — the sealed PDF of the user's signed application.
* ``resume_of_user`` — ``GET /api/employee``: the resume (``employees.selectors``)
  with the picks of the latest application (company, position, handler).

Back office:

* ``applications_visible_to(staff=…)`` — the applications a staff account may
  see: all for a superuser, the ones assigned to them (``ad_user``) otherwise.
  Every admin list, object view, action and export starts from it.
* ``WORK_QUEUE_ORDERING`` — the back office's default order: the work that
  waits first (1 签约申请, then 2 待签约, oldest first within each), then the
  finished ones newest first.
* ``application_dashboard(staff=…)`` — counts by status, today and overall, in
  one aggregate query.
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.db.models import Case, F, IntegerField, OuterRef, Prefetch, QuerySet, Subquery, Value, When
from django.utils import timezone

from employees.selectors import employee_resume
from shanqian.models import AdminUser
from shanqian.paginators import COUNT_CAP, capped_counts
from shanqian.roles import sees_everything

from .models import SignApplication, SignedDocument, SignEvent, SignStatus

if TYPE_CHECKING:
    from employees.models import WechatUser

LATEST = ("-apply_time", "-id")

_WAITING = (SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE)
WORK_QUEUE_ORDERING = (
    Case(
        When(status=SignStatus.APPLIED, then=Value(0)),
        When(status=SignStatus.AWAITING_SIGNATURE, then=Value(1)),
        default=Value(2),
        output_field=IntegerField(),
    ).asc(),
    # Waiting rows oldest first; for the rest this is NULL for every row, so the next key decides.
    Case(When(status__in=_WAITING, then=F("apply_time")), default=None).asc(nulls_last=True),
    F("apply_time").desc(),
    F("id").desc(),
)


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
    """
    The newest sealed document of the user's applications (a user signs at most one: status 3 is
    final), with ``signed_at``: the time of the SIGNED audit event, as printed on the certificate.
    """
    signed_event = SignEvent.objects.filter(
        application_id=OuterRef("application_id"), to_status=SignStatus.SIGNED
    ).order_by("-created_at")
    return (
        SignedDocument.objects.filter(application__em__user_id=user.pk)
        .select_related("application")
        .annotate(signed_at=Subquery(signed_event.values("created_at")[:1]))
        .order_by("-created_at", "-id")
        .first()
    )


def resume_of_user(*, user: WechatUser, request=None) -> dict | None:
    """
    The resume in ``ResumeOutSerializer``'s shape, or None without one: the employee's own part,
    then the latest application's company, position and handler (one query, names included).
    """
    resume = employee_resume(user=user, request=request)
    if resume is None:
        return None
    application = (
        SignApplication.objects.filter(em_id=resume["id"])
        .order_by(*LATEST)
        .values(
            "company_id",
            "company__company_name",
            "work_pos",
            "ad_user_id",
            "ad_user__name",
            "ad_user__first_name",
            "ad_user__last_name",
            "ad_user__username",
        )
        .first()
    )
    if application:
        handler = AdminUser(
            name=application["ad_user__name"],
            first_name=application["ad_user__first_name"],
            last_name=application["ad_user__last_name"],
            username=application["ad_user__username"],
        )
        picks = {
            "company_id": application["company_id"],
            "company": {"id": application["company_id"], "company_name": application["company__company_name"]},
            "work_pos": application["work_pos"],
            "ad_user_id": application["ad_user_id"],
            "ad_user": {"id": application["ad_user_id"], "name": handler.display_name},
        }
    else:
        picks = {"company_id": None, "company": None, "work_pos": "", "ad_user_id": None, "ad_user": None}
    # The picks sit before the row arrays, where the documented shape has them.
    rows = {key: resume.pop(key) for key in ("employee_edu", "work_exp")}
    resume.update(picks, **rows)
    return resume


# --- back office -------------------------------------------------------------------------------------


def applications_visible_to(*, staff: AdminUser, queryset: QuerySet | None = None) -> QuerySet:
    """The applications ``staff`` may see and act on (before ``staff_may_act``'s per-row check)."""
    queryset = SignApplication.objects.all() if queryset is None else queryset
    if sees_everything(staff):
        return queryset
    return queryset.filter(ad_user_id=staff.pk)


def today_range(now: datetime.datetime | None = None) -> tuple[datetime.datetime, datetime.datetime]:
    """[start, end) of the current day in the configured time zone (aware datetimes)."""
    now = timezone.localtime(now)
    start = now.replace(hour=0, minute=0, second=0, microsecond=0)
    return start, start + datetime.timedelta(days=1)


def application_dashboard(*, staff: AdminUser, now: datetime.datetime | None = None) -> dict:
    """
    ``{"today": {status: n}, "total": {status: n}, "today_all": n, "total_all": n,
    "capped": {status, …}, "today_capped": {…}, "today_range": (start, end)}`` for every ``SignStatus`` over the
    applications ``staff`` may see; "today" means applied today. One query, of bounded cost: each
    figure is counted up to ``shanqian.paginators.COUNT_CAP`` through the (status, apply_time)
    indexes (a status in ``capped`` has at least that many; the page shows "100000+").
    """
    start, end = today_range(now)
    visible = applications_visible_to(staff=staff)
    figures = {}
    for status in SignStatus:
        figures[f"total_{status.value}"] = visible.filter(status=status)
        figures[f"today_{status.value}"] = visible.filter(status=status, apply_time__gte=start, apply_time__lt=end)
    row = capped_counts(figures, cap=COUNT_CAP)
    totals = {status.value: row[f"total_{status.value}"] for status in SignStatus}
    todays = {status.value: row[f"today_{status.value}"] for status in SignStatus}
    return {
        "today": todays,
        "total": totals,
        "today_all": sum(todays.values()),
        "total_all": sum(totals.values()),
        "capped": {status for status, n in totals.items() if n >= COUNT_CAP},
        "today_capped": {status for status, n in todays.items() if n >= COUNT_CAP},
        "today_range": (start, end),
    }
