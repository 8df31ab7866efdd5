"""
``manage.py outbox_redrive``: queue again the outbox rows and bulk jobs whose task was lost — what
Celery beat does every ``OUTBOX_REDRIVE_SECONDS``. Without a broker (the embedded default) the
work then runs here, in this process; run it by hand (or from cron) when no beat is running.
"""

from django.core.management.base import BaseCommand

from shanqian import bulk, outbox


class Command(BaseCommand):
    help = "重新投递丢失任务的待发消息与批量任务（与 Celery beat 的周期任务相同）。"

    def handle(self, *args, **options):
        messages = outbox.redrive()
        jobs = bulk.redrive()
        self.stdout.write(f"re-queued {messages} outbox messages and {jobs} bulk jobs")
