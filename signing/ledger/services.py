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
  twice, and never more than a batch in memory. A batch costs a constant number of queries (its
  notices are read and written together, ``notify.contracts_expiring_many``) and one queued task.
* ``ledger_daily(today=…)`` — both, in that order (the Celery beat task).
* ``contract_end(contract=…, staff=…, ground=…, ended_on=…, note=…)`` — 终止/解除 with the proof of
  ending (art. 50). Renewal is the state machine's ``application_renew`` (a new application).
"""

from __future__ import annotations

import datetime
import hashlib
import logging
import uuid
from dataclasses import dataclass

from django.conf import settings
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.db import IntegrityError, connection, transaction
from django.db.models import F, OuterRef, Q, Subquery, Value
from django.db.models.functions import Coalesce
from django.utils import timezone

from contracts.terms import default_term_type, term_end
from shanqian.errors import Conflict, InvalidInput, NotFound
from shanqian.text import clean_text

from ..errors import NotYourApplication, TransitionNotAllowed
from ..models import SignApplication, SignedDocument, SignStatus
from ..notifications import services as notify
from . import proof
from .models import (
    OPEN_CONTRACT_STATUSES,
    TERMINATING_GROUNDS,
    ContractReminder,
    ContractStatus,
    EmploymentContract,
    EndGround,
    TermType,
)
from .proof import ProofFacts

logger = logging.getLogger("shanqian.signing.ledger")

REMINDER_BATCH = 1000


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


def _due(plan: _Plan, today: datetime.date, after: tuple | None = None):
    """
    The records due for ``plan`` on ``today`` not yet reminded, in (due date, id) order — the order
    of the (status, due date, id) index — starting after the ``(due date, id)`` cursor ``after``:
    each batch reads only its own rows from the index, however large the table.
    """
    sent = ContractReminder.objects.filter(contract_id=OuterRef("pk"), kind=plan.kind, days=plan.days)
    start = today
    if after is not None:
        start = max(today, after[0])
    queryset = EmploymentContract.objects.filter(
        status=ContractStatus.ACTIVE,
        **{f"{plan.field}__gte": start, f"{plan.field}__lte": today + datetime.timedelta(days=plan.days)},
    )
    if after is not None:
        queryset = queryset.filter(Q(**{f"{plan.field}__gt": after[0]}) | Q(pk__gt=after[1]))
    # "Not reminded yet" as a scalar subquery, not NOT EXISTS: PostgreSQL cannot turn a LIMIT
    # subquery into an anti join, so each candidate is one probe of the reminders' unique index.
    # As an anti join the plan followed the statistics — a reminders table analyzed small (a fresh
    # one, or one that grew during the run) became a nested loop re-reading every reminder sent so
    # far for each candidate: quadratic, 2 s per batch after 10,000 reminders.
    # Its result is 0 for a reminded record, else 1, and the filter an inequality: the planner's
    # default selectivity for it (1/3, where IS NULL gets 0.5 %) keeps the plan the (due date, id)
    # index range scan that stops after one batch, instead of sorting the whole window each batch.
    queryset = queryset.alias(_unsent=Coalesce(Subquery(sent.order_by().values(sent_=Value(0))[:1]), Value(1))).filter(
        _unsent__gt=0
    )
    return queryset.order_by(plan.field, "pk")


def _notify(plan: _Plan, rows: list[dict]) -> None:
    """The batch's notices: one read of what they need and one outbox INSERT for all of them."""
    items = [(row["application_id"], row["due"]) for row in rows]
    if plan.kind == ContractReminder.Kind.EXPIRY:
        notify.contracts_expiring_many(items=items)
    else:
        notify.probations_ending_many(items=items)


def _send_batch(plan: _Plan, today: datetime.date, after: tuple | None, batch: int) -> tuple[int, tuple | None]:
    """One locked batch: (reminders sent, the (due date, id) cursor after it, None when nothing is left)."""
    with transaction.atomic():
        queryset = _due(plan, today, after)
        if connection.features.has_select_for_update_skip_locked:
            # Another run holding a row sends it; this one goes on with the rest.
            queryset = queryset.select_for_update(skip_locked=True)
        rows = list(queryset.values("pk", "application_id", due=F(plan.field))[:batch])
        if not rows:
            return 0, None
        _notify(plan, rows)
        _record_sent(plan, [row["pk"] for row in rows])
    return len(rows), (rows[-1]["due"], rows[-1]["pk"])


def _record_sent(plan: _Plan, contract_ids: list[int]) -> None:
    """
    The batch's ``ContractReminder`` rows in one ``INSERT … SELECT`` from the (locked) records:
    only the ids travel, each due date is the record's own; a reminder sent already (the unique
    constraint) raises ``IntegrityError`` and rolls the batch back.
    """
    quote = connection.ops.quote_name
    reminder, record = ContractReminder._meta, EmploymentContract._meta
    placeholders = ", ".join(["%s"] * len(contract_ids))
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {quote(reminder.db_table)} ({quote('contract_id')}, {quote('kind')}, {quote('days')},"  # noqa: S608 (the models' names)
            f" {quote('due_date')}, {quote('sent_at')})"
            f" SELECT {quote('id')}, %s, %s, {quote(record.get_field(plan.field).column)}, %s"
            f" FROM {quote(record.db_table)} WHERE {quote('id')} IN ({placeholders})",
            [plan.kind, plan.days, timezone.now(), *contract_ids],
        )


def reminders_send(*, today: datetime.date | None = None, batch: int = REMINDER_BATCH) -> dict[str, int]:
    """The day's reminders (see the module docstring): ``{kind: sent}``."""
    today = today or timezone.localdate()
    counts: dict[str, int] = {}
    for plan in _plans():
        sent, after, clashes = 0, None, 0
        while True:
            try:
                n, cursor = _send_batch(plan, today, after, batch)
            except IntegrityError:
                clashes += 1
                if clashes > 3:
                    raise
                # A run without row locks (SQLite) sent some of these first: all of this batch
                # rolled back, outbox rows included; read it again without them.
                continue
            if cursor is None:
                break
            sent, after = sent + n, cursor
        counts[plan.kind] = sent
    logger.info("ledger reminders %s: %s", today.isoformat(), counts)
    return counts


def ledger_daily(*, today: datetime.date | None = None) -> dict:
    today = today or timezone.localdate()
    expired = contracts_expire(today=today)
    return {"expired": expired, **reminders_send(today=today)}


# --- ending (终止/解除, SPEC §12) ------------------------------------------------------------------

NOTE_MAX_LENGTH = 512
PROOF_FOLDER = "ledger/proofs"


def _clean_note(note) -> str:
    return clean_text(note, field="note", label="说明", max_length=NOTE_MAX_LENGTH, required=False)


def _term_label(record: EmploymentContract) -> str:
    if record.term_type == TermType.FIXED and record.end_date:
        return f"{record.start_date:%Y年%m月%d日}至{record.end_date:%Y年%m月%d日}（固定期限）"
    return f"自{record.start_date:%Y年%m月%d日}起（{record.get_term_type_display()}）"


def _service_start(record: EmploymentContract) -> datetime.date:
    """The first day of the chain of renewals this record ends (years of service count from there)."""
    start, previous_id, seen = record.start_date, record.previous_id, 0
    while previous_id and seen < 100:
        row = EmploymentContract.objects.filter(pk=previous_id).values("start_date", "previous_id").first()
        if row is None:
            break
        start, previous_id, seen = row["start_date"], row["previous_id"], seen + 1
    return start


def _seal_png(company) -> bytes | None:
    """The company's seal image (``contracts.CompanySeal``), or None when it has none or the file is gone."""
    seal = getattr(company, "seal", None)  # the reverse one-to-one raises an AttributeError when missing
    if seal is None or not seal.image:
        return None
    try:
        with default_storage.open(seal.image.name, "rb") as handle:
            return handle.read()
    except OSError:
        return None


def contract_end(
    *,
    contract: EmploymentContract,
    staff,
    ground: str,
    ended_on: datetime.date | None = None,
    note: str = "",
    client=None,
) -> EmploymentContract:
    """
    终止/解除 a record in force (or expired): the end date and the legal ground, a note; the proof of
    ending (art. 50) generated, signed by the employer and stored; the record 已终止 (expiry, other)
    or 已解除 (an article's ground); the worker told and ``contract.ended`` emitted (outbox, same
    transaction). Refused, with nothing changed: a record already ended or renewed
    (``ContractClosed``, 409), a pending renewal, an end date before the start or after the term,
    期满终止 on a day other than the term's end.
    """
    note = _clean_note(note)
    if ground not in EndGround.values:
        raise InvalidInput(errors={"ground": ["请选择终止/解除事由。"]})
    stored = ""
    try:
        with transaction.atomic():
            locked = EmploymentContract.objects.select_for_update().filter(pk=getattr(contract, "pk", None)).first()
            if locked is None:
                raise NotFound("劳动合同不存在")
            if not (staff.is_active and staff.is_staff and (staff.is_superuser or locked.ad_user_id == staff.pk)):
                raise NotYourApplication("该合同不由您处理，无权操作")
            if locked.status not in OPEN_CONTRACT_STATUSES:
                raise ContractClosed(f"该合同已「{locked.get_status_display()}」，不能再次办理终止/解除")
            pending = (
                locked.renewal_application_id
                and SignApplication.objects.filter(
                    pk=locked.renewal_application_id, status__in=(SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE)
                ).exists()
            )
            if pending:
                raise TransitionNotAllowed("该合同有待签约的续签申请，请先取消续签申请再办理终止/解除")
            day = ended_on or (locked.end_date if ground == EndGround.EXPIRY else None)
            errors: dict[str, list[str]] = {}
            if not isinstance(day, datetime.date) or isinstance(day, datetime.datetime):
                errors["ended_on"] = ["请填写终止/解除日期。"]
            elif day < locked.start_date:
                errors["ended_on"] = [f"终止/解除日期不能早于合同起始日期（{locked.start_date:%Y-%m-%d}）。"]
            elif locked.end_date and day > locked.end_date:
                errors["ended_on"] = [f"终止/解除日期不能晚于合同终止日期（{locked.end_date:%Y-%m-%d}）。"]
            elif ground == EndGround.EXPIRY and (locked.term_type != TermType.FIXED or day != locked.end_date):
                errors["ground"] = [
                    "只有固定期限合同可以期满终止，终止日期应为合同终止日期"
                    + (f"（{locked.end_date:%Y-%m-%d}）。" if locked.end_date else "。")
                ]
            if errors:
                raise InvalidInput(errors=errors)

            record = EmploymentContract.objects.select_related("employee", "company__seal").get(pk=locked.pk)
            dissolved = ground not in TERMINATING_GROUNDS
            facts = ProofFacts(
                contract_id=record.pk,
                application_id=record.application_id,
                real_name=record.employee.real_name,
                id_number=record.employee.id_number,
                company_name=record.company.company_name,
                credit_code=getattr(record.company, "credit_code", "") or "",
                work_pos=record.work_pos,
                term=_term_label(record),
                service_start=_service_start(record),
                ended_on=day,
                dissolved=dissolved,
                ground=EndGround(ground).label,
                issued_on=timezone.localdate(),
            )
            pdf = proof.render_and_sign(facts=facts, company=record.company, seal_png=_seal_png(record.company))
            stored = default_storage.save(f"{PROOF_FOLDER}/{uuid.uuid4().hex}.pdf", ContentFile(pdf))
            locked.status = ContractStatus.DISSOLVED if dissolved else ContractStatus.TERMINATED
            locked.ended_on = day
            locked.end_ground = ground
            locked.end_note = note
            locked.ended_at = timezone.now()
            locked.ended_by = staff
            locked.proof_file = stored
            locked.proof_sha256 = hashlib.sha256(pdf).hexdigest()
            locked.save(
                update_fields=[
                    "status",
                    "ended_on",
                    "end_ground",
                    "end_note",
                    "ended_at",
                    "ended_by",
                    "proof_file",
                    "proof_sha256",
                    "updated_at",
                ]
            )
            notify.contract_ended(
                application=SignApplication(pk=locked.application_id),
                ended_on=day,
                ground=EndGround(ground).label,
                contract_id=locked.pk,
            )
    except Exception:
        if stored:
            default_storage.delete(stored)
        raise
    logger.info("ledger: contract %s ended (%s)", locked.pk, ground)
    return locked
