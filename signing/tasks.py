"""Celery tasks of the signing app (autodiscovered as ``signing.tasks``); each lives with its part."""

from .ledger.tasks import ledger_daily

__all__ = ["ledger_daily"]
