"""
Whose personal data must be kept because a labour contract still needs it (SPEC §12, §13).

A signed contract's files and evidence, and the resume, uploads and verification they rest on,
stay at least ``CONTRACT_RETENTION_YEARS`` after the contract ended (劳动合同法 art. 50). Only
``signing`` knows the contracts, and it stands above this app, so the rule is handed down:
``SigningConfig.ready`` calls ``install(rule)`` with a function returning the ids of the
employees still needed, as a queryset usable as a subquery. Every purge of people's data goes
through ``exclude_retained(queryset, field=…)`` before it deletes anything.

Until a rule is installed the purge fails closed: ``exclude_retained`` keeps every employee that
has any application at all (nothing is known about their contracts).

``anonymous_employee_ids(platform_ids)`` gives each platform's anonymous applicant, the resume that
purged applicants' applications point at once their own is gone (``signing.privacy.retention``).
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

from .models import Employee, WechatUser

_rule: Callable[[], QuerySet] | None = None


def install(rule: Callable[[], QuerySet]) -> None:
    global _rule
    _rule = rule


def retained_employee_ids() -> QuerySet:
    """The ids of employees whose data a contract still needs (a subquery)."""
    if _rule is None:
        return Employee.objects.filter(applications__isnull=False).values("pk")
    return _rule()


def exclude_retained(queryset: QuerySet, *, field: str = "pk") -> QuerySet:
    """``queryset`` without the rows of retained employees; ``field`` leads from a row to the employee id."""
    return queryset.exclude(**{f"{field}__in": retained_employee_ids()})


# --- the anonymous applicant ------------------------------------------------------------------------------

# An application kept for the statistics after its applicant was purged points at its platform's
# anonymous applicant (GitHub's "ghost" account): the row keeps its company, handler, status and
# dates, and nothing leads back to the person. WeChat openids are [A-Za-z0-9_-] and the development
# backend's start with "fake-", so no login ever reaches this account.
ANONYMOUS_OPENID = "~deleted"
ANONYMOUS_NAME = "（已删除）"


def anonymous_employee_ids(platform_ids) -> dict[int, int]:
    """``{platform id: id of its anonymous applicant}``, created on first use. One query once they exist."""
    platform_ids = set(platform_ids)
    found = dict(
        Employee.objects.filter(user__platform_id__in=platform_ids, user__openid=ANONYMOUS_OPENID).values_list(
            "user__platform_id", "pk"
        )
    )
    for platform_id in platform_ids - found.keys():
        user, _ = WechatUser.objects.get_or_create(platform_id=platform_id, openid=ANONYMOUS_OPENID)
        employee, _ = Employee.objects.get_or_create(
            user=user,
            defaults={
                "real_name": ANONYMOUS_NAME,
                "phone": "",
                "id_number": "",
                "marital_sts": 0,
                "political_sts": 0,
                "acct_type": 0,
            },
        )
        found[platform_id] = employee.pk
    return found


def without_anonymous(queryset: QuerySet, *, field: str = "user") -> QuerySet:
    """``queryset`` without the anonymous applicants; ``field`` leads from a row to the WeChat user."""
    return queryset.exclude(**{f"{field}__openid": ANONYMOUS_OPENID})
