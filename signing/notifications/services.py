"""
Who is told what on which event (SPEC §11). Every function here writes outbox rows and must be
called **inside the transaction of the change** it reports: the rows commit or roll back with it,
and are delivered after commit (``shanqian.outbox``).

* ``on_status_changed(application=…, source=…, target=…, actor_staff=…)`` — the state machine's
  one hook (``signing.services._transition`` and ``application_create``): the webhook
  ``application.status_changed`` always; to the worker: approved, rejected (with the reason),
  cancelled by staff, signed (how to download); to HR: a new application assigned, a contract
  signed, and a move made by another staff member (a supervisor) on the handler's application;
  ``contract.signed`` for a signature.
* ``on_reassigned(application=…)`` — a pending application now has another handler: tell them.
* ``notify_worker(application=…, kind=WorkerNotice.…, values={…})`` — one worker notice: a WeChat
  subscribe message when the worker has an unused acceptance of that platform's template for
  the kind (the acceptance is used up here), else an SMS (``NOTIFY_SMS_FALLBACK``).
* ``notify_hr(application=…, kind=HrNotice.…, values={…})`` — an email to the handler (when they
  have an address) and a message to every enabled 企业微信 robot of the handler or the company.
* ``emit_webhook(platform_id=…, event=WebhookEvent.…, data={…}, personal={…})`` — one signed
  delivery per enabled endpoint of the platform that wants the event.
* The lifecycle (SPEC §12, for the ledger): ``contract_expiring(application=…, end_date=…)``
  (worker + handler), ``probation_ending(application=…, probation_end=…)`` (handler),
  ``contract_ended(application=…, ended_on=…, ground=…, contract_id=…)`` (worker + webhook);
  for the daily run's batches ``contracts_expiring_many(items=[(application_id, end_date)])`` and
  ``probations_ending_many(items=[…])``: the same notices, a constant number of queries per batch.
* ``deletion_outcome(deletion=…, kind=WorkerNotice.DELETION_…, employee_id=…)`` — the outcome of
  a personal-information deletion request, by SMS (SPEC §13).
* ``subscriptions_accept(user=…, template_ids=[…])`` — ``POST /api/subscriptions``.
"""

from __future__ import annotations

import datetime
import functools
import uuid
from dataclasses import dataclass, field, replace

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import connection, transaction
from django.db.models import Count, Q
from django.utils import timezone

from shanqian import outbox
from shanqian.errors import InvalidInput
from signing.models import SignApplication, SignedDocument, SignStatus

from . import catalog, channels, subscribe, webhooks
from .catalog import HrNotice, WebhookEvent, WorkerNotice
from .models import SubscribeAcceptance, SubscribeTemplate, WebhookEndpoint, WecomRobot

MAX_TEMPLATE_IDS = 3  # wx.requestSubscribeMessage asks for at most three templates at once
MAX_UNUSED_PER_TEMPLATE = 50


@dataclass
class _Context:
    """What the notices of one application need, read in one query."""

    application_id: int
    status: int
    company_id: int
    company_name: str
    work_pos: str
    entry_date: datetime.date | None
    reason: str
    employee_id: int
    user_id: int
    platform_id: int
    real_name: str
    phone: str
    handler_id: int
    handler_email: str
    messages: list = field(default_factory=list)
    # (acceptance id, index in messages): the subscribe acceptance each WeChat message uses up.
    acceptances: list = field(default_factory=list)


_CONTEXT_FIELDS = (
    "pk",
    "status",
    "company_id",
    "company__company_name",
    "work_pos",
    "entry_date",
    "reason",
    "em_id",
    "em__user_id",
    "em__user__platform_id",
    "em__real_name",
    "em__phone",
    "ad_user_id",
    "ad_user__email",
)


def _context_of(row: dict) -> _Context:
    return _Context(
        application_id=row["pk"],
        status=row["status"],
        company_id=row["company_id"],
        company_name=row["company__company_name"],
        work_pos=row["work_pos"],
        entry_date=row["entry_date"],
        reason=row["reason"],
        employee_id=row["em_id"],
        user_id=row["em__user_id"],
        platform_id=row["em__user__platform_id"],
        real_name=row["em__real_name"],
        phone=row["em__phone"],
        handler_id=row["ad_user_id"],
        handler_email=row["ad_user__email"] or "",
    )


def _context(application) -> _Context:
    return _context_of(SignApplication.objects.filter(pk=application.pk).values(*_CONTEXT_FIELDS).get())


def _contexts(application_ids) -> dict[int, _Context]:
    """The contexts of many applications in one query (a batch of notices)."""
    rows = SignApplication.objects.filter(pk__in=list(application_ids)).values(*_CONTEXT_FIELDS)
    return {row["pk"]: _context_of(row) for row in rows}


def _ref(application_id: int) -> str:
    return f"signing.signapplication:{application_id}"


def _write(ctx: _Context) -> list:
    rows = outbox.enqueue_many(ctx.messages)
    for acceptance_id, index in ctx.acceptances:
        SubscribeAcceptance.objects.filter(pk=acceptance_id).update(message_id=rows[index].pk)
    return rows


class _Batch:
    """
    What the notices of many applications share, read once for the whole batch: the platforms'
    subscribe templates of one worker notice kind, the workers' unused acceptances of them (locked,
    ``SKIP LOCKED``, so a notice sent meanwhile elsewhere never shares one), and the enabled
    企业微信 robots of the handlers and companies. Four queries, however many applications.
    """

    def __init__(self, contexts: list[_Context], *, worker_kind: str | None = None, hr: bool = True):
        self.templates: dict[int, SubscribeTemplate] = {}
        self._unused: dict[tuple[int, str], list[SubscribeAcceptance]] = {}
        self._acceptances: dict[int, SubscribeAcceptance] = {}
        self._robots: list[tuple[int, int | None, int | None]] = []
        self._sms: dict[tuple, tuple[str, dict[str, str]]] = {}
        if worker_kind is not None:
            platforms = {ctx.platform_id for ctx in contexts}
            for template in SubscribeTemplate.objects.filter(
                platform_id__in=platforms, kind=worker_kind, enabled=True
            ).only("platform_id", "template_id", "page", "mapping", "miniprogram_state"):
                self.templates[template.platform_id] = template
            wanted = Q(pk__in=[])
            for platform_id, template in self.templates.items():
                users = [ctx.user_id for ctx in contexts if ctx.platform_id == platform_id]
                wanted |= Q(template_id=template.template_id, user_id__in=users)
            if self.templates:
                unused = (
                    SubscribeAcceptance.objects.filter(wanted, used_at__isnull=True)
                    .order_by("pk")
                    .only("pk", "user_id", "template_id")
                )
                if connection.features.has_select_for_update_skip_locked and connection.in_atomic_block:
                    unused = unused.select_for_update(skip_locked=True)
                for acceptance in unused:
                    self._unused.setdefault((acceptance.user_id, acceptance.template_id), []).append(acceptance)
        if hr:
            handlers = {ctx.handler_id for ctx in contexts}
            companies = {ctx.company_id for ctx in contexts}
            self._robots = list(
                WecomRobot.objects.filter(Q(handler_id__in=handlers) | Q(company_id__in=companies), enabled=True)
                .order_by("pk")
                .values_list("pk", "handler_id", "company_id")
            )

    def take(self, user_id: int, template_id: str) -> int | None:
        """Use up the oldest unused acceptance of the user for the template (written by ``write``)."""
        unused = self._unused.get((user_id, template_id))
        if not unused:
            return None
        acceptance = unused.pop(0)
        self._acceptances[acceptance.pk] = acceptance
        return acceptance.pk

    def sms_text(self, kind: str, values: dict) -> tuple[str, dict[str, str]]:
        """``catalog.sms_text_and_params``, rendered once per text (a company and a date, say) in the batch."""
        key = catalog.sms_key(kind, values)
        if key not in self._sms:
            self._sms[key] = catalog.sms_text_and_params(kind, values)
        return self._sms[key]

    def robots(self, handler_id: int, company_id: int) -> list[int]:
        return [pk for pk, handler, company in self._robots if handler == handler_id or company == company_id]

    def write(self, contexts: list[_Context]) -> list[int]:
        """
        Every message of ``contexts`` in one INSERT and one task (``outbox.enqueue_batch``); the
        acceptances in one UPDATE. Returns the outbox ids.
        """
        messages, offsets = [], []
        for ctx in contexts:
            offsets.append(len(messages))
            messages.extend(ctx.messages)
        ids = outbox.enqueue_batch(messages)
        now = timezone.now()
        used = []
        for ctx, offset in zip(contexts, offsets, strict=True):
            for acceptance_id, index in ctx.acceptances:
                acceptance = self._acceptances[acceptance_id]
                acceptance.used_at, acceptance.message_id = now, ids[offset + index]
                used.append(acceptance)
        if used:
            SubscribeAcceptance.objects.bulk_update(used, ["used_at", "message_id"])
        return ids


# --- worker ----------------------------------------------------------------------------------------------


@functools.cache
def _status_labels(statuses) -> dict[int, str]:
    # Once per process: ``SignStatus.values`` builds its list again on every call.
    return {status.value: status.label for status in statuses}


def _worker_values(ctx: _Context, kind: str, values: dict | None) -> dict:
    base = {
        "company_name": ctx.company_name,
        "work_pos": ctx.work_pos,
        "status_text": _status_labels(SignStatus).get(ctx.status, ""),
        "reason": ctx.reason,
        "tip": catalog.TIPS[kind],
        "entry_date": ctx.entry_date,
        "event_time": timezone.now(),
        "application_id": str(ctx.application_id),
    }
    return {**base, **(values or {})}


def _add_worker_notice(ctx: _Context, kind: str, values: dict | None = None, *, batch: _Batch | None = None) -> None:
    values = _worker_values(ctx, kind, values)
    label = catalog.WorkerNotice(kind).label
    text, params = catalog.sms_text_and_params(kind, values) if batch is None else batch.sms_text(kind, values)
    sms = {"kind": kind, "employee_id": ctx.employee_id, "text": text, "params": params}
    if batch is None:
        template = (
            SubscribeTemplate.objects.filter(platform_id=ctx.platform_id, kind=kind, enabled=True)
            .only("template_id", "page", "mapping", "miniprogram_state")
            .first()
        )
    else:
        template = batch.templates.get(ctx.platform_id)
    acceptance = None
    if template is not None:
        take = _take_acceptance if batch is None else batch.take
        acceptance = take(ctx.user_id, template.template_id)
    if acceptance is not None:
        index = len(ctx.messages)
        ctx.messages.append(
            outbox.Message(
                channel=channels.WORKER_WECHAT,
                payload={
                    "kind": kind,
                    "user_id": ctx.user_id,
                    "template_id": template.template_id,
                    "page": template.page,
                    "data": subscribe.message_data(template.mapping, values),
                    "miniprogram_state": template.miniprogram_state,
                    "sms": sms,
                },
                summary=f"签约申请 #{ctx.application_id}：{label}（微信）",
                ref=_ref(ctx.application_id),
            )
        )
        ctx.acceptances.append((acceptance, index))
    elif settings.NOTIFY_SMS_FALLBACK:
        ctx.messages.append(
            outbox.Message(
                channel=channels.WORKER_SMS,
                payload=sms,
                summary=f"签约申请 #{ctx.application_id}：{label}（短信）",
                ref=_ref(ctx.application_id),
            )
        )


def _take_acceptance(user_id: int, template_id: str) -> int | None:
    """Use up the oldest unused acceptance (a conditional update: two notices never share one)."""
    now = timezone.now()
    for pk in (
        SubscribeAcceptance.objects.filter(user_id=user_id, template_id=template_id, used_at__isnull=True)
        .order_by("pk")
        .values_list("pk", flat=True)[:3]
    ):
        if SubscribeAcceptance.objects.filter(pk=pk, used_at__isnull=True).update(used_at=now):
            return pk
    return None


def notify_worker(*, application, kind: str, values: dict | None = None) -> list:
    """Tell the worker of ``application`` (see the module docstring); returns the outbox rows written."""
    ctx = _context(application)
    _add_worker_notice(ctx, kind, values)
    return _write(ctx)


# --- HR ----------------------------------------------------------------------------------------------------


def _add_hr_notice(
    ctx: _Context,
    kind: str,
    values: dict | None = None,
    *,
    handler_id: int | None = None,
    batch: _Batch | None = None,
) -> None:
    label = HrNotice(kind).label
    handler_id = handler_id or ctx.handler_id
    payload = {"kind": kind, "application_id": ctx.application_id, "values": values or {}}
    summary = f"签约申请 #{ctx.application_id}：{label}"
    email = ctx.handler_email
    if handler_id != ctx.handler_id:
        email = get_user_model().objects.filter(pk=handler_id).values_list("email", flat=True).first() or ""
    if email:
        ctx.messages.append(
            outbox.Message(
                channel=channels.HR_EMAIL,
                payload={**payload, "handler_id": handler_id},
                summary=f"{summary}（邮件）",
                ref=_ref(ctx.application_id),
            )
        )
    if batch is None:
        robots = WecomRobot.objects.filter(Q(handler_id=handler_id) | Q(company_id=ctx.company_id), enabled=True)
        robot_ids = list(robots.values_list("pk", flat=True))
    else:
        robot_ids = batch.robots(handler_id, ctx.company_id)
    for robot_id in robot_ids:
        ctx.messages.append(
            outbox.Message(
                channel=channels.HR_WECOM,
                payload={**payload, "robot_id": robot_id},
                summary=f"{summary}（企业微信）",
                ref=_ref(ctx.application_id),
            )
        )


def notify_hr(*, application, kind: str, values: dict | None = None) -> list:
    """Tell the handler of ``application`` (see the module docstring); returns the outbox rows written."""
    ctx = _context(application)
    _add_hr_notice(ctx, kind, values)
    return _write(ctx)


# --- webhooks --------------------------------------------------------------------------------------------


def _add_webhook(messages: list, *, platform_id: int, event: str, data: dict, personal: dict | None, ref: str) -> None:
    endpoints = [
        endpoint
        for endpoint in WebhookEndpoint.objects.filter(platform_id=platform_id, enabled=True).only(
            "pk", "events", "include_personal_data"
        )
        if event in (endpoint.events or [])
    ]
    if not endpoints:
        return
    event_id = f"evt_{uuid.uuid4().hex}"
    created_at = timezone.now().isoformat(timespec="seconds")
    for endpoint in endpoints:
        payload_data = {**data, "personal": personal} if endpoint.include_personal_data and personal else data
        messages.append(
            outbox.Message(
                channel=channels.WEBHOOK,
                payload={
                    "endpoint_id": endpoint.pk,
                    "event": event,
                    "event_id": event_id,
                    "body": webhooks.body_for(event_id=event_id, event=event, created_at=created_at, data=payload_data),
                },
                summary=f"{WebhookEvent(event).label}（Webhook #{endpoint.pk}）",
                ref=ref,
            )
        )


def emit_webhook(*, platform_id: int, event: str, data: dict, personal: dict | None = None, ref: str = "") -> list:
    """One signed delivery per enabled endpoint of the platform that wants ``event``; returns the rows."""
    if event not in WebhookEvent.values:
        raise ValueError(f"unknown webhook event {event!r}")
    messages: list = []
    _add_webhook(messages, platform_id=platform_id, event=event, data=data, personal=personal, ref=ref)
    return outbox.enqueue_many(messages)


def _personal(ctx: _Context) -> dict:
    return {"real_name": ctx.real_name, "phone": ctx.phone}


# --- the state machine's hook ----------------------------------------------------------------------------


def on_status_changed(*, application, source: int | None, target: int, actor_staff=None) -> list:
    """Every notice a move causes (see the module docstring), written in the move's transaction."""
    ctx = _context(application)
    now = timezone.now().isoformat(timespec="seconds")
    _add_webhook(
        ctx.messages,
        platform_id=ctx.platform_id,
        event=WebhookEvent.STATUS_CHANGED,
        data={
            "application_id": ctx.application_id,
            "from_status": source,
            "to_status": target,
            "company_id": ctx.company_id,
            "handler_id": ctx.handler_id,
            "changed_at": now,
        },
        personal=_personal(ctx),
        ref=_ref(ctx.application_id),
    )
    if actor_staff is not None and actor_staff.pk != ctx.handler_id and source is not None:
        # A supervisor acted on someone else's application: its handler should not learn it by chance.
        move = SignStatus(target).label if target in SignStatus.values else str(target)
        _add_hr_notice(ctx, HrNotice.REVIEWED, {"by": actor_staff.display_name, "move": f"→ {move}"})
    if target == SignStatus.APPLIED and source is None:
        _add_hr_notice(ctx, HrNotice.ASSIGNED)
    elif target == SignStatus.AWAITING_SIGNATURE:
        _add_worker_notice(ctx, WorkerNotice.APPROVED)
    elif target == SignStatus.REJECTED:
        _add_worker_notice(ctx, WorkerNotice.REJECTED)
    elif target == SignStatus.CANCELLED and actor_staff is not None:
        # The worker withdrew it themselves: telling them would only echo their own tap.
        _add_worker_notice(ctx, WorkerNotice.CANCELLED)
    elif target == SignStatus.SIGNED:
        _add_worker_notice(ctx, WorkerNotice.SIGNED)
        _add_hr_notice(ctx, HrNotice.SIGNED, {"event_time": now})
        _add_webhook(
            ctx.messages,
            platform_id=ctx.platform_id,
            event=WebhookEvent.CONTRACT_SIGNED,
            data={
                "application_id": ctx.application_id,
                "company_id": ctx.company_id,
                "signed_at": now,
                "document_sha256": _document_sha256(ctx.application_id),
            },
            personal=_personal(ctx),
            ref=_ref(ctx.application_id),
        )
    return _write(ctx)


def _document_sha256(application_id: int) -> str | None:
    return SignedDocument.objects.filter(application_id=application_id).values_list("sha256", flat=True).first()


def on_reassigned(*, application) -> list:
    """A pending application was handed to another handler: tell the new one."""
    ctx = _context(application)
    _add_hr_notice(ctx, HrNotice.ASSIGNED)
    return _write(ctx)


# --- the lifecycle (SPEC §12) ------------------------------------------------------------------------------


def contract_expiring(*, application, end_date: datetime.date) -> list:
    """The contract of ``application`` ends on ``end_date``: tell the worker and the handler."""
    ctx = _context(application)
    _add_worker_notice(ctx, WorkerNotice.CONTRACT_EXPIRING, {"end_date": end_date})
    _add_hr_notice(ctx, HrNotice.CONTRACT_EXPIRING, {"end_date": end_date.isoformat()})
    return _write(ctx)


def probation_ending(*, application, probation_end: datetime.date) -> list:
    """The worker's probation ends on ``probation_end``: tell the handler."""
    ctx = _context(application)
    _add_hr_notice(ctx, HrNotice.PROBATION_ENDING, {"probation_end": probation_end.isoformat()})
    return _write(ctx)


def contracts_expiring_many(*, items: list[tuple[int, datetime.date]]) -> list[int]:
    """
    ``contract_expiring`` for a batch of ``(application id, end date)`` (the daily reminders): the
    same notices, read and written with a constant number of queries for the whole batch (contexts,
    templates, acceptances, robots; one outbox INSERT and one queued task).
    """
    contexts = _contexts(application_id for application_id, _ in items)
    batch = _Batch(list(contexts.values()), worker_kind=WorkerNotice.CONTRACT_EXPIRING)
    done = []
    for application_id, end_date in items:
        ctx = replace(contexts[application_id], messages=[], acceptances=[])
        _add_worker_notice(ctx, WorkerNotice.CONTRACT_EXPIRING, {"end_date": end_date}, batch=batch)
        _add_hr_notice(ctx, HrNotice.CONTRACT_EXPIRING, {"end_date": end_date.isoformat()}, batch=batch)
        done.append(ctx)
    return batch.write(done)


def probations_ending_many(*, items: list[tuple[int, datetime.date]]) -> list[int]:
    """``probation_ending`` for a batch of ``(application id, probation end)``, as ``contracts_expiring_many``."""
    contexts = _contexts(application_id for application_id, _ in items)
    batch = _Batch(list(contexts.values()))
    done = []
    for application_id, probation_end in items:
        ctx = replace(contexts[application_id], messages=[], acceptances=[])
        _add_hr_notice(ctx, HrNotice.PROBATION_ENDING, {"probation_end": probation_end.isoformat()}, batch=batch)
        done.append(ctx)
    return batch.write(done)


def contract_ended(*, application, ended_on: datetime.date, ground: str, contract_id: int | None = None) -> list:
    """The contract ended (终止/解除) on ``ended_on`` for ``ground``: tell the worker and downstream systems."""
    ctx = _context(application)
    _add_worker_notice(ctx, WorkerNotice.CONTRACT_ENDED, {"end_date": ended_on, "ground": ground})
    _add_webhook(
        ctx.messages,
        platform_id=ctx.platform_id,
        event=WebhookEvent.CONTRACT_ENDED,
        data={
            "application_id": ctx.application_id,
            "contract_id": contract_id,
            "company_id": ctx.company_id,
            "ended_on": ended_on.isoformat(),
            "ground": ground,
        },
        personal=_personal(ctx),
        ref=_ref(ctx.application_id),
    )
    return _write(ctx)


# --- the person's rights (SPEC §13) -------------------------------------------------------------------------


def deletion_outcome(*, deletion, kind: str, employee_id: int | None, values: dict | None = None) -> list:
    """
    Tell the person how their deletion request (``signing.privacy``) ended: an SMS to the resume's
    phone while the resume exists (``employee_id``), else to the phone the request keeps encrypted
    for this one notice (``DeletionRequest.notice_phone``, cleared once delivered). Nothing is
    written when there is neither, or ``NOTIFY_SMS_FALLBACK`` is off.
    """
    if not settings.NOTIFY_SMS_FALLBACK or (employee_id is None and not deletion.notice_phone):
        return []
    values = {"status_text": deletion.get_status_display(), "tip": catalog.TIPS[kind], **(values or {})}
    text, params = catalog.sms_text_and_params(kind, values)
    label = WorkerNotice(kind).label
    row = outbox.enqueue(
        channel=channels.WORKER_SMS,
        payload={
            "kind": kind,
            "employee_id": employee_id,
            "deletion_request_id": deletion.pk,
            "text": text,
            "params": params,
        },
        summary=f"删除申请 #{deletion.pk}：{label}（短信）",
        ref=f"signing.deletionrequest:{deletion.pk}",
    )
    return [row]


# --- POST /api/subscriptions -------------------------------------------------------------------------------


def subscriptions_accept(*, user, template_ids) -> dict:
    """
    Record what the user accepted in ``wx.requestSubscribeMessage``: one acceptance per template id
    (repeats in one call count once). Every id must be an enabled template of the user's platform,
    else ``InvalidInput`` and nothing is saved. Returns ``{"accepted": [...], "available": {id: n}}``.
    """
    if not isinstance(template_ids, list) or not template_ids:
        raise InvalidInput("请提供 template_ids", errors={"template_ids": ["请提供用户同意的订阅模板 ID 列表。"]})
    if len(template_ids) > MAX_TEMPLATE_IDS or not all(isinstance(t, str) and 0 < len(t) <= 64 for t in template_ids):
        raise InvalidInput(
            "template_ids 无效",
            errors={"template_ids": [f"应为 1 至 {MAX_TEMPLATE_IDS} 个订阅模板 ID（字符串）。"]},
        )
    wanted = list(dict.fromkeys(template_ids))
    known = set(
        SubscribeTemplate.objects.filter(platform_id=user.platform_id, enabled=True, template_id__in=wanted)
        .values_list("template_id", flat=True)
        .distinct()
    )
    unknown = [t for t in wanted if t not in known]
    if unknown:
        raise InvalidInput(
            "包含未知的订阅模板",
            errors={"template_ids": [f"未知的订阅模板：{'、'.join(unknown)}。"]},
        )
    with transaction.atomic():
        unused = dict(
            SubscribeAcceptance.objects.filter(user_id=user.pk, template_id__in=wanted, used_at__isnull=True)
            .values_list("template_id")
            .annotate(n=Count("pk"))
            .values_list("template_id", "n")
        )
        # WeChat keeps counting acceptances; a bounded number is enough for every notice we send.
        new = [t for t in wanted if unused.get(t, 0) < MAX_UNUSED_PER_TEMPLATE]
        SubscribeAcceptance.objects.bulk_create([SubscribeAcceptance(user_id=user.pk, template_id=t) for t in new])
    available = {t: unused.get(t, 0) + (1 if t in new else 0) for t in wanted}
    return {"accepted": wanted, "available": available}
