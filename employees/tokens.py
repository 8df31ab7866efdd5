"""
Session tokens (SPEC §8): 32 bytes from a CSPRNG, handed to the client once,
stored only as a SHA-256 digest, expiring, revocable, bound to one platform.
"""

import hashlib
import secrets

from django.conf import settings
from django.utils import timezone

from .models import SessionToken, WechatUser


def digest(raw: str) -> str:
    return hashlib.sha256(raw.encode("utf-8", "surrogatepass")).hexdigest()


def issue_token(*, user: WechatUser, ip: str | None = None, user_agent: str = "") -> str:
    """Create a session for ``user`` and return the raw token (never stored)."""
    raw = secrets.token_urlsafe(32)
    SessionToken.objects.create(
        user=user,
        digest=digest(raw),
        expires_at=timezone.now() + settings.SESSION_TOKEN_TTL,
        ip=ip,
        user_agent=user_agent[:512],
    )
    return raw


def resolve_token(raw: str, *, platform) -> SessionToken | None:
    """The live token for ``raw`` on ``platform``, with its user; None when unknown, expired, revoked or foreign."""
    if platform is None or len(raw) > 128:
        return None
    token = (
        SessionToken.objects.select_related("user")
        .filter(digest=digest(raw), revoked_at__isnull=True, expires_at__gt=timezone.now())
        .first()
    )
    if token is None or token.user.platform_id != platform.pk:
        return None
    return token


def revoke_tokens(queryset) -> int:
    return queryset.filter(revoked_at__isnull=True).update(revoked_at=timezone.now())
