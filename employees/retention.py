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
"""

from __future__ import annotations

from collections.abc import Callable

from django.db.models import QuerySet

_rule: Callable[[], QuerySet] | None = None


def install(rule: Callable[[], QuerySet]) -> None:
    global _rule
    _rule = rule


def retained_employee_ids() -> QuerySet:
    """The ids of employees whose data a contract still needs (a subquery)."""
    if _rule is None:
        from .models import Employee

        return Employee.objects.filter(applications__isnull=False).values("pk")
    return _rule()


def exclude_retained(queryset: QuerySet, *, field: str = "pk") -> QuerySet:
    """``queryset`` without the rows of retained employees; ``field`` leads from a row to the employee id."""
    return queryset.exclude(**{f"{field}__in": retained_employee_ids()})
