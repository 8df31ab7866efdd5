"""
Celery tasks of the shared machinery: outbox delivery, fan-out and re-drive, bulk-job runners and re-drive.

The task bodies live in ``shanqian.outbox`` and ``shanqian.bulk``; these are thin wrappers so a
worker can import them by name (``shanqian.tasks.<name>``, as ``CELERY_BEAT_SCHEDULE`` names them).
The time limits are a backstop only: every send has its own, shorter, network deadline.
"""

from celery import shared_task


@shared_task(name="shanqian.tasks.outbox_deliver", ignore_result=True, soft_time_limit=120, time_limit=150)
def outbox_deliver(message_id: int) -> str:
    from . import outbox

    return outbox.deliver(message_id)


@shared_task(name="shanqian.tasks.outbox_fan_out", ignore_result=True, soft_time_limit=120, time_limit=150)
def outbox_fan_out(message_ids: list[int]) -> int:
    from . import outbox

    return outbox.fan_out(message_ids)


@shared_task(name="shanqian.tasks.outbox_redrive", ignore_result=True, soft_time_limit=120, time_limit=150)
def outbox_redrive() -> int:
    from . import bulk, outbox

    # One periodic task re-drives both kinds of durable work.
    return outbox.redrive() + bulk.redrive()


@shared_task(name="shanqian.tasks.bulk_run", ignore_result=True)
def bulk_run(job_id: int) -> str:
    from . import bulk

    return bulk.run(job_id)
