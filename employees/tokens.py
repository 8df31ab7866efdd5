"""
Session tokens (SPEC §8): 32 bytes from a CSPRNG, handed to the client once,
stored only as a SHA-256 digest, expiring, revocable, bound to one platform.

Resolving a token is on every authenticated request, so with a shared cache
(Redis: ``TOKEN_CACHE_TTL`` seconds, default 60; off with the process-local
cache, which other instances could not invalidate) the digest maps to
``(token id, user id, platform id, expiry)`` in the cache. The user comes back
as an instance holding only ``id`` and ``platform_id``: any other field is read
from the database when first touched (Django's deferred fields), so it is never
stale — and the many views that need only ``request.user.pk`` run no user query.

A user holds at most ``SESSION_TOKENS_PER_USER`` live tokens: a new login revokes the oldest
beyond that. ``POST /api/weixin/logout`` revokes the calling token.

Revocation takes effect at once on every instance: ``revoke_tokens`` (and a
deleted token row) overwrites the cache entry with a tombstone, and readers
fill the cache only with ``cache.add``, so a reader that looked the token up
just before the revocation cannot put the live entry back.

Redis outage (issue 15): resolving reads the database when the cache is unreachable (the
database is the truth; nothing is cached meanwhile). Revoking *needs* the cache — a tombstone
that could not be written would let an instance keep serving a cached live entry after Redis
comes back — so ``revoke_tokens`` raises ``CacheUnavailable`` (503) and its database change
rolls back with it.
"""

import contextlib
import hashlib
import secrets
from datetime import UTC, datetime

from django.conf import settings
from django.core.cache import cache
from django.db import transaction
from django.db.models.signals import post_delete
from django.dispatch import receiver
from django.utils import timezone

from shanqian.cache import CacheUnavailable

from .models import SessionToken, WechatUser

_MISSING = "x"


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def _key(token_digest: str) -> str:
    return f"token:{token_digest}"


def issue_token(*, user: WechatUser, ip: str | None = None, user_agent: str = "") -> str:
    """
    Create a session for ``user`` and return the raw token (never stored).

    A user holds at most ``SESSION_TOKENS_PER_USER`` live tokens (SPEC §4.1): the oldest beyond
    that are revoked in the same transaction, under a lock on the user row, so parallel logins
    of one user cannot leave more behind.
    """
    raw = secrets.token_urlsafe(32)
    now = timezone.now()
    with transaction.atomic():
        WechatUser.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
        token = SessionToken.objects.create(
            user=user,
            digest=digest(raw),
            expires_at=now + settings.SESSION_TOKEN_TTL,
            ip=ip,
            user_agent=user_agent[:512],
        )
        live = SessionToken.objects.filter(user=user, revoked_at__isnull=True, expires_at__gt=now).exclude(pk=token.pk)
        keep = max(1, settings.SESSION_TOKENS_PER_USER) - 1
        excess = list(live.order_by("-created_at", "-pk").values_list("pk", flat=True)[keep:])
        if excess:
            revoke_tokens(SessionToken.objects.filter(pk__in=excess))
    return raw


def _lookup(token_digest: str, now: datetime):
    """``(token id, user id, platform id, expiry timestamp)`` of a live token, or _MISSING."""
    row = (
        SessionToken.objects.filter(digest=token_digest, revoked_at__isnull=True, expires_at__gt=now)
        .values_list("pk", "user_id", "user__platform_id", "expires_at")
        .first()
    )
    return _MISSING if row is None else (row[0], row[1], row[2], row[3].timestamp())


def resolve_token(raw: str, *, platform) -> SessionToken | None:
    """The live token for ``raw`` on ``platform``, with its user; None when unknown, expired, revoked or foreign."""
    if platform is None or len(raw) > 128:
        return None
    token_digest, now = digest(raw), timezone.now()
    ttl = settings.TOKEN_CACHE_TTL
    try:
        entry = cache.get(_key(token_digest)) if ttl else None
    except CacheUnavailable:
        entry, ttl = None, 0
    if entry is None:
        entry = _lookup(token_digest, now)
        if ttl:
            with contextlib.suppress(CacheUnavailable):
                cache.add(_key(token_digest), entry, ttl)
    if entry == _MISSING:
        return None
    token_id, user_id, platform_id, expires = entry
    if platform_id != platform.pk or expires <= now.timestamp():
        return None
    # A deleted user's tokens are deleted with it (and tombstoned), so the user exists.
    user = WechatUser.from_db(None, ["id", "platform_id"], (user_id, platform_id))
    token = SessionToken(
        pk=token_id, user_id=user_id, digest=token_digest, expires_at=datetime.fromtimestamp(expires, UTC)
    )
    token.user = user
    return token


def forget_tokens(digests) -> None:
    """Tombstone cached lookups of ``digests`` now and again after the caller's commit."""
    keys = [_key(d) for d in digests]
    if not keys or not settings.TOKEN_CACHE_TTL:
        return
    tombstones = dict.fromkeys(keys, _MISSING)
    # Longer than any entry a reader may still add; only known-dead digests are written.
    ttl = 2 * settings.TOKEN_CACHE_TTL
    cache.set_many(tombstones, ttl)
    transaction.on_commit(lambda: _tombstone_again(tombstones, ttl))


def _tombstone_again(tombstones: dict, ttl: int) -> None:
    # After the commit nothing can be rolled back: the first write above already holds.
    with contextlib.suppress(CacheUnavailable):
        cache.set_many(tombstones, ttl)


def revoke_tokens(queryset) -> int:
    """Revoke the live tokens of ``queryset``; every instance refuses them from the next request."""
    with transaction.atomic():
        live = queryset.filter(revoked_at__isnull=True)
        digests = list(live.values_list("digest", flat=True))
        count = SessionToken.objects.filter(digest__in=digests, revoked_at__isnull=True).update(
            revoked_at=timezone.now()
        )
        forget_tokens(digests)
    return count


@receiver(post_delete, sender=SessionToken, dispatch_uid="session_token_forget")
def _token_deleted(sender, instance, **kwargs):
    forget_tokens([instance.digest])
