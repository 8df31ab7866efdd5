"""
Celery tasks of the shared machinery, as the worker's autodiscovery finds them (``shanqian.tasks``).

Outbox delivery and fan-out live beside their code in ``shanqian.outbox``, the bulk-job runner in
``shanqian.bulk``; this module imports them so every worker registers them, and holds the one
periodic task that re-drives both kinds of durable work (``CELERY_BEAT_SCHEDULE`` names it).
"""

from celery import shared_task

from . import bulk, outbox
from .bulk import bulk_run
from .outbox import outbox_deliver, outbox_fan_out

__all__ = ["bulk_run", "outbox_deliver", "outbox_fan_out", "outbox_redrive"]


@shared_task(name="shanqian.tasks.outbox_redrive", ignore_result=True, soft_time_limit=120, time_limit=150)
def outbox_redrive() -> int:
    # One periodic task re-drives both kinds of durable work.
    return outbox.redrive() + bulk.redrive()
