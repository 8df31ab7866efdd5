"""
The signing state machine (SPEC §6): the only code that changes a ``SignApplication``'s status.

Moves (``MOVES``, the one table)::

    approve       1 签约申请 → 2 待签约   staff (contract, entry date, salary)
    reject        1 签约申请 → 4 已驳回   staff (reason required)
    cancel        1, 2       → 5 已取消   the employee or staff
    sign          2 待签约   → 3 已签约   the employee (sealed document made inside the lock)
    sign_offline  2 待签约   → 3 已签约   staff (note required)
    renew         ∅          → 2 待签约   staff, from a ledger record (new terms; application_renew)
    3, 4, 5 are final.

Every move goes through ``_transition``: inside ``transaction.atomic`` it re-reads
the row with ``select_for_update()``, checks the actor and the move, runs the
caller's checks against the *locked* row, saves ``update_fields``, writes the
``SignEvent`` (from, to, actor, IP, user agent, location, city, note), writes the
move's notices as outbox rows in the same transaction (``notifications.services.
on_status_changed``: never lost for a committed move, never sent for a rolled-back one)
and defers the remaining side effects (``signals.application_status_changed``, logging)
with ``transaction.on_commit``. Two staff approving at once, or a double-tapped sign
button, give one transition and one ``TransitionNotAllowed`` (409/40900).
``select_for_update`` is a no-op on SQLite; the concurrency tests run on
PostgreSQL and MariaDB.

Who may act is enforced here, on the locked row, not only in the admin:
staff must be active and either a superuser or the application's assigned
handler (``ad_user``) — checked after the lock because a resume update may
reassign a pending application to another handler at the same moment; the
employee may act only on their own applications. ``NotYourApplication`` is
403/40300. Whether a staff account may reach an admin action at all (Django
model permissions, which rows the changelist shows) stays in the admin layer.

Validation errors raise ``shanqian.errors.InvalidInput`` with field errors;
every public service is keyword-only and returns the fresh, locked instance
(the one passed in is not refreshed).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from contracts.models import Company, Contract, EnabledStatus, WorkPosition
from contracts.services import company_ready_for_contracts, contract_placements_missing
from contracts.terms import TermType, WorkingHours, term_label, validate_terms
from employees.models import Employee, VerifyStatus, WechatUser
from shanqian.errors import InvalidInput, NotFound
from shanqian.roles import handlers_queryset
from shanqian.text import clean_text

from ..documents.services import contract_document_generate
from ..errors import NotYourApplication, RealnameRequired, TransitionNotAllowed
from ..ledger import selectors as ledger_selectors
from ..ledger import services as ledger
from ..ledger.models import OPEN_CONTRACT_STATUSES, EmploymentContract
from ..models import SignApplication, SignEvent, SignStatus
from ..notifications import services as notifications
from ..signals import application_status_changed

if TYPE_CHECKING:
    from shanqian.client import ClientContext
    from shanqian.models import AdminUser

logger = logging.getLogger("shanqian.signing")

USER = "user"
STAFF = "staff"


@dataclass(frozen=True)
class Move:
    label: str
    sources: frozenset[int]
    target: SignStatus
    actors: frozenset[str]


MOVES: dict[str, Move] = {
    "approve": Move("审核通过", frozenset({SignStatus.APPLIED}), SignStatus.AWAITING_SIGNATURE, frozenset({STAFF})),
    "reject": Move("驳回", frozenset({SignStatus.APPLIED}), SignStatus.REJECTED, frozenset({STAFF})),
    "cancel": Move(
        "取消",
        frozenset({SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE}),
        SignStatus.CANCELLED,
        frozenset({USER, STAFF}),
    ),
    "sign": Move("签约", frozenset({SignStatus.AWAITING_SIGNATURE}), SignStatus.SIGNED, frozenset({USER})),
    "sign_offline": Move("线下签约", frozenset({SignStatus.AWAITING_SIGNATURE}), SignStatus.SIGNED, frozenset({STAFF})),
    # A renewal (续签) opens a new application straight in 2, from a ledger record (SPEC §12).
    "renew": Move("续签", frozenset(), SignStatus.AWAITING_SIGNATURE, frozenset({STAFF})),
}

# The same table seen as "from → allowed targets"; 3, 4 and 5 lead nowhere.
ALLOWED: dict[int, frozenset[int]] = {
    status: frozenset(move.target for move in MOVES.values() if status in move.sources) for status in SignStatus
}
OPEN_STATUSES = frozenset({SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE})
FINAL_STATUSES = frozenset(status for status, targets in ALLOWED.items() if not targets)

ENTRY_DATE_MAX_PAST_DAYS = 30
ENTRY_DATE_MAX_FUTURE_DAYS = 365
SALARY_MAX_INTEGER_DIGITS = 13
REASON_MAX_LENGTH = 256  # sign_apply.reason varchar(256)
NOTE_MAX_LENGTH = 512  # SignEvent.note


def can_move(application: SignApplication, move: str) -> bool:
    """Whether ``move`` is allowed from the application's (possibly stale) status; for showing buttons."""
    return application.status in MOVES[move].sources


def staff_may_act(application: SignApplication, staff: AdminUser) -> bool:
    """Superusers act on every application; a handler only on those assigned to them."""
    if not (staff.is_active and staff.is_staff):
        return False
    return staff.is_superuser or application.ad_user_id == staff.pk


# --- the one transition function ----------------------------------------------------------------


def _transition(
    *,
    application_id: int,
    move: str,
    actor_user: WechatUser | None = None,
    actor_staff: AdminUser | None = None,
    client: ClientContext | None = None,
    note: str | Callable[[SignApplication], str] = "",
    update: dict[str, Any] | None = None,
    check: Callable[[SignApplication], dict[str, Any] | None] | None = None,
    before_commit: Callable[[SignApplication], None] | None = None,
) -> SignApplication:
    spec = MOVES[move]
    actor = _actor_kind(actor_user=actor_user, actor_staff=actor_staff)
    if actor not in spec.actors:
        raise ValueError(f"{actor} cannot perform {move}")
    update = dict(update or {})
    with transaction.atomic():
        # The lock serialises every move of this row: the loser re-reads the winner's status.
        application = SignApplication.objects.select_for_update().filter(pk=application_id).first()
        if application is None:
            raise NotFound("签约申请不存在")
        _check_actor(application, actor_user=actor_user, actor_staff=actor_staff)
        source = application.status
        if source not in spec.sources:
            raise TransitionNotAllowed(
                f"该申请当前为「{SignStatus(source).label}」，不能{spec.label}"
                if source in SignStatus.values
                else f"该申请当前状态不能{spec.label}"
            )
        if check is not None:
            # A check may return more fields to save, computed from the locked row.
            update.update(check(application) or {})
        for field, value in update.items():
            setattr(application, field, value)
        application.status = spec.target
        application.save(update_fields=[*update, "status", "updated_at"])
        _write_event(
            application,
            kind=SignEvent.Kind.TRANSITION,
            from_status=source,
            to_status=spec.target,
            actor_user=actor_user,
            actor_staff=actor_staff,
            client=client,
            note=note(application) if callable(note) else note,
        )
        # After the event, so a sealed document can include this move in its audit trail.
        if before_commit is not None:
            before_commit(application)
        if spec.target == SignStatus.SIGNED:
            # Signed (online, with its sealed document by now, or offline): the ledger's record
            # opens in the same transaction (SPEC §12).
            ledger.contract_open(application=application)
        # The notices are outbox rows of this transaction: they commit or roll back with the move.
        notifications.on_status_changed(
            application=application, source=source, target=spec.target, actor_staff=actor_staff
        )
        _on_commit_status_changed(application.pk, source, spec.target)
    return application


def _actor_kind(*, actor_user, actor_staff) -> str:
    if (actor_user is None) == (actor_staff is None):
        raise ValueError("exactly one of actor_user / actor_staff is required")
    return USER if actor_user is not None else STAFF


def _check_actor(application: SignApplication, *, actor_user, actor_staff) -> None:
    if actor_staff is not None:
        if not staff_may_act(application, actor_staff):
            raise NotYourApplication("该申请不由您处理，无权操作")
        return
    owner_id = Employee.objects.filter(pk=application.em_id).values_list("user_id", flat=True).first()
    if owner_id != actor_user.pk:
        raise NotYourApplication("无权操作他人的签约申请")


def _write_event(
    application: SignApplication,
    *,
    kind: str,
    from_status: int | None = None,
    to_status: int | None = None,
    actor_user=None,
    actor_staff=None,
    client: ClientContext | None = None,
    note: str = "",
    document_sha256: str = "",
) -> SignEvent:
    return SignEvent.objects.create(
        application=application,
        kind=kind,
        from_status=from_status,
        to_status=to_status,
        actor_user=actor_user,
        actor_staff=actor_staff,
        ip=client.ip if client else None,
        user_agent=(client.user_agent if client else "")[:512],
        lng=client.lng if client else None,
        lat=client.lat if client else None,
        city=((client.city or "") if client else "")[:64],
        note=(note or "")[:NOTE_MAX_LENGTH],
        document_sha256=document_sha256,
    )


def _on_commit_status_changed(application_id: int, source: int | None, target: int) -> None:
    def notify():
        logger.info("sign application %s: %s -> %s", application_id, source, target)
        application_status_changed.send_robust(
            sender=SignApplication, application_id=application_id, from_status=source, to_status=target
        )

    transaction.on_commit(notify, robust=True)


# --- validation helpers -------------------------------------------------------------------------


def clean_salary(salary) -> tuple[Decimal | None, str | None]:
    """(value, error): > 0, at most 2 decimals and 13 integer digits (decimal(15, 2))."""
    if isinstance(salary, bool) or salary is None:
        return None, "请填写薪资。"
    try:
        value = Decimal(str(salary).strip())
    except (InvalidOperation, ValueError):
        return None, "薪资应为数字。"
    if not value.is_finite():
        return None, "薪资应为数字。"
    if value <= 0:
        return None, "薪资应大于 0。"
    if value.adjusted() + 1 > SALARY_MAX_INTEGER_DIGITS:
        return None, f"薪资整数部分不能超过 {SALARY_MAX_INTEGER_DIGITS} 位。"
    cents = value.quantize(Decimal("0.01"))
    if cents != value:
        return None, "薪资最多保留两位小数。"
    return cents, None


def clean_entry_date(entry_date, *, today: datetime.date | None = None) -> str | None:
    """An error message, or None: not more than 30 days in the past nor more than a year ahead."""
    if not isinstance(entry_date, datetime.date) or isinstance(entry_date, datetime.datetime):
        return "请填写有效的入职日期。"
    today = today or timezone.localdate()
    if entry_date < today - datetime.timedelta(days=ENTRY_DATE_MAX_PAST_DAYS):
        return f"入职日期不能早于 {ENTRY_DATE_MAX_PAST_DAYS} 天前。"
    if entry_date > today + datetime.timedelta(days=ENTRY_DATE_MAX_FUTURE_DAYS):
        return "入职日期不能晚于一年以后。"
    return None


@dataclass(frozen=True)
class ApplicationChoice:
    """What the employee picks when applying: employer, position, handler."""

    company: Company
    work_pos: str
    ad_user: AdminUser


def application_choice_clean(*, company_id: int | None, work_pos: str | None, ad_user_id: int | None):
    """
    Resolve the employee's picks, raising ``InvalidInput`` with field errors for
    every bad one: ``company_id`` an enabled company, ``work_pos`` an enabled
    position of that company, ``ad_user_id`` an active handler (人事专员).
    """
    errors: dict[str, list[str]] = {}
    # The usual case (both fine) in one query; only a miss asks which of the two it was.
    position = (
        WorkPosition.objects.select_related("company")
        .filter(
            company_id=company_id,
            company__status=EnabledStatus.ENABLED,
            name=work_pos,
            status=EnabledStatus.ENABLED,
        )
        .first()
        if company_id is not None and work_pos
        else None
    )
    company = position.company if position is not None else None
    if company is None and company_id is not None:
        company = Company.objects.filter(pk=company_id, status=EnabledStatus.ENABLED).first()
    if company is None:
        errors["company_id"] = ["用人单位不存在或已停用。"]
    elif position is None:
        errors["work_pos"] = ["该用人单位没有这个岗位，或岗位已停用。"]
    handler = handlers_queryset().filter(pk=ad_user_id).first() if ad_user_id is not None else None
    if handler is None:
        errors["ad_user_id"] = ["处理人不存在或已停用。"]
    if errors:
        raise InvalidInput(errors=errors)
    return ApplicationChoice(company=company, work_pos=work_pos, ad_user=handler)


# --- public services ----------------------------------------------------------------------------


def application_create(
    *,
    employee: Employee,
    choice: ApplicationChoice,
    actor_user: WechatUser | None = None,
    actor_staff: AdminUser | None = None,
    client: ClientContext | None = None,
    employee_is_new: bool = False,
) -> SignApplication:
    """
    Open a new application in status 1 for ``employee`` (choices already
    cleaned with ``application_choice_clean``). Refused with
    ``TransitionNotAllowed`` while the employee has an application in 1 or 2:
    an employee has at most one open application. The employee row is locked so
    two concurrent calls cannot both pass that check.

    ``employee_is_new=True`` (only inside the transaction that inserted the
    employee): no other transaction can see that row yet, so it has no
    application and needs no lock; the lock and the check are skipped, and so
    is the savepoint (any failure here rolls the caller's whole transaction back).
    """
    _actor_kind(actor_user=actor_user, actor_staff=actor_staff)
    if employee_is_new and not transaction.get_connection().in_atomic_block:
        raise RuntimeError("employee_is_new is only meaningful inside the transaction that created the employee")
    with transaction.atomic(savepoint=not employee_is_new):
        if not employee_is_new:
            Employee.objects.select_for_update().filter(pk=employee.pk).values_list("pk", flat=True).first()
            open_status = (
                SignApplication.objects.filter(em_id=employee.pk, status__in=OPEN_STATUSES)
                .values_list("status", flat=True)
                .first()
            )
            if open_status is not None:
                raise TransitionNotAllowed(f"已有「{SignStatus(open_status).label}」状态的签约申请，不能重复申请")
        application = SignApplication.objects.create(
            em=employee,
            company=choice.company,
            work_pos=choice.work_pos,
            ad_user=choice.ad_user,
            status=SignStatus.APPLIED,
        )
        _write_event(
            application,
            kind=SignEvent.Kind.TRANSITION,
            from_status=None,
            to_status=SignStatus.APPLIED,
            actor_user=actor_user,
            actor_staff=actor_staff,
            client=client,
        )
        notifications.on_status_changed(
            application=application, source=None, target=SignStatus.APPLIED, actor_staff=actor_staff
        )
        _on_commit_status_changed(application.pk, None, SignStatus.APPLIED)
    return application


def application_update_pending(
    *,
    application: SignApplication,
    choice: ApplicationChoice,
    actor_user: WechatUser | None = None,
    actor_staff: AdminUser | None = None,
    client: ClientContext | None = None,
) -> SignApplication:
    """
    A pending application (status 1) follows the employee's new company,
    position and handler. The change is recorded as a NOTE event; nothing is
    written when nothing changed. ``TransitionNotAllowed`` once it left status 1.
    """
    _actor_kind(actor_user=actor_user, actor_staff=actor_staff)
    with transaction.atomic():
        locked = SignApplication.objects.select_for_update().filter(pk=application.pk).first()
        if locked is None:
            raise NotFound("签约申请不存在")
        _check_actor(locked, actor_user=actor_user, actor_staff=actor_staff)
        if locked.status != SignStatus.APPLIED:
            raise TransitionNotAllowed(f"该申请当前为「{locked.get_status_display()}」，不能修改用人单位、岗位或处理人")
        changes = []
        fields = []
        if locked.company_id != choice.company.pk:
            changes.append(f"用人单位：{locked.company} → {choice.company}")
            locked.company = choice.company
            fields.append("company")
        if locked.work_pos != choice.work_pos:
            changes.append(f"岗位：{locked.work_pos} → {choice.work_pos}")
            locked.work_pos = choice.work_pos
            fields.append("work_pos")
        if locked.ad_user_id != choice.ad_user.pk:
            changes.append(f"处理人：{locked.ad_user} → {choice.ad_user}")
            locked.ad_user = choice.ad_user
            fields.append("ad_user")
        if fields:
            locked.save(update_fields=[*fields, "updated_at"])
            _write_event(
                locked,
                kind=SignEvent.Kind.NOTE,
                actor_user=actor_user,
                actor_staff=actor_staff,
                client=client,
                note="简历更新，申请随之变更：" + "；".join(changes),
            )
            if "ad_user" in fields:
                # The new handler learns of the application they now handle (an outbox row of this transaction).
                notifications.on_reassigned(application=locked)
    return locked


def _contract_choice(contract, *, company_id: int, owner: str) -> tuple[dict | None, str]:
    """The chosen contract template's row and, when it cannot be used, why (owner: 申请 or 合同)."""
    row = (
        Contract.objects.filter(pk=getattr(contract, "pk", None)).values("company_id", "status", "sign_year").first()
        if contract is not None
        else None
    )
    if row is None:
        return None, "请选择合同模板。"
    if row["company_id"] != company_id:
        return row, f"合同模板不属于该{owner}的用人单位。"
    if row["status"] != EnabledStatus.ENABLED:
        return row, "合同模板已停用。"
    # The enable rule (SPEC §9) is judged again here: placements may have been removed since.
    if missing := contract_placements_missing(contract_id=contract.pk):
        return row, f"合同模板缺少必需的字段位置：{'、'.join(missing)}。请先在合同模板的「字段位置」中放置。"
    return row, ""


def application_approve(
    *,
    application: SignApplication,
    staff: AdminUser,
    contract: Contract,
    entry_date: datetime.date,
    salary: Decimal | str | int,
    term_type: str | None = None,
    end_date: datetime.date | None = None,
    probation_months: int | str | None = 0,
    work_location: str | None = "",
    working_hours: str | None = None,
    client: ClientContext | None = None,
) -> SignApplication:
    """
    1 → 2 with the terms of the contract (SPEC §9, ``contracts.terms``). The contract must be an
    enabled template of the application's company, and the company complete (particulars, a seal,
    a seal authorisation in force: ``contracts.services.company_ready_for_contracts``), both checked
    on the locked row. Blank
    ``term_type`` follows the template (0 years: open-ended), a blank fixed-term ``end_date`` is
    start + ``sign_year`` years − 1 day, blank ``working_hours`` 标准工时制, blank ``work_location``
    the company's 住所; the probation is checked against art. 19 for the term and against an earlier
    probation with the same employer. Every bad field is reported at once, in Chinese; the
    transition event's note records the agreed terms.
    """
    salary_value, salary_error = clean_salary(salary)
    notes: dict[str, str] = {}

    def check(locked: SignApplication) -> dict[str, Any]:
        errors: dict[str, list[str]] = {}
        contract_row, refusal = _contract_choice(contract, company_id=locked.company_id, owner="申请")
        if refusal:
            errors["contract"] = [refusal]
        # The employer must be able to sign: particulars, a seal and an authorisation in force (SPEC §9).
        employer_refusal = company_ready_for_contracts(company_id=locked.company_id)
        if employer_refusal:
            errors["company"] = [employer_refusal]
        date_error = clean_entry_date(entry_date)
        if date_error:
            errors["entry_date"] = [date_error]
        if salary_error:
            errors["salary"] = [salary_error]
        if not date_error:
            terms, term_errors = validate_terms(
                entry_date=entry_date,
                sign_year=contract_row["sign_year"] if contract_row else 0,
                term_type=term_type,
                end_date=end_date,
                probation_months=probation_months,
                working_hours=working_hours,
                work_location=work_location,
                default_work_location=_company_address(locked.company_id),
                probation_used_before=_probation_used_before(locked),
            )
            errors.update(term_errors)
        if errors:
            raise InvalidInput(errors=errors)
        notes["terms"] = _terms_note(contract, terms, salary_value)
        return {**terms.as_fields(), "salary": salary_value}

    return _transition(
        application_id=application.pk,
        move="approve",
        actor_staff=staff,
        client=client,
        check=check,
        update={"contract": contract},
        note=lambda locked: notes["terms"],
        # The personalised contract, drawn inside the move: if it cannot be made, nothing is approved.
        before_commit=contract_document_generate,
    )


def _company_address(company_id: int) -> str:
    return Company.objects.filter(pk=company_id).values_list("company_address", flat=True).first() or ""


def _probation_used_before(locked: SignApplication) -> bool:
    """Art. 19: one employer agrees a probation with the same worker only once (signed contracts count)."""
    return (
        SignApplication.objects.filter(
            em_id=locked.em_id, company_id=locked.company_id, status=SignStatus.SIGNED, probation_months__gt=0
        )
        .exclude(pk=locked.pk)
        .exists()
    )


def _terms_note(contract: Contract, terms, salary: Decimal) -> str:
    probation = (
        f"{terms.probation_months} 个月（至 {terms.probation_end:%Y-%m-%d}）" if terms.probation_months else "无"
    )
    return "；".join(
        [
            f"合同模板：{contract.contract_name}",
            f"入职日期：{terms.entry_date:%Y-%m-%d}",
            f"合同期限：{term_label(terms.term_type, terms.end_date)}",
            f"试用期：{probation}",
            f"薪资：{salary} 元",
            f"工作地点：{terms.work_location}",
            f"工时制度：{WorkingHours(terms.working_hours).label}",
        ]
    )


def application_reject(
    *, application: SignApplication, staff: AdminUser, reason: str, client: ClientContext | None = None
) -> SignApplication:
    """1 → 4 with a reason (required, ≤ 256 characters) shown to the employee."""
    reason = clean_text(reason, field="reason", label="驳回原因", max_length=REASON_MAX_LENGTH, required=True)
    return _transition(
        application_id=application.pk,
        move="reject",
        actor_staff=staff,
        client=client,
        note=reason,
        update={"reason": reason},
    )


def application_cancel(
    *,
    application: SignApplication,
    actor_user: WechatUser | None = None,
    actor_staff: AdminUser | None = None,
    client: ClientContext | None = None,
    note: str = "",
) -> SignApplication:
    """1 or 2 → 5, by the employee (their own application) or staff."""
    note = clean_text(note, field="note", label="备注", max_length=NOTE_MAX_LENGTH, required=False)
    return _transition(
        application_id=application.pk,
        move="cancel",
        actor_user=actor_user,
        actor_staff=actor_staff,
        client=client,
        note=note,
    )


def application_sign(
    *,
    application: SignApplication,
    user: WechatUser,
    client: ClientContext | None = None,
    extra_update: dict[str, Any] | None = None,
    before_commit: Callable[[SignApplication], None] | None = None,
    note: str = "",
) -> SignApplication:
    """
    2 → 3 by the employee. With ``SIGN_REQUIRE_REALNAME`` the user must be
    verified (``RealnameRequired``, 409). ``extra_update`` fields are saved with
    the status; ``before_commit(application)`` runs inside the locked
    transaction after the audit event is written — create the sealed document
    there; if it raises, the whole move rolls back.
    """

    def check(locked: SignApplication) -> None:
        if settings.SIGN_REQUIRE_REALNAME:
            status = WechatUser.objects.filter(pk=user.pk).values_list("verify_status", flat=True).first()
            if status != VerifyStatus.VERIFIED:
                raise RealnameRequired("请先完成实名认证再签约")

    return _transition(
        application_id=application.pk,
        move="sign",
        actor_user=user,
        client=client,
        note=note,
        update=extra_update,
        check=check,
        before_commit=before_commit,
    )


def application_sign_offline(
    *, application: SignApplication, staff: AdminUser, note: str, client: ClientContext | None = None
) -> SignApplication:
    """2 → 3 recorded by staff for a contract signed on paper; the note (required) says how and where."""
    note = clean_text(note, field="note", label="线下签约说明", max_length=NOTE_MAX_LENGTH, required=True)
    return _transition(application_id=application.pk, move="sign_offline", actor_staff=staff, client=client, note=note)


def application_record_event(
    *,
    application: SignApplication,
    kind: str,
    actor_user: WechatUser | None = None,
    actor_staff: AdminUser | None = None,
    client: ClientContext | None = None,
    note: str = "",
    document_sha256: str = "",
) -> SignEvent:
    """
    A non-transition audit fact (``SignEvent.Kind.VIEWED`` / ``NOTE``); the status is untouched.
    ``document_sha256`` names the file a VIEWED event showed.
    """
    if kind not in (SignEvent.Kind.VIEWED, SignEvent.Kind.NOTE):
        raise ValueError(f"not a non-transition event kind: {kind!r}")
    note = clean_text(note, field="note", label="备注", max_length=NOTE_MAX_LENGTH, required=False)
    return _write_event(
        application,
        kind=kind,
        actor_user=actor_user,
        actor_staff=actor_staff,
        client=client,
        note=note,
        document_sha256=document_sha256,
    )


# --- renewal (续签, SPEC §12) ---------------------------------------------------------------------


RENEWAL_MAX_FUTURE_DAYS = 365


def application_renew(
    *,
    record: EmploymentContract,
    staff: AdminUser,
    contract: Contract,
    salary: Decimal | str | int,
    entry_date: datetime.date | None = None,
    term_type: str | None = None,
    end_date: datetime.date | None = None,
    probation_months: int | str | None = 0,
    work_location: str | None = "",
    working_hours: str | None = None,
    art14_acknowledged: bool = False,
    client: ClientContext | None = None,
) -> SignApplication:
    """
    ∅ → 2 (``renew``): a new application for the worker of ``record`` (a ledger record in force or
    expired), straight in 2 待签约 with the new terms, to be signed like any other; signing it marks
    ``record`` 已续签 and opens the new record (``ledger.contract_open``).

    The new term starts after the current one (blank: the day after its end) — two terms never
    overlap; the terms follow 审核通过's rules (``contracts.terms.validate_terms``; a probation only
    if this employer never agreed one with the worker, art. 19). When art. 14 applies (two
    consecutive fixed terms, or ten years' service) a fixed term needs ``art14_acknowledged``: the
    worker asked for a fixed term themselves. One pending renewal per record; the worker has no
    other open application. Everything is checked on locked rows and reported at once.
    """
    salary_value, salary_error = clean_salary(salary)
    today = timezone.localdate()
    with transaction.atomic():
        locked = EmploymentContract.objects.select_for_update().filter(pk=getattr(record, "pk", None)).first()
        if locked is None:
            raise NotFound("劳动合同不存在")
        if not (staff.is_active and staff.is_staff and (staff.is_superuser or locked.ad_user_id == staff.pk)):
            raise NotYourApplication("该合同不由您处理，无权操作")
        if locked.status not in OPEN_CONTRACT_STATUSES:
            raise ledger.ContractClosed(f"该合同当前为「{locked.get_status_display()}」，不能续签")
        if locked.end_date is None:
            raise TransitionNotAllowed("无固定期限劳动合同没有到期日，无需续签")
        Employee.objects.select_for_update().filter(pk=locked.employee_id).values_list("pk", flat=True).first()
        open_row = (
            SignApplication.objects.filter(em_id=locked.employee_id, status__in=OPEN_STATUSES)
            .values("pk", "status")
            .first()
        )
        if open_row is not None:
            what = "续签申请" if open_row["pk"] == locked.renewal_application_id else "签约申请"
            raise TransitionNotAllowed(
                f"该劳动者已有「{SignStatus(open_row['status']).label}」的{what}（#{open_row['pk']}），请先处理"
            )

        errors: dict[str, list[str]] = {}
        start = entry_date or locked.end_date + datetime.timedelta(days=1)
        if not isinstance(start, datetime.date) or isinstance(start, datetime.datetime):
            errors["entry_date"] = ["请填写有效的续签起始日期。"]
        elif start <= locked.end_date:
            errors["entry_date"] = [
                f"续签合同的起始日期不能早于或等于当前合同的终止日期（{locked.end_date:%Y-%m-%d}）：两份合同的期限不能重叠。"
            ]
        elif start > today + datetime.timedelta(days=RENEWAL_MAX_FUTURE_DAYS):
            errors["entry_date"] = ["续签起始日期不能晚于一年以后。"]
        contract_row, refusal = _contract_choice(contract, company_id=locked.company_id, owner="合同")
        if refusal:
            errors["contract"] = [refusal]
        employer_refusal = company_ready_for_contracts(company_id=locked.company_id)
        if employer_refusal:
            errors["company"] = [employer_refusal]
        if salary_error:
            errors["salary"] = [salary_error]
        terms = None
        if "entry_date" not in errors:
            terms, term_errors = validate_terms(
                entry_date=start,
                sign_year=contract_row["sign_year"] if contract_row else 0,
                term_type=term_type,
                end_date=end_date,
                probation_months=probation_months,
                working_hours=working_hours,
                work_location=work_location,
                default_work_location=locked.work_location or _company_address(locked.company_id),
                probation_used_before=_probation_used_before(
                    SignApplication(em_id=locked.employee_id, company_id=locked.company_id)
                ),
            )
            errors.update(term_errors)
        art14 = ledger_selectors.art14_reason(locked, new_start=start if "entry_date" not in errors else None)
        if art14 and terms is not None and terms.term_type != TermType.OPEN_ENDED and not art14_acknowledged:
            errors["art14_acknowledged"] = [
                f"{art14}：劳动者提出或者同意续订劳动合同的，除劳动者提出订立固定期限劳动合同外，应当订立无固定期限"
                "劳动合同（劳动合同法第十四条）。请改为无固定期限，或确认是劳动者本人提出订立固定期限劳动合同。"
            ]
        if errors:
            raise InvalidInput(errors=errors)

        application = SignApplication.objects.create(
            em_id=locked.employee_id,
            ad_user_id=locked.ad_user_id,
            company_id=locked.company_id,
            work_pos=locked.work_pos,
            contract=contract,
            salary=salary_value,
            status=SignStatus.AWAITING_SIGNATURE,
            **terms.as_fields(),
        )
        note = f"续签劳动合同 #{locked.pk}；{_terms_note(contract, terms, salary_value)}"
        if art14:
            note += (
                f"；{art14}，劳动者本人提出订立固定期限劳动合同"
                if terms.term_type != TermType.OPEN_ENDED
                else f"；{art14}"
            )
        _write_event(
            application,
            kind=SignEvent.Kind.TRANSITION,
            from_status=None,
            to_status=SignStatus.AWAITING_SIGNATURE,
            actor_staff=staff,
            client=client,
            note=note,
        )
        # The personalised contract with the new terms, as at approval: if it cannot be made, nothing is renewed.
        contract_document_generate(application)
        locked.renewal_application = application
        locked.save(update_fields=["renewal_application", "updated_at"])
        # The worker is asked to read and sign the renewal, in this transaction (an outbox row).
        notifications.on_status_changed(
            application=application, source=None, target=SignStatus.AWAITING_SIGNATURE, actor_staff=staff
        )
        _on_commit_status_changed(application.pk, None, SignStatus.AWAITING_SIGNATURE)
    return application
