"""Celery tasks of the signing app (autodiscovered as ``signing.tasks``); each lives with its part."""

from .ledger.tasks import ledger_daily
from .privacy.tasks import purge_expired

__all__ = ["ledger_daily", "purge_expired"]
