"""
Issue 15, finding 10: sessions never ended — no logout, and every login added a 30-day token.
``POST /api/weixin/logout`` revokes the calling token; a user holds at most
``SESSION_TOKENS_PER_USER`` live tokens, the oldest revoked first (SPEC §4.1).
"""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from employees.models import SessionToken, WechatUser
from shanqian.cache import breaker
from tests.envelope import assert_error, assert_ok
from tests.support.parallel import fire, post_retrying, row_locking_database_or_skip
from tests.support.servers import redis_url_or_skip

pytestmark = pytest.mark.django_db

LOGIN, LOGOUT, STATUS = "/api/weixin/login", "/api/weixin/logout", "/api/em_status"


def _login(api, code="same-device-owner") -> str:
    return assert_ok(api.post(LOGIN, {"code": code}))["session_token"]


def _as(platform, token) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=token)
    return client


def test_logout_revokes_the_calling_token_only(api, platform, fake_wechat):
    phone_a, phone_b = _login(api), _login(api)

    assert assert_ok(_as(platform, phone_a).post(LOGOUT)) is None

    assert_error(_as(platform, phone_a).get(STATUS), 401, 40100)
    assert_error(_as(platform, phone_a).post(LOGOUT), 401, 40100)
    assert_ok(_as(platform, phone_b).get(STATUS))
    assert SessionToken.objects.filter(revoked_at__isnull=False).count() == 1


def test_logout_needs_a_token(api):
    assert_error(api.post(LOGOUT), 401, 40100)


def test_a_user_holds_at_most_the_cap_of_live_tokens_the_oldest_revoked_first(api, platform, fake_wechat, settings):
    settings.SESSION_TOKENS_PER_USER = 5
    tokens = [_login(api) for _ in range(7)]

    for old in tokens[:2]:
        assert_error(_as(platform, old).get(STATUS), 401, 40100)
    for live in tokens[2:]:
        assert_ok(_as(platform, live).get(STATUS))
    user = WechatUser.objects.get()
    assert user.tokens.filter(revoked_at__isnull=True).count() == 5
    assert user.tokens.count() == 7  # revoked, not deleted: the purge removes them later


def test_the_cap_is_per_user(api, platform, fake_wechat, settings):
    settings.SESSION_TOKENS_PER_USER = 1
    first = _login(api, "user-one")
    _login(api, "user-two")

    assert_ok(_as(platform, first).get(STATUS))


def test_logout_reaches_every_instance_through_the_shared_cache(api, platform, fake_wechat, settings):
    """A token cached by another instance is tombstoned: refused at once, not after TOKEN_CACHE_TTL."""
    url = redis_url_or_skip(db_number=10)
    breaker.reset()
    caches = {"default": {"BACKEND": "shanqian.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": "logout-test"}}
    with override_settings(CACHES=caches, TOKEN_CACHE_TTL=60):
        from django.core.cache import cache

        token = _login(api)
        assert_ok(_as(platform, token).get(STATUS))  # now cached

        assert_ok(_as(platform, token).post(LOGOUT))

        assert_error(_as(platform, token).get(STATUS), 401, 40100)
        cache.clear()


def test_parallel_logins_of_one_user_never_leave_more_than_the_cap(live_server, platform, fake_wechat, settings):
    """The cap is applied under a lock on the user row: 20 parallel logins leave exactly 5 live tokens."""
    row_locking_database_or_skip()
    settings.SESSION_TOKENS_PER_USER = 5
    headers = {"X-platform-code": platform.code}
    post_retrying(f"{live_server.url}{LOGIN}", data={"code": "racer"}, headers=headers)

    answers = fire(20, lambda i: post_retrying(f"{live_server.url}{LOGIN}", data={"code": "racer"}, headers=headers))

    assert [a.json()["status"] for a in answers] == [0] * 20
    user = WechatUser.objects.get()
    assert user.tokens.filter(revoked_at__isnull=True).count() == 5
