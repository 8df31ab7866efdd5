"""
The Celery application (SPEC §11): ``celery -A shanqian worker`` and ``celery -A shanqian beat``.

Configuration comes from Django settings under the ``CELERY_`` prefix (``shanqian/settings.py``,
"Background work"); tasks live in the apps that own them (``<app>/tasks.py``, autodiscovered).

* **Broker** ``CELERY_BROKER_URL`` (default ``REDIS_URL``). Without one — the embedded default —
  ``task_always_eager`` is on and a task runs in the calling process.
* **Queueing** goes through ``dispatch(task, *args)``: the task is sent when the current
  transaction commits (never for a rolled-back one, never before the rows it reads are visible
  to a worker). A broker that is down does not fail the caller: the error is logged and the work
  stays in the database (an outbox row, a bulk-job item) for the periodic re-drive to pick up,
  and the process does not try the broker again for ``BROKER_RETRY_AFTER`` seconds.
* **Periodic work** is ``CELERY_BEAT_SCHEDULE`` in settings, one line per task.
"""

from __future__ import annotations

import logging
import os
import time

from celery import Celery
from django.db import transaction

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "shanqian.settings")

app = Celery("shanqian")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()

logger = logging.getLogger("shanqian.celery")


# After a failed send, this process stops trying for a while: one request that writes five
# notices must not wait five broker timeouts. The rows wait in the database for the re-drive.
BROKER_RETRY_AFTER = 10.0
_broker_down_until = 0.0


def send_now(task, *args, countdown: float | None = None) -> bool:
    """Send ``task`` at once; False (logged) when the broker cannot take it."""
    global _broker_down_until
    if not app.conf.task_always_eager and time.monotonic() < _broker_down_until:
        return False
    try:
        if countdown:
            task.apply_async(args=args, countdown=countdown)
        else:
            task.apply_async(args=args)
    except Exception as exc:  # kombu raises OperationalError, redis-py its own errors, sockets OSError
        logger.warning("could not queue %s (%s): left for the re-drive", task.name, type(exc).__name__)
        _broker_down_until = time.monotonic() + BROKER_RETRY_AFTER
        return False
    return True


def dispatch(task, *args, countdown: float | None = None) -> None:
    """Queue ``task(*args)`` once the current transaction commits (at once outside a transaction)."""
    # Eager mode ignores countdowns (it would run the task inline at once): a delayed retry there
    # waits for the re-drive instead.
    if countdown and app.conf.task_always_eager:
        return
    transaction.on_commit(lambda: send_now(task, *args, countdown=countdown), robust=True)
