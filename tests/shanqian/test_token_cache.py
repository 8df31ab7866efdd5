"""The token cache (employees.tokens): lookups are cached, revocation and deletion are immediate."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from employees.models import SessionToken, WechatUser
from employees.tokens import issue_token, resolve_token, revoke_tokens
from tests.factories import PlatformFactory, WechatUserFactory

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def token_cache(settings):
    settings.TOKEN_CACHE_TTL = 60


@pytest.fixture
def user_and_token(platform):
    user = WechatUserFactory(platform=platform, verify_status=0)
    return user, issue_token(user=user)


def queries(fn):
    with CaptureQueriesContext(connection) as ctx:
        result = fn()
    return result, len(ctx.captured_queries)


def test_second_lookup_needs_no_query_and_the_user_loads_fresh(platform, user_and_token):
    user, raw = user_and_token
    resolve_token(raw, platform=platform)

    token, count = queries(lambda: resolve_token(raw, platform=platform))

    assert count == 0
    assert token.user.pk == user.pk
    WechatUser.objects.filter(pk=user.pk).update(verify_status=2)
    assert token.user.verify_status == 2  # read when touched, never from the cache


def test_revocation_is_immediate_although_the_token_was_cached(platform, user_and_token, api):
    user, raw = user_and_token
    api.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=raw)
    assert api.get("/api/em_status").json()["status"] == 0

    assert revoke_tokens(SessionToken.objects.filter(user=user)) == 1

    assert resolve_token(raw, platform=platform) is None
    assert api.get("/api/em_status").json()["status"] == 40100


def test_a_reader_racing_the_revocation_cannot_put_the_token_back(platform, user_and_token, monkeypatch):
    from employees import tokens

    user, raw = user_and_token
    real_lookup = tokens._lookup

    def lookup_then_revoke(digest, now):
        entry = real_lookup(digest, now)  # read the live row...
        revoke_tokens(SessionToken.objects.filter(user=user))  # ...revoked before it reaches the cache
        return entry

    monkeypatch.setattr(tokens, "_lookup", lookup_then_revoke)
    resolve_token(raw, platform=platform)
    monkeypatch.setattr(tokens, "_lookup", real_lookup)

    assert resolve_token(raw, platform=platform) is None


def test_deleted_token_or_user_is_refused_at_once(platform, user_and_token):
    user, raw = user_and_token
    assert resolve_token(raw, platform=platform) is not None

    SessionToken.objects.filter(user=user).delete()

    assert resolve_token(raw, platform=platform) is None


def test_cached_token_stays_bound_to_its_platform_and_expiry(platform, user_and_token, monkeypatch):
    import datetime

    from django.utils import timezone

    _user, raw = user_and_token
    assert resolve_token(raw, platform=platform) is not None

    assert resolve_token(raw, platform=PlatformFactory(code="other")) is None
    later = timezone.now() + datetime.timedelta(days=400)
    monkeypatch.setattr(timezone, "now", lambda: later)
    _token, count = queries(lambda: resolve_token(raw, platform=platform))
    assert _token is None and count == 0  # the cached expiry refuses it without the database
