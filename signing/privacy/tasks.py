"""The daily purge (Celery beat, ``CELERY_BEAT_SCHEDULE["purge-expired"]``; ``manage.py purge_expired``)."""

from celery import shared_task

from employees.services.identity import identity_purge

from .retention import applicant_purge, retained_purge, upload_purge


@shared_task(name="signing.privacy.tasks.purge_expired", ignore_result=True)
def purge_expired() -> dict:
    """Expired sessions and codes, applicants past ``APPLICANT_RETENTION_DAYS``, data kept until its date,
    uploads nothing refers to past ``UPLOAD_UNUSED_RETENTION_DAYS``."""
    return {
        "identity": identity_purge(),
        "applicants": applicant_purge(),
        "retained": retained_purge(),
        "uploads": upload_purge(),
    }
