"""Staff edits of a company (admin, shell) clear the cached company list."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Company
from .selectors import companies_cache_clear


@receiver([post_save, post_delete], sender=Company, dispatch_uid="companies_cache_clear")
def _company_changed(sender, **kwargs):
    # After commit, so a reader cannot re-cache the old list in between; at once outside a transaction.
    transaction.on_commit(companies_cache_clear)
