"""Platform lookup by ``X-platform-code``, cached and invalidated when staff edit a platform."""

from django.core.cache import cache
from django.db.models.signals import post_delete, post_save
from django.dispatch import receiver

from .models import Platform

_CACHE_TTL = 300
_MISSING = "missing"


def _key(code: str) -> str:
    return f"platform:{code}"


def get_enabled_platform(code: str) -> Platform | None:
    cached = cache.get(_key(code))
    if cached == _MISSING:
        return None
    if cached is not None:
        return cached
    platform = Platform.objects.filter(code=code, enabled=True).first()
    cache.set(_key(code), platform if platform is not None else _MISSING, _CACHE_TTL)
    return platform


@receiver([post_save, post_delete], sender=Platform)
def _forget_platform(sender, instance, **kwargs):
    cache.delete(_key(instance.code))
