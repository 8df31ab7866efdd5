"""
Bulk actions as background jobs (SPEC §11): a back-office action on more than
``BULK_INLINE_LIMIT`` rows becomes a ``BulkJob`` with one ``BulkJobItem`` per row.

Contract:

* An app registers what one row's work is: ``register(BulkAction(name=…, label=…, perform=…))``
  (from its ``AppConfig.ready``). ``perform(object_id, params, user)`` does the row's work through
  the app's services and returns a short message; it raises ``shanqian.errors.ApiError`` to fail
  the row with that error's Chinese message. ``params`` is JSON (what the action's form chose).
  ``finish(job, done_ids)`` (optional) runs once at the end and may return the storage name of a
  result file (an export).
* ``start(action=…, rows=…, params=…, user=…)`` writes the job and its items in one transaction
  and queues ``BULK_JOB_CONCURRENCY`` runners at most (``shanqian.tasks.bulk_run``) on commit.
  The admin then redirects to the job's progress page (``progress_url``).
* **Exactly once per row**: a runner takes one pending item with
  ``select_for_update(skip_locked=True)`` and, in that same transaction, performs the row and
  marks the item done or failed. A runner killed mid-row rolls back both, so the row is still
  pending and is taken again; two runners never take the same item. (SQLite has no row locks:
  there one process runs the job, eagerly.)
* Runners renew the job's lease while they work; ``redrive`` (called by the periodic outbox
  re-drive) queues runners for jobs whose lease ran out — every runner died — or whose runners
  never started (a lost task).
"""

from __future__ import annotations

import datetime
import logging
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass

from celery import shared_task
from django.conf import settings
from django.db import transaction
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone

from . import celery  # the module, not its names: celery.send_now is looked up at call time
from .errors import ApiError, error_text
from .models import BulkJob, BulkJobItem

logger = logging.getLogger("shanqian.bulk")

ROWS_PER_RUNNER = 50
LABEL_MAX_LENGTH = 100
MESSAGE_MAX_LENGTH = 300


@dataclass(frozen=True)
class BulkAction:
    name: str
    label: str
    perform: Callable[[int, dict, object], str]
    finish: Callable[[BulkJob, list[int]], str] | None = None


_ACTIONS: dict[str, BulkAction] = {}


def register(action: BulkAction) -> BulkAction:
    _ACTIONS[action.name] = action
    return action


def get_action(name: str) -> BulkAction:
    try:
        return _ACTIONS[name]
    except KeyError:
        raise LookupError(f"no bulk action {name!r} is registered") from None


def inline_limit() -> int:
    return settings.BULK_INLINE_LIMIT


def runs_inline(count: int) -> bool:
    """Whether an action on ``count`` rows runs inside the request (else it becomes a job)."""
    return count <= settings.BULK_INLINE_LIMIT


def _clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


# --- starting ----------------------------------------------------------------------------------------


def start(
    *,
    action: str,
    rows: Sequence[tuple[int, str]],
    params: dict,
    user,
    return_url: str = "",
) -> BulkJob:
    """A new job over ``rows`` (``(object_id, label)`` each, label shown on the progress page)."""
    spec = get_action(action)
    seen = set()
    unique_rows = [(pk, label) for pk, label in rows if not (pk in seen or seen.add(pk))]
    if not unique_rows:
        raise ValueError("a bulk job needs at least one row")
    with transaction.atomic():
        job = BulkJob.objects.create(
            action=spec.name,
            label=spec.label,
            params=params,
            created_by=user,
            total=len(unique_rows),
            return_url=return_url[:500],
        )
        BulkJobItem.objects.bulk_create(
            [BulkJobItem(job=job, object_id=pk, label=_clip(label, LABEL_MAX_LENGTH)) for pk, label in unique_rows],
            batch_size=1000,
        )
        _queue_runners(job)
    return job


def _runner_count(total: int) -> int:
    return max(1, min(settings.BULK_JOB_CONCURRENCY, -(-total // ROWS_PER_RUNNER)))


def _queue_runners(job: BulkJob, *, now_only: bool = False) -> None:
    # In eager mode the first runner does the whole job inline; more would find nothing left.
    count = 1 if _eager() else _runner_count(job.total)
    for _ in range(count):
        if now_only:
            celery.send_now(bulk_run, job.pk)
        else:
            celery.dispatch(bulk_run, job.pk)


def _eager() -> bool:
    return bool(celery.app.conf.task_always_eager)


def progress_url(job: BulkJob) -> str:
    return reverse("admin:shanqian_bulkjob_change", args=[job.pk])


# --- running -----------------------------------------------------------------------------------------


def _lease(now: datetime.datetime) -> datetime.datetime:
    return now + datetime.timedelta(seconds=settings.BULK_JOB_LEASE_SECONDS)


def run(job_id: int) -> str:
    """A runner: take pending items one by one until none is left; the last runner finishes the job."""
    job = BulkJob.objects.select_related("created_by").filter(pk=job_id).first()
    if job is None or job.state == BulkJob.State.FINISHED:
        return "skipped"
    spec = get_action(job.action)
    now = timezone.now()
    BulkJob.objects.filter(pk=job.pk, state=BulkJob.State.PENDING).update(state=BulkJob.State.RUNNING, started_at=now)
    BulkJob.objects.filter(pk=job.pk).update(lease_until=_lease(now))
    renew_at = now + datetime.timedelta(seconds=settings.BULK_JOB_LEASE_SECONDS / 4)
    processed = 0
    while _run_one(job, spec):
        processed += 1
        now = timezone.now()
        if now >= renew_at:
            BulkJob.objects.filter(pk=job.pk).update(lease_until=_lease(now))
            renew_at = now + datetime.timedelta(seconds=settings.BULK_JOB_LEASE_SECONDS / 4)
    _finish(job, spec)
    return f"processed {processed}"


def _run_one(job: BulkJob, spec: BulkAction) -> bool:
    with transaction.atomic():
        item = (
            BulkJobItem.objects.select_for_update(skip_locked=True)
            .filter(job_id=job.pk, state=BulkJobItem.State.PENDING)
            .order_by("pk")
            .first()
        )
        if item is None:
            return False
        try:
            # A savepoint: a failing row's own writes roll back, its item is still marked.
            with transaction.atomic():
                message = spec.perform(item.object_id, job.params, job.created_by)
        except ApiError as exc:
            item.state, item.message = BulkJobItem.State.FAILED, error_text(exc)
        except Exception:
            logger.exception("bulk job #%s (%s): row %s crashed", job.pk, job.action, item.object_id)
            item.state, item.message = BulkJobItem.State.FAILED, "处理出错（已记录日志），未作修改"
        else:
            item.state, item.message = BulkJobItem.State.DONE, message or "成功"
        item.message = _clip(item.message, MESSAGE_MAX_LENGTH)
        item.processed_at = timezone.now()
        item.save(update_fields=["state", "message", "processed_at"])
    return True


def _finish(job: BulkJob, spec: BulkAction) -> None:
    with transaction.atomic():
        locked = BulkJob.objects.select_for_update().filter(pk=job.pk).first()
        if locked is None or locked.state == BulkJob.State.FINISHED:
            return
        # Another runner may still hold an item (locked, so skipped above): it finishes the job.
        if locked.items.filter(state=BulkJobItem.State.PENDING).exists():
            return
        fields = ["state", "finished_at", "lease_until"]
        if spec.finish is not None:
            done_ids = list(
                locked.items.filter(state=BulkJobItem.State.DONE).order_by("pk").values_list("object_id", flat=True)
            )
            locked.result_file = spec.finish(locked, done_ids) or ""
            fields.append("result_file")
        locked.state, locked.finished_at, locked.lease_until = BulkJob.State.FINISHED, timezone.now(), None
        locked.save(update_fields=fields)


def redrive(now: datetime.datetime | None = None) -> int:
    """Queue a runner for every unfinished job whose runners died or never started; returns how many."""
    now = now or timezone.now()
    stale = now - datetime.timedelta(seconds=settings.OUTBOX_REDRIVE_GRACE)
    jobs = list(
        BulkJob.objects.filter(
            Q(state=BulkJob.State.RUNNING, lease_until__lt=now) | Q(state=BulkJob.State.PENDING, queued_at__lte=stale)
        ).only("pk", "total")[:100]
    )
    for job in jobs:
        BulkJob.objects.filter(pk=job.pk).update(queued_at=now, lease_until=_lease(now))
        _queue_runners(job, now_only=True)
    if jobs:
        logger.info("bulk re-drive queued runners for %s jobs", len(jobs))
    return len(jobs)


# --- reading -----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Progress:
    total: int
    done: int
    failed: int

    @property
    def processed(self) -> int:
        return self.done + self.failed

    @property
    def pending(self) -> int:
        return max(0, self.total - self.processed)

    @property
    def percent(self) -> int:
        return 100 if not self.total else int(self.processed * 100 / self.total)


def progress(job: BulkJob) -> Progress:
    counts = job.items.aggregate(
        done=Count("pk", filter=Q(state=BulkJobItem.State.DONE)),
        failed=Count("pk", filter=Q(state=BulkJobItem.State.FAILED)),
    )
    return Progress(total=job.total, done=counts["done"], failed=counts["failed"])


def perform_inline(action: str, rows: Iterable[int], params: dict, user) -> list[tuple[int, bool, str]]:
    """Run ``action`` on a few rows inside the request, the same way a job would: (id, ok, message)."""
    spec = get_action(action)
    results = []
    for pk in rows:
        try:
            with transaction.atomic():
                message = spec.perform(pk, params, user)
        except ApiError as exc:
            results.append((pk, False, error_text(exc)))
        else:
            results.append((pk, True, message or "成功"))
    return results


# Named ``shanqian.tasks.bulk_run`` since it was first declared there (queued messages name it).
@shared_task(name="shanqian.tasks.bulk_run", ignore_result=True)
def bulk_run(job_id: int) -> str:
    return run(job_id)
