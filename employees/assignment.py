"""
Who handles whom: the people a handler (人事专员) is assigned to. It scopes the resume and
real-name back office and who may decide a real-name check (``realname_decide``).

A handler is assigned to a person through a signing application (``SignApplication.ad_user``),
and ``signing`` stands a layer above this app, which must not import it. So the rule is handed
down: signing installs it when it starts (``SigningConfig.ready`` calls ``install``). Until a
rule is installed, a handler is assigned to nobody (the scope fails closed). Superusers see
everything regardless (``shanqian.roles.sees_everything``); that is the callers' check.

A rule (``AssignmentRule``) answers two questions:

* ``user_ids(staff)`` — the ids of the ``WechatUser`` rows the staff member handles, as a
  queryset used as a subquery (``filter(user_id__in=…)``), so a scoped list stays one query;
* ``applications(employee_id=…, staff=…)`` — that person's applications the staff member may
  see, newest first, as ``AssignedApplication`` rows for the resume page (one query).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

from django.db.models import QuerySet

from .models import WechatUser

if TYPE_CHECKING:
    from shanqian.models import AdminUser


@dataclass(frozen=True)
class AssignedApplication:
    """One application of a person, as the resume page lists it."""

    pk: int
    company: str
    work_pos: str
    handler: str
    status_badge: str  # safe HTML, as the owning app shows its statuses
    applied_at: datetime.datetime
    admin_url_name: str  # the URL name of its back-office page, reversed with ``args=[pk]``


class AssignmentRule(Protocol):
    def user_ids(self, staff: AdminUser) -> QuerySet: ...

    def applications(self, *, employee_id: int, staff: AdminUser) -> list[AssignedApplication]: ...


class NobodyAssigned:
    """The rule before one is installed: nobody is assigned to anyone."""

    def user_ids(self, staff: AdminUser) -> QuerySet:
        return WechatUser.objects.none().values("pk")

    def applications(self, *, employee_id: int, staff: AdminUser) -> list[AssignedApplication]:
        return []


_rule: AssignmentRule = NobodyAssigned()


def install(rule: AssignmentRule) -> None:
    global _rule
    _rule = rule


def handled_user_ids(staff: AdminUser) -> QuerySet:
    """A subquery of the ids of the mini-program users ``staff`` handles."""
    return _rule.user_ids(staff)


def handles_user(staff: AdminUser, user_id: int) -> bool:
    """Whether ``staff`` handles the mini-program user ``user_id`` (one query)."""
    return WechatUser.objects.filter(pk=user_id, pk__in=handled_user_ids(staff)).exists()


def applications_shown_to(staff: AdminUser, *, employee_id: int) -> list[AssignedApplication]:
    return _rule.applications(employee_id=employee_id, staff=staff)
