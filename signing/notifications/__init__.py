"""
Notifications (SPEC §11): what is told to whom on which event — the worker (WeChat subscribe
message, else SMS), HR (email, 企业微信 group robot) and downstream systems (signed webhooks).

How another app emits one, always **inside the transaction of the change it reports**::

    from signing.notifications import HrNotice, WebhookEvent, WorkerNotice, services as notify

    notify.notify_worker(application=app, kind=WorkerNotice.CONTRACT_EXPIRING, values={"end_date": end})
    notify.notify_hr(application=app, kind=HrNotice.PROBATION_ENDING, values={"probation_end": "2027-03-01"})
    notify.emit_webhook(platform_id=pid, event=WebhookEvent.CONTRACT_ENDED, data={"application_id": app.pk})
    notify.contract_ended(application=app, ended_on=day, ground="期满终止", contract_id=record.pk)

Each writes outbox rows (``shanqian.outbox``) that are delivered by Celery after commit, retried
with backoff, and visible in the back office (发件箱). Kinds and the values a notice carries are in
``catalog``; the state machine calls ``services.on_status_changed`` itself.
"""

from .catalog import HrNotice, WebhookEvent, WorkerNotice

__all__ = ["HrNotice", "WebhookEvent", "WorkerNotice"]
