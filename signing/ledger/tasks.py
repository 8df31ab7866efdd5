"""The ledger's periodic work (Celery beat, ``CELERY_BEAT_SCHEDULE["ledger-daily"]``)."""

from celery import shared_task

from .services import ledger_daily as run


@shared_task(name="signing.ledger.tasks.ledger_daily", ignore_result=True)
def ledger_daily() -> dict:
    """Once a day: terms that ran out → 已到期, then the reminders (each sent once)."""
    return run()
