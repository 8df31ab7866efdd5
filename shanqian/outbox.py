"""
The durable outbox (SPEC §11): work that must not be lost is a database row first.

Contract:

* ``enqueue(channel=…, payload=…, summary=…)`` — call it **inside the transaction of the change
  that causes the work**: the ``OutboxMessage`` row commits (or rolls back) with that change, and
  its delivery task is queued once the transaction commits (``shanqian.celery.dispatch``).
* A **channel** is registered by the app that owns it (``register_channel`` from its
  ``AppConfig.ready``): a name, a label for the back office, a ``deliver(message)`` function and a
  ``RetryPolicy``. ``deliver`` returns ``Delivered`` (or None) when the work is done, raises
  ``Retry`` for a temporary failure and ``Fail`` for a permanent one; any other exception counts
  as a temporary failure. ``on_failed(message)`` (optional) runs in the transaction that makes the
  row final-failed — e.g. to queue an SMS when a WeChat message cannot be sent.
* **Claiming** is an atomic conditional ``UPDATE``: a row is taken when it is due and pending, or
  when it is ``sending`` but the lease of the worker that took it ran out (the worker died). Two
  workers can never send one row at the same time; the result is written only by the holder of
  the claim. Each attempt is an ``OutboxAttempt`` row (outcome, response code, duration, error).
* **Backoff**: attempt *n* failed → wait ``min(max_delay, base_delay·2^(n-1))``, "equal jitter"
  (a random point in the upper half), until ``max_attempts`` or ``retry_until`` — then the row is
  ``failed`` with its last error and shows in the back office with a retry action.
* **Re-drive** (``redrive``, a Celery beat task): rows still pending ``OUTBOX_REDRIVE_GRACE``
  seconds after they were due and queued, and rows whose lease ran out, are queued again. A lost
  task, a broker restart or a killed worker therefore delays work but loses none.
* **At least once**: a worker that dies after the receiver got the message but before the row was
  marked sends it again. ``message.key`` (a UUID) is the idempotency key receivers use to drop
  duplicates (webhooks send it as ``X-Shanqian-Delivery``).
"""

from __future__ import annotations

import datetime
import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field

from celery import shared_task
from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection, transaction
from django.db.models import F, Q
from django.utils import timezone

from . import celery  # the module, not its names: celery.send_now is looked up at call time
from .models import OutboxAttempt, OutboxMessage

logger = logging.getLogger("shanqian.outbox")

State = OutboxMessage.State
ERROR_MAX_LENGTH = 500
# Retries further away than this wait for the re-drive instead of a delayed task: a task held by
# the broker longer than its visibility timeout would be handed out twice.
COUNTDOWN_MAX_SECONDS = 600


@dataclass(frozen=True)
class RetryPolicy:
    max_attempts: int = 8
    base_delay: float = 30.0
    max_delay: float = 3600.0
    # When set, no attempt starts later than this after the row was written (webhooks: 24 h).
    window: datetime.timedelta | None = None

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait after failed attempt number ``attempt`` (1-based), jitter included."""
        ceiling = min(self.max_delay, self.base_delay * (2 ** max(0, attempt - 1)))
        return (rng or random).uniform(ceiling / 2, ceiling)


@dataclass(frozen=True)
class Delivered:
    note: str = ""
    response_code: int | None = None


class Retry(Exception):
    """A temporary failure: try again later (``delay`` overrides the policy's backoff once)."""

    def __init__(self, error: str, *, response_code: int | None = None, delay: float | None = None):
        super().__init__(error)
        self.error = error
        self.response_code = response_code
        self.delay = delay


class Fail(Exception):
    """A permanent failure: retrying cannot help."""

    def __init__(self, error: str, *, response_code: int | None = None):
        super().__init__(error)
        self.error = error
        self.response_code = response_code


@dataclass(frozen=True)
class Channel:
    name: str
    label: str
    deliver: Callable[[OutboxMessage], Delivered | None]
    policy: RetryPolicy = field(default_factory=RetryPolicy)
    on_failed: Callable[[OutboxMessage], None] | None = None
    # Whether a delivered row may be sent again from the back office (webhooks: yes; an SMS: no).
    redeliverable: bool = False


_CHANNELS: dict[str, Channel] = {}


def register_channel(
    name: str,
    *,
    label: str,
    deliver: Callable[[OutboxMessage], Delivered | None],
    policy: RetryPolicy | None = None,
    on_failed: Callable[[OutboxMessage], None] | None = None,
    redeliverable: bool = False,
) -> Channel:
    """Register (or replace, for tests and reloads) the handler of ``name``."""
    channel = Channel(name, label, deliver, policy or RetryPolicy(), on_failed, redeliverable)
    _CHANNELS[name] = channel
    return channel


def get_channel(name: str) -> Channel:
    try:
        return _CHANNELS[name]
    except KeyError:
        raise LookupError(f"no outbox channel {name!r} is registered") from None


def channel_labels() -> dict[str, str]:
    return {name: channel.label for name, channel in sorted(_CHANNELS.items())}


# --- writing ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Message:
    """What to enqueue; see ``enqueue``."""

    channel: str
    payload: dict
    summary: str
    ref: str = ""


def _new_row(item: Message, now: datetime.datetime) -> OutboxMessage:
    policy = get_channel(item.channel).policy
    return OutboxMessage(
        channel=item.channel,
        payload=item.payload,
        summary=item.summary[:200],
        ref=item.ref[:64],
        max_attempts=policy.max_attempts,
        retry_until=now + policy.window if policy.window else None,
        next_attempt_at=now,
        queued_at=now,
    )


def enqueue(*, channel: str, payload: dict, summary: str, ref: str = "") -> OutboxMessage:
    """Write one outbox row in the current transaction; its delivery is queued on commit."""
    return enqueue_many([Message(channel, payload, summary, ref)])[0]


def enqueue_many(items: Iterable[Message], *, fan_out: bool = False) -> list[OutboxMessage]:
    """
    ``enqueue`` for several rows in one INSERT. With ``fan_out`` (a batch job writing hundreds of
    rows) the commit sends **one** task for all of them (``outbox_fan_out``), and the worker that
    runs it queues each row's delivery: the writer pays one broker round trip per batch, not per row.
    """
    now = timezone.now()
    rows = [_new_row(item, now) for item in items]
    if not rows:
        return []
    rows = OutboxMessage.objects.bulk_create(rows)
    ids = [row.pk for row in rows]
    if fan_out and len(ids) > 1:
        _queue_batch(ids)
    else:
        _queue(ids)
    return rows


def enqueue_batch(items: Iterable[Message]) -> list[int]:
    """
    A batch job's rows (hundreds at a time, e.g. the ledger's daily reminders): what
    ``enqueue_many(items, fan_out=True)`` writes, returning only the ids in ``items``' order. On
    PostgreSQL the rows travel as one JSON document to one ``INSERT … SELECT FROM
    jsonb_to_recordset`` — no model instances, no per-value preparation, no ``UNNEST`` arrays
    escaped in Python (that cost about 1 s per 1,000 rows); elsewhere it is ``bulk_create``.
    """
    items = list(items)
    if not items:
        return []
    if connection.vendor != "postgresql":
        return [row.pk for row in enqueue_many(items, fan_out=True)]
    now = timezone.now()
    rows, keys = [], []
    for item in items:
        policy = get_channel(item.channel).policy
        key = str(uuid.uuid4())
        keys.append(key)
        rows.append(
            {
                "channel": item.channel,
                "key": key,
                "summary": item.summary[:200],
                "ref": item.ref[:64],
                "payload": item.payload,
                "max_attempts": policy.max_attempts,
                "retry_until": (now + policy.window).isoformat() if policy.window else None,
            }
        )
    table = connection.ops.quote_name(OutboxMessage._meta.db_table)
    with connection.cursor() as cursor:
        cursor.execute(
            f"INSERT INTO {table} (channel, key, summary, ref, payload, state, attempts, max_attempts, retry_until,"  # noqa: S608 (the model's table)
            " next_attempt_at, queued_at, last_error, created_at, updated_at)"
            " SELECT r.channel, r.key, r.summary, r.ref, r.payload, %(state)s, 0, r.max_attempts, r.retry_until,"
            " %(now)s, %(now)s, '', %(now)s, %(now)s"
            " FROM jsonb_to_recordset(%(rows)s::jsonb) AS r(channel text, key uuid, summary text, ref text,"
            " payload jsonb, max_attempts integer, retry_until timestamptz)"
            " RETURNING id, key",
            {"state": State.PENDING, "now": now, "rows": json.dumps(rows, cls=DjangoJSONEncoder, ensure_ascii=False)},
        )
        ids = {str(key): pk for pk, key in cursor.fetchall()}
    ordered = [ids[key] for key in keys]
    if len(ordered) > 1:
        _queue_batch(ordered)
    else:
        _queue(ordered)
    return ordered


def _queue(ids: list[int], *, countdown: float | None = None) -> None:
    for pk in ids:
        celery.dispatch(outbox_deliver, pk, countdown=countdown)


def _queue_batch(ids: list[int]) -> None:
    celery.dispatch(outbox_fan_out, ids)


def fan_out(ids: list[int]) -> int:
    """
    The body of ``outbox_fan_out``: queue the delivery of each row still pending (one task each, so
    deliveries spread over the workers as usual). A row sent meanwhile by the re-drive is skipped by
    its own claim; a fan-out task that is lost leaves its rows to the re-drive. Returns how many.
    """
    pending = list(
        OutboxMessage.objects.filter(pk__in=ids, state=State.PENDING).order_by("pk").values_list("pk", flat=True)
    )
    for pk in pending:
        celery.send_now(outbox_deliver, pk)
    return len(pending)


# --- delivering ------------------------------------------------------------------------------------


def _clip(text: str) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= ERROR_MAX_LENGTH else text[: ERROR_MAX_LENGTH - 1] + "…"


def _claim(message_id: int, now: datetime.datetime) -> tuple[uuid.UUID, bool] | None:
    """Take the row for this worker: (claim, interrupted) or None when it is not ours to send."""
    claim = uuid.uuid4()
    lease = now + datetime.timedelta(seconds=settings.OUTBOX_LEASE_SECONDS)
    taken = {"state": State.SENDING, "claim": claim, "lease_until": lease, "attempts": F("attempts") + 1}
    rows = OutboxMessage.objects.filter(pk=message_id)
    if rows.filter(state=State.PENDING, next_attempt_at__lte=now).update(**taken, updated_at=now):
        return claim, False
    # A row left "sending" by a worker that died: its lease ran out, so nobody else holds it.
    if rows.filter(state=State.SENDING, lease_until__lt=now).update(**taken, updated_at=now):
        return claim, True
    return None


def deliver(message_id: int) -> str:
    """
    One delivery attempt of a row (the task body). Returns what happened: ``skipped`` (not due,
    already final, or held by another worker), ``delivered``, ``retry`` or ``failed``.
    """
    now = timezone.now()
    claimed = _claim(message_id, now)
    if claimed is None:
        return "skipped"
    claim, interrupted = claimed
    message = OutboxMessage.objects.get(pk=message_id)
    if interrupted:
        OutboxAttempt.objects.create(
            message=message,
            number=message.attempts - 1,
            started_at=now,
            outcome=OutboxAttempt.Outcome.INTERRUPTED,
            error="上次发送时工作进程退出，结果未知",
        )
        if message.attempts > message.max_attempts:
            return _record(message, claim, now, 0, outcome=State.FAILED, error="发送中断且尝试次数已用尽")
    try:
        channel = get_channel(message.channel)
    except LookupError:
        return _record(message, claim, now, 0, outcome=State.FAILED, error=f"未注册的渠道：{message.channel}")

    started = time.monotonic()
    outcome, error, code, delay = State.DELIVERED, "", None, None
    try:
        result = channel.deliver(message)
        if isinstance(result, Delivered):
            error, code = result.note, result.response_code
    except Retry as exc:
        outcome, error, code, delay = State.PENDING, exc.error, exc.response_code, exc.delay
    except Fail as exc:
        outcome, error, code = State.FAILED, exc.error, exc.response_code
    except Exception as exc:
        # The class only: an exception's text may carry a URL with a token in it.
        logger.exception("outbox #%s (%s) crashed", message_id, message.channel)
        outcome, error = State.PENDING, f"内部错误：{type(exc).__name__}"
    elapsed_ms = int((time.monotonic() - started) * 1000)

    if outcome == State.PENDING:
        wait = delay if delay is not None else channel.policy.delay(message.attempts)
        next_at = timezone.now() + datetime.timedelta(seconds=wait)
        out_of_time = message.retry_until is not None and next_at > message.retry_until
        if message.attempts >= message.max_attempts or out_of_time:
            return _record(message, claim, now, elapsed_ms, outcome=State.FAILED, error=error, code=code)
        return _record(message, claim, now, elapsed_ms, outcome=State.PENDING, error=error, code=code, next_at=next_at)
    return _record(message, claim, now, elapsed_ms, outcome=outcome, error=error, code=code)


_ATTEMPT_OUTCOME = {
    State.DELIVERED: OutboxAttempt.Outcome.DELIVERED,
    State.PENDING: OutboxAttempt.Outcome.RETRY,
    State.FAILED: OutboxAttempt.Outcome.FAILED,
}


def _record(message, claim, started_at, elapsed_ms, *, outcome, error="", code=None, next_at=None) -> str:
    now = timezone.now()
    error = _clip(error)
    fields = {"state": outcome, "lease_until": None, "claim": None, "last_response_code": code, "updated_at": now}
    if outcome == State.DELIVERED:
        fields.update(delivered_at=now, last_error=error if error else "")
    else:
        fields["last_error"] = error
    if next_at is not None:
        countdown = max(0.0, (next_at - now).total_seconds())
        fields.update(next_attempt_at=next_at, queued_at=next_at if countdown <= COUNTDOWN_MAX_SECONDS else now)
    with transaction.atomic():
        OutboxAttempt.objects.create(
            message=message,
            number=message.attempts,
            started_at=started_at,
            duration_ms=elapsed_ms,
            outcome=_ATTEMPT_OUTCOME[outcome],
            response_code=code,
            error=error,
        )
        # Only the holder of the claim writes the result: a worker whose lease ran out and was
        # taken over must not overwrite the newer attempt.
        if not OutboxMessage.objects.filter(pk=message.pk, claim=claim).update(**fields):
            logger.warning("outbox #%s: lease lost during the attempt; result not recorded", message.pk)
            return "skipped"
        if outcome == State.FAILED:
            for name, value in fields.items():
                setattr(message, name, value)
            channel = _CHANNELS.get(message.channel)
            if channel is not None and channel.on_failed is not None:
                channel.on_failed(message)
        if next_at is not None:
            countdown = (next_at - now).total_seconds()
            if countdown <= COUNTDOWN_MAX_SECONDS:
                _queue([message.pk], countdown=max(countdown, 0.001))
    if outcome == State.FAILED:
        logger.warning(
            "outbox #%s (%s) failed for good after %s attempts", message.pk, message.channel, message.attempts
        )
    return {State.DELIVERED: "delivered", State.PENDING: "retry", State.FAILED: "failed"}[outcome]


# --- re-drive and retry ----------------------------------------------------------------------------


def due_for_redrive(now: datetime.datetime | None = None):
    """Rows whose task is presumed lost: pending, due and queued long ago; or sending past their lease."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.OUTBOX_REDRIVE_GRACE)
    return OutboxMessage.objects.filter(
        Q(state=State.PENDING, next_attempt_at__lte=now, queued_at__lte=stale)
        | Q(state=State.SENDING, lease_until__lt=now)
    )


def redrive(now: datetime.datetime | None = None) -> int:
    """Queue again up to ``OUTBOX_REDRIVE_BATCH`` rows whose task was lost; returns how many."""
    now = now or timezone.now()
    ids = list(
        due_for_redrive(now).order_by("next_attempt_at").values_list("pk", flat=True)[: settings.OUTBOX_REDRIVE_BATCH]
    )
    if not ids:
        return 0
    OutboxMessage.objects.filter(pk__in=ids, state=State.PENDING).update(queued_at=now)
    for pk in ids:
        celery.send_now(outbox_deliver, pk)
    logger.info("outbox re-drive queued %s rows", len(ids))
    return len(ids)


def retry(queryset, *, include_delivered: bool = False) -> int:
    """
    Give final rows a fresh set of attempts now (the back office's 重试 / 重新投递); returns how
    many. Delivered rows are sent again only with ``include_delivered`` and only on channels that
    allow it; rows still pending or sending are left alone.
    """
    now = timezone.now()
    states = [State.FAILED]
    if include_delivered:
        states.append(State.DELIVERED)
    count = 0
    with transaction.atomic():
        rows = list(queryset.filter(state__in=states).select_for_update())
        ids = []
        for row in rows:
            channel = _CHANNELS.get(row.channel)
            if channel is None or (row.state == State.DELIVERED and not channel.redeliverable):
                continue
            policy = channel.policy
            OutboxMessage.objects.filter(pk=row.pk).update(
                state=State.PENDING,
                max_attempts=row.attempts + policy.max_attempts,
                retry_until=now + policy.window if policy.window else None,
                next_attempt_at=now,
                queued_at=now,
                lease_until=None,
                claim=None,
                updated_at=now,
            )
            ids.append(row.pk)
            count += 1
        _queue(ids)
    return count


# The Celery tasks keep the names they were first declared under (``shanqian.tasks.*``): queued
# messages and ``CELERY_BEAT_SCHEDULE`` name them. The time limits are a backstop only: every send
# has its own, shorter, network deadline.
@shared_task(name="shanqian.tasks.outbox_deliver", ignore_result=True, soft_time_limit=120, time_limit=150)
def outbox_deliver(message_id: int) -> str:
    return deliver(message_id)


@shared_task(name="shanqian.tasks.outbox_fan_out", ignore_result=True, soft_time_limit=120, time_limit=150)
def outbox_fan_out(message_ids: list[int]) -> int:
    return fan_out(message_ids)
