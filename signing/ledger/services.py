"""
Every write of the contract ledger (SPEC §12). Keyword-only, atomic; side effects (notices through
the outbox, ``signing.notifications.services``) are written in the same transaction as the change.

* ``contract_open(application=…, …)`` — the record of a signed application, with the terms copied
  at signing; a renewal's signing also closes the record it renews (已续签).
* ``contracts_expire(today=…)`` — records in force whose fixed term ended before ``today`` → 已到期.
* ``reminders_send(today=…)`` — the daily reminders: a term ending within
  ``CONTRACT_EXPIRY_NOTICE_DAYS`` → the handler and the worker; a probation ending within
  ``CONTRACT_PROBATION_NOTICE_DAYS`` → the handler. Each once per contract and threshold (a
  ``ContractReminder`` row, unique), in batches of locked rows so two runs at once never send one
  twice, and never more than a batch in memory.
* ``ledger_daily(today=…)`` — both, in that order (the Celery beat task).
"""

from __future__ import annotations

import datetime
import logging
from dataclasses import dataclass

from django.conf import settings
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, F, OuterRef
from django.utils import timezone

from contracts.terms import default_term_type, term_end
from shanqian.errors import Conflict

from ..models import SignApplication, SignedDocument
from ..notifications import services as notify
from .models import ContractReminder, ContractStatus, EmploymentContract, TermType

logger = logging.getLogger("shanqian.signing.ledger")

REMINDER_BATCH = 500


class ContractClosed(Conflict):
    """The record is no longer in force (已续签 / 已终止 / 已解除): it cannot be renewed or ended again."""


def _terms_of(application: SignApplication) -> dict:
    """The terms 审核通过 stored on the application (``contracts.terms``), as the record keeps them."""
    term_type = application.term_type
    end_date = application.end_date
    if not term_type:
        # Approved before the terms were asked (or a template-only approval): the template decides.
        sign_year = application.contract.sign_year if application.contract_id else 0
        term_type = default_term_type(sign_year)
        end_date = term_end(application.entry_date, sign_year) if application.entry_date else None
    return {
        "term_type": term_type,
        "start_date": application.entry_date or timezone.localdate(),
        "end_date": end_date if term_type != TermType.OPEN_ENDED else None,
        "probation_months": application.probation_months,
        "probation_end": application.probation_end,
        "work_pos": application.work_pos,
        "work_location": application.work_location,
        "working_hours": application.working_hours,
        "salary": application.salary,
    }


def contract_open(*, application: SignApplication) -> EmploymentContract:
    """
    The record of ``application``, just signed (call it inside the signing transaction, after the
    sealed document was stored): the terms copied from the application, its sealed document (none
    for an offline signature). When the application renews a record, that record becomes 已续签
    and the new one names it ``previous``.
    """
    application = SignApplication.objects.select_related("contract").get(pk=application.pk)
    previous = EmploymentContract.objects.select_for_update().filter(renewal_application_id=application.pk).first()
    record = EmploymentContract.objects.create(
        application=application,
        employee_id=application.em_id,
        company_id=application.company_id,
        ad_user_id=application.ad_user_id,
        document=SignedDocument.objects.filter(application_id=application.pk).first(),
        previous=previous,
        **_terms_of(application),
    )
    if previous is not None:
        previous.status = ContractStatus.RENEWED
        previous.renewal_application = None
        if previous.ended_on is None:
            previous.ended_on = min(
                previous.end_date or record.start_date, record.start_date - datetime.timedelta(days=1)
            )
        previous.save(update_fields=["status", "renewal_application", "ended_on", "updated_at"])
    return record


# --- the daily runs ---------------------------------------------------------------------------------------


def contracts_expire(*, today: datetime.date | None = None) -> int:
    """Records in force whose fixed term ended before ``today`` → 已到期 (one UPDATE)."""
    today = today or timezone.localdate()
    return EmploymentContract.objects.filter(status=ContractStatus.ACTIVE, end_date__lt=today).update(
        status=ContractStatus.EXPIRED, updated_at=timezone.now()
    )


@dataclass(frozen=True)
class _Plan:
    kind: str
    days: int
    field: str


def _plans() -> list[_Plan]:
    return [
        _Plan(ContractReminder.Kind.EXPIRY, int(settings.CONTRACT_EXPIRY_NOTICE_DAYS), "end_date"),
        _Plan(ContractReminder.Kind.PROBATION, int(settings.CONTRACT_PROBATION_NOTICE_DAYS), "probation_end"),
    ]


def _due(plan: _Plan, today: datetime.date):
    sent = ContractReminder.objects.filter(contract_id=OuterRef("pk"), kind=plan.kind, days=plan.days)
    return (
        EmploymentContract.objects.filter(
            status=ContractStatus.ACTIVE,
            **{f"{plan.field}__gte": today, f"{plan.field}__lte": today + datetime.timedelta(days=plan.days)},
        )
        .exclude(Exists(sent))
        .order_by("pk")
    )


def _notify(plan: _Plan, row: dict) -> None:
    application = SignApplication(pk=row["application_id"])
    if plan.kind == ContractReminder.Kind.EXPIRY:
        notify.contract_expiring(application=application, end_date=row["due"])
    else:
        notify.probation_ending(application=application, probation_end=row["due"])


def _send_batch(plan: _Plan, today: datetime.date, after: int, batch: int) -> tuple[int, int | None]:
    """One locked batch: (reminders sent, the last id seen, None when there is nothing left)."""
    with transaction.atomic():
        queryset = _due(plan, today).filter(pk__gt=after)
        if connection.features.has_select_for_update_skip_locked:
            # Another run holding a row sends it; this one goes on with the rest.
            queryset = queryset.select_for_update(skip_locked=True)
        rows = list(queryset.values("pk", "application_id", due=F(plan.field))[:batch])
        if not rows:
            return 0, None
        for row in rows:
            _notify(plan, row)
        ContractReminder.objects.bulk_create(
            [
                ContractReminder(contract_id=row["pk"], kind=plan.kind, days=plan.days, due_date=row["due"])
                for row in rows
            ]
        )
    return len(rows), rows[-1]["pk"]


def reminders_send(*, today: datetime.date | None = None, batch: int = REMINDER_BATCH) -> dict[str, int]:
    """The day's reminders (see the module docstring): ``{kind: sent}``."""
    today = today or timezone.localdate()
    counts: dict[str, int] = {}
    for plan in _plans():
        sent, after, clashes = 0, 0, 0
        while after is not None:
            try:
                n, after = _send_batch(plan, today, after, batch)
            except IntegrityError:
                clashes += 1
                if clashes > 3:
                    raise
                # A run without row locks (SQLite) sent some of these first: all of this batch
                # rolled back, outbox rows included; read it again without them.
                continue
            sent += n
        counts[plan.kind] = sent
    logger.info("ledger reminders %s: %s", today.isoformat(), counts)
    return counts


def ledger_daily(*, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    expired = contracts_expire(today=today)
    return {"expired": expired, **reminders_send(today=today)}
