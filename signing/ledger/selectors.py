"""
Reads of the contract ledger.

* ``contracts_of_user(user=…)`` — ``GET /api/contracts``: the worker's records newest first, with
  company, signed document and the renewal chain joined (one query per page).
* ``contracts_visible_to(staff=…)`` — the back office's scope: everything for a superuser, the
  records of the handler's own applications (``ad_user``) for everybody else.
* ``ending_within(queryset, days=…, today=…)`` — open fixed terms ending in the next ``days`` days.
* The start page's figures, each **one query** over what the staff member may see:
  ``applications_per_day``, ``application_funnel``, ``contracts_ending``, ``art82_risk``.
* ``retention_report(today=…)`` — how many records become deletable in which year (one query).
* ``retained_employee_ids()`` — the people whose personal data a contract still needs (a
  queryset of ids, for a purge's ``exclude``).
"""

from __future__ import annotations

import datetime
from typing import TYPE_CHECKING

from django.conf import settings
from django.db.models import Count, Q, QuerySet, Window
from django.db.models.functions import Coalesce, ExtractYear, TruncDate
from django.utils import timezone

from shanqian.roles import sees_everything

from ..models import SignApplication, SignStatus
from .models import ContractStatus, EmploymentContract, TermType

if TYPE_CHECKING:
    from employees.models import WechatUser
    from shanqian.models import AdminUser

ENDING_BUCKETS = (30, 60, 90)
ART82_GRACE_DAYS = 30  # art. 82: more than one month of work without a written contract
CHART_DAYS = 30
RISK_LIST_LENGTH = 10


def contracts_of_user(*, user: WechatUser) -> QuerySet[EmploymentContract]:
    return (
        EmploymentContract.objects.filter(employee__user_id=user.pk)
        .select_related("company", "document", "previous")
        .order_by("-start_date", "-id")
    )


def contracts_visible_to(*, staff: AdminUser, queryset: QuerySet | None = None) -> QuerySet[EmploymentContract]:
    queryset = EmploymentContract.objects.all() if queryset is None else queryset
    if sees_everything(staff):
        return queryset
    return queryset.filter(ad_user_id=staff.pk)


def ending_within(queryset: QuerySet, *, days: int, today: datetime.date | None = None) -> QuerySet:
    """Records still in force whose fixed term ends today or within ``days`` days."""
    today = today or timezone.localdate()
    return queryset.filter(
        status=ContractStatus.ACTIVE,
        end_date__gte=today,
        end_date__lte=today + datetime.timedelta(days=days),
    )


# --- the start page's figures -----------------------------------------------------------------------


def _applications(staff: AdminUser) -> QuerySet[SignApplication]:
    queryset = SignApplication.objects.all()
    return queryset if sees_everything(staff) else queryset.filter(ad_user_id=staff.pk)


def chart_window(today: datetime.date | None = None) -> tuple[datetime.date, datetime.datetime]:
    """The first day of the last ``CHART_DAYS`` days (today included) and its local midnight."""
    today = today or timezone.localdate()
    first = today - datetime.timedelta(days=CHART_DAYS - 1)
    start = timezone.make_aware(datetime.datetime.combine(first, datetime.time.min))
    return first, start


def applications_per_day(*, staff: AdminUser, today: datetime.date | None = None) -> list[tuple[datetime.date, int]]:
    """``[(day, applications)]`` for each of the last 30 days, oldest first, zeros included. One query."""
    first, start = chart_window(today)
    rows = (
        _applications(staff)
        .filter(apply_time__gte=start)
        .annotate(day=TruncDate("apply_time", tzinfo=timezone.get_current_timezone()))
        .order_by()
        .values("day")
        .annotate(n=Count("*"))  # count(*): answered from the index alone (sign_apply_time_funnel)
    )
    counts = {row["day"]: row["n"] for row in rows}
    return [(day, counts.get(day, 0)) for day in (first + datetime.timedelta(days=i) for i in range(CHART_DAYS))]


def application_funnel(*, staff: AdminUser, today: datetime.date | None = None) -> dict[str, int]:
    """
    The last 30 days' applications: all (申请), approved (reached 待签约: a contract was chosen),
    signed (已签约), and the ones that left (驳回, 取消). One query.
    """
    _, start = chart_window(today)
    return (
        _applications(staff)
        .filter(apply_time__gte=start)
        .aggregate(
            # Counted over the columns of (apply_time, status, contract): an index-only scan of the window.
            applied=Count("status"),
            approved=Count(
                "status", filter=Q(contract__isnull=False) | Q(status__in=(SignStatus.AWAITING_SIGNATURE, 3))
            ),
            signed=Count("status", filter=Q(status=SignStatus.SIGNED)),
            rejected=Count("status", filter=Q(status=SignStatus.REJECTED)),
            cancelled=Count("status", filter=Q(status=SignStatus.CANCELLED)),
        )
    )


def contracts_ending(*, staff: AdminUser, today: datetime.date | None = None) -> dict[int, int]:
    """``{30: n, 60: n, 90: n}``: records in force ending within that many days (cumulative). One query."""
    today = today or timezone.localdate()
    horizon = today + datetime.timedelta(days=max(ENDING_BUCKETS))
    queryset = contracts_visible_to(staff=staff).filter(
        status=ContractStatus.ACTIVE, end_date__gte=today, end_date__lte=horizon
    )
    # Counted over (status, end_date) — or (ad_user, status, end_date) — alone: an index-only scan.
    row = queryset.aggregate(
        **{
            f"d{days}": Count("end_date", filter=Q(end_date__lte=today + datetime.timedelta(days=days)))
            for days in ENDING_BUCKETS
        }
    )
    return {days: row[f"d{days}"] for days in ENDING_BUCKETS}


def art82_cutoff(today: datetime.date | None = None) -> datetime.date:
    """Entry dates before this day are more than a month past."""
    return (today or timezone.localdate()) - datetime.timedelta(days=ART82_GRACE_DAYS)


def art82_risk(*, staff: AdminUser, today: datetime.date | None = None) -> tuple[list[dict], int]:
    """
    People at art. 82 risk: approved (待签约) with an entry date more than 30 days past and still no
    signed contract. ``(the longest-waiting RISK_LIST_LENGTH rows, how many in all)``, one query
    (the total rides along as a window count).
    """
    rows = list(
        _applications(staff)
        .filter(status=SignStatus.AWAITING_SIGNATURE, entry_date__lt=art82_cutoff(today))
        .order_by("entry_date", "id")
        .annotate(total=Window(Count("id")))
        .values("id", "em__real_name", "company__company_name", "entry_date", "total")[:RISK_LIST_LENGTH]
    )
    return rows, (rows[0]["total"] if rows else 0)


# --- retention ------------------------------------------------------------------------------------------


def retention_years() -> int:
    return max(2, int(settings.CONTRACT_RETENTION_YEARS))


def add_years(day: datetime.date, years: int) -> datetime.date:
    try:
        return day.replace(year=day.year + years)
    except ValueError:  # 29 February
        return day.replace(year=day.year + years, day=28)


def ended_on_of(contract: EmploymentContract) -> datetime.date | None:
    """The day a record stopped being in force: its ending, else the end of a term that ran out."""
    if contract.ended_on is not None:
        return contract.ended_on
    if contract.status == ContractStatus.ACTIVE:
        return None
    return contract.end_date


def retained_until(contract: EmploymentContract) -> datetime.date | None:
    """The first day the record's files may be deleted; None while it is in force (kept)."""
    ended = ended_on_of(contract)
    return add_years(ended, retention_years()) if ended is not None else None


def _retention_end_expression():
    # The effective end: the ending if recorded, else the term's end for a record no longer active.

    return Coalesce("ended_on", "end_date")


def retained_contracts(*, today: datetime.date | None = None) -> QuerySet[EmploymentContract]:
    """Records whose files, evidence and personal data must still be kept on ``today``."""
    today = today or timezone.localdate()
    cutoff = add_years(today, -retention_years())
    return EmploymentContract.objects.alias(effective_end=_retention_end_expression()).filter(
        Q(status=ContractStatus.ACTIVE) | Q(effective_end__isnull=True) | Q(effective_end__gt=cutoff)
    )


def deletable_contracts(*, today: datetime.date | None = None) -> QuerySet[EmploymentContract]:
    """Records past their retention on ``today`` (never one still in force)."""
    today = today or timezone.localdate()
    cutoff = add_years(today, -retention_years())
    return (
        EmploymentContract.objects.exclude(status=ContractStatus.ACTIVE)
        .alias(effective_end=_retention_end_expression())
        .filter(effective_end__isnull=False, effective_end__lte=cutoff)
    )


def retained_employee_ids(*, today: datetime.date | None = None) -> QuerySet:
    """The employees a retained record still needs (for ``exclude(pk__in=…)`` in a purge)."""
    return retained_contracts(today=today).values("employee_id")


def retention_report(*, staff: AdminUser, today: datetime.date | None = None) -> dict:
    """
    What becomes deletable when: ``{"years", "in_force", "deletable_now", "by_year": [(year, n)]}`` —
    records in force (kept as long as they are), records already past retention, and for the
    others the calendar year their retention runs out. One query.
    """
    today = today or timezone.localdate()
    years = retention_years()
    cutoff = add_years(today, -years)
    closed = ~Q(status=ContractStatus.ACTIVE) & Q(effective_end__isnull=False)
    rows = (
        contracts_visible_to(staff=staff)
        .alias(effective_end=_retention_end_expression())
        .annotate(until_year=ExtractYear("effective_end") + years)
        .order_by()
        .values("until_year")
        .annotate(
            kept=Count("id", filter=~closed),
            closed=Count("id", filter=closed),
            now=Count("id", filter=closed & Q(effective_end__lte=cutoff)),
        )
    )
    in_force = deletable_now = 0
    by_year: dict[int, int] = {}
    for row in rows:
        in_force += row["kept"]
        deletable_now += row["now"]
        later = row["closed"] - row["now"]
        if later:
            by_year[row["until_year"]] = by_year.get(row["until_year"], 0) + later
    return {"years": years, "in_force": in_force, "deletable_now": deletable_now, "by_year": sorted(by_year.items())}


# --- art. 14 ------------------------------------------------------------------------------------------

ART14_SERVICE_YEARS = 10


def art14_reason(contract: EmploymentContract, *, new_start: datetime.date | None = None) -> str:
    """
    Why art. 14 applies to renewing ``contract`` — the worker has had two consecutive fixed-term
    contracts with this employer, or ten years' continuous service — or "" when it does not. The
    chain is the record and the ones it renews (``previous``), as the ledger knows them. One query.
    """
    rows = {
        row["pk"]: row
        for row in EmploymentContract.objects.filter(
            employee_id=contract.employee_id, company_id=contract.company_id
        ).values("pk", "previous_id", "term_type", "start_date")
    }
    chain, pk = [], contract.pk
    while pk in rows and len(chain) < len(rows):
        chain.append(rows[pk])
        pk = rows[pk]["previous_id"]
    fixed = 0
    for row in chain:
        if row["term_type"] != TermType.FIXED:
            break
        fixed += 1
    if fixed >= 2:
        return f"劳动者已与本单位连续订立 {fixed} 次固定期限劳动合同"
    first = min((row["start_date"] for row in chain), default=None)
    if first is not None and add_years(first, ART14_SERVICE_YEARS) <= (new_start or timezone.localdate()):
        return f"劳动者自 {first:%Y-%m-%d} 起在本单位连续工作已满十年"
    return ""
