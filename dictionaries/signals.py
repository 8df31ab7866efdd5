"""Staff edits (admin, shell) invalidate the cached reference data; bulk loaders do it themselves."""

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Dictionary, Region
from .selectors import dictionary_cache_clear, region_cache_clear


@receiver([post_save, post_delete], sender=Dictionary, dispatch_uid="dictionary_cache_clear")
def _dictionary_changed(sender, **kwargs):
    # After commit, so a reader cannot re-cache the old rows in between; at once outside a transaction.
    transaction.on_commit(dictionary_cache_clear)


@receiver([post_save, post_delete], sender=Region, dispatch_uid="region_cache_clear")
def _region_changed(sender, **kwargs):
    transaction.on_commit(region_cache_clear)
