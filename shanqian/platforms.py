"""
Platform lookup by ``X-platform-code`` (every ``/api`` request), cached and invalidated when staff edit a platform.

Two layers:

* the shared cache (Redis in production), ``_CACHE_TTL`` seconds, deleted by the save/delete signal, so
  every instance sees an edit on its next miss;
* a tiny per-process memo in front of it, ``PLATFORM_MEMO_SECONDS`` (default 2, 0 turns it off), which
  saves a Redis round trip on nearly every request. The process that saves the platform forgets its memo
  at once; **other processes keep using what they memoised for at most PLATFORM_MEMO_SECONDS**: a platform
  disabled (or given a new secret) in the back office stops working everywhere within that bound. Only
  enabled platforms are memoised (a flood of unknown codes cannot grow it, and a new platform is
  found at once); the memo holds at most ``_MEMO_MAX`` codes and hands out a fresh copy each time.

When the shared cache is unreachable the lookup reads the database (the source of truth) and
writes nothing to the cache, so every request keeps its platform through a Redis outage.
"""

import contextlib
import time

from django.conf import settings
from django.core.cache import cache
from django.db.models.signals import post_delete, post_save, pre_save
from django.dispatch import receiver

from .cache import CacheUnavailable
from .models import Platform

_CACHE_TTL = 300
_MISSING = "missing"
_MEMO_MAX = 64
_memo: dict[str, tuple[float, tuple]] = {}
_FIELDS = tuple(field.attname for field in Platform._meta.concrete_fields)


def _key(code: str) -> str:
    return f"platform:{code}"


def get_enabled_platform(code: str) -> Platform | None:
    memo_seconds = settings.PLATFORM_MEMO_SECONDS
    if memo_seconds > 0:
        hit = _memo.get(code)
        if hit is not None and hit[0] > time.monotonic():
            # A fresh instance each time: requests never share one mutable object.
            return Platform.from_db("default", _FIELDS, hit[1])
    platform = _shared_lookup(code)
    if platform is not None and memo_seconds > 0:
        if len(_memo) >= _MEMO_MAX:
            _memo.clear()
        _memo[code] = (time.monotonic() + memo_seconds, tuple(getattr(platform, name) for name in _FIELDS))
    return platform


def _shared_lookup(code: str) -> Platform | None:
    try:
        cached = cache.get(_key(code))
    except CacheUnavailable:
        return Platform.objects.filter(code=code, enabled=True).first()
    if cached == _MISSING:
        return None
    if cached is not None:
        return cached
    platform = Platform.objects.filter(code=code, enabled=True).first()
    with contextlib.suppress(CacheUnavailable):
        cache.set(_key(code), platform if platform is not None else _MISSING, _CACHE_TTL)
    return platform


def forget_memo() -> None:
    """Drop this process's memo (tests; the signal below does it on every platform edit)."""
    _memo.clear()


@receiver(pre_save, sender=Platform)
def _forget_old_code(sender, instance, **kwargs):
    # A rename must retire the old code at once, not when its cache entry expires.
    if instance.pk:
        old = Platform.objects.filter(pk=instance.pk).values_list("code", flat=True).first()
        if old and old != instance.code:
            cache.delete(_key(old))


@receiver([post_save, post_delete], sender=Platform)
def _forget_platform(sender, instance, **kwargs):
    cache.delete(_key(instance.code))
    # All codes, not just this one: the edit may have renamed the platform.
    forget_memo()
