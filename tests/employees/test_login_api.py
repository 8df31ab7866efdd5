"""POST /api/weixin/login (SPEC §4.1): code2Session, users, session tokens."""

import hashlib
import logging
from datetime import timedelta

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from responses import matchers
from rest_framework.test import APIClient

from employees.checks import identity_gateways_check
from employees.models import SessionToken, WechatUser
from employees.services import identity as services
from employees.tokens import digest
from employees.wechat import get_wechat_client
from shanqian.throttling import LoginThrottle
from tests.envelope import assert_error, assert_ok
from tests.factories import EmployeeFactory, PlatformFactory, WechatUserFactory, give_consents

pytestmark = pytest.mark.django_db

LOGIN = "/api/weixin/login"
CODE2SESSION = "https://api.weixin.qq.com/sns/jscode2session"
SESSION_KEY = "tiihtNczf5v6AKRyjwEUhQ=="


def wechat_replies(body=None, *, code="0a3Xcode", status=200, **kwargs):
    """Register code2Session answering ``body`` for exactly the query our client must send."""
    params = {
        "appid": "wx-test-appid",
        "secret": "wx-test-secret",
        "js_code": code,
        "grant_type": "authorization_code",
    }
    return responses.get(
        CODE2SESSION,
        json=body,
        status=status,
        match=[matchers.query_param_matcher(params), matchers.request_kwargs_matcher({"timeout": (3.0, 5.0)})],
        **kwargs,
    )


def no_rows():
    return WechatUser.objects.count() == 0 and SessionToken.objects.count() == 0


class TestWechatBackend:
    @responses.activate
    def test_first_login_creates_the_user_and_returns_a_token(self, api, platform, caplog):
        wechat_replies({"openid": "o-abc", "session_key": SESSION_KEY})

        with caplog.at_level(logging.DEBUG):
            response = api.post(LOGIN, {"code": "0a3Xcode"})

        data = assert_ok(response)
        assert data["em_id"] == 0
        assert len(data["session_token"]) >= 43
        user = WechatUser.objects.get()
        assert (user.platform, user.openid, user.session_key) == (platform, "o-abc", SESSION_KEY)
        assert user.last_login_at is not None
        token = SessionToken.objects.get()
        assert token.user == user
        assert token.digest == digest(data["session_token"]) != data["session_token"]
        assert token.ip == "127.0.0.1"
        assert token.expires_at > timezone.now() + timedelta(days=29)
        assert SESSION_KEY not in response.content.decode()
        assert SESSION_KEY not in caplog.text
        assert "wx-test-secret" not in caplog.text
        assert data["session_token"] not in caplog.text
        call = responses.calls[0].request
        assert call.method == "GET"
        assert call.url.startswith(CODE2SESSION + "?")

    @responses.activate
    def test_the_exact_request_sent_to_wechat(self, api, settings):
        settings.WECHAT_API_BASE = "https://wx.example.test/"
        settings.WECHAT_TIMEOUT = (1.5, 2.5)
        responses.get(
            "https://wx.example.test/sns/jscode2session",
            json={"openid": "o-abc", "session_key": SESSION_KEY},
            match=[
                matchers.query_param_matcher(
                    {
                        "appid": "wx-test-appid",
                        "secret": "wx-test-secret",
                        "js_code": "the/code+1=",
                        "grant_type": "authorization_code",
                    }
                ),
                matchers.request_kwargs_matcher({"timeout": (1.5, 2.5)}),
            ],
        )

        assert_ok(api.post(LOGIN, {"code": "the/code+1="}))

        assert len(responses.calls) == 1

    @responses.activate
    def test_returning_user_gets_a_new_token_and_a_fresh_session_key(self, api, platform):
        user = WechatUserFactory(platform=platform, openid="o-abc", session_key="old-key")
        wechat_replies({"openid": "o-abc", "session_key": SESSION_KEY, "unionid": "u-1"})
        wechat_replies({"openid": "o-abc", "session_key": "second-key"}, code="second-code")

        first = assert_ok(api.post(LOGIN, {"code": "0a3Xcode"}))["session_token"]
        second = assert_ok(api.post(LOGIN, {"code": "second-code"}))["session_token"]

        assert WechatUser.objects.count() == 1
        user.refresh_from_db()
        assert user.session_key == "second-key"
        assert user.unionid == "u-1"
        assert first != second
        assert SessionToken.objects.filter(user=user, revoked_at__isnull=True).count() == 2
        for raw in (first, second):
            client = APIClient()
            client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=raw)
            assert_error(client.post("/api/image", {}, format="multipart"), 400, 40000)

    @responses.activate
    def test_em_id_is_the_employee_id(self, api, platform):
        employee = EmployeeFactory(user=WechatUserFactory(platform=platform, openid="o-abc"))
        wechat_replies({"openid": "o-abc", "session_key": SESSION_KEY})

        assert assert_ok(api.post(LOGIN, {"code": "0a3Xcode"}))["em_id"] == employee.pk

    @responses.activate
    def test_same_openid_on_another_platform_is_another_user(self, platform):
        other = PlatformFactory(code="other", wechat_appid="wx-other", wechat_secret="other-secret")
        WechatUserFactory(platform=platform, openid="o-abc")
        responses.get(
            CODE2SESSION,
            json={"openid": "o-abc", "session_key": SESSION_KEY},
            match=[matchers.query_param_matcher({"appid": "wx-other", "secret": "other-secret"}, strict_match=False)],
        )
        client = APIClient()
        client.credentials(HTTP_X_PLATFORM_CODE="other")

        assert_ok(client.post(LOGIN, {"code": "0a3Xcode"}))

        assert WechatUser.objects.filter(openid="o-abc").count() == 2
        assert WechatUser.objects.get(openid="o-abc", platform=other).tokens.count() == 1

    @responses.activate
    def test_errcode_zero_with_openid_is_success(self, api):
        wechat_replies({"errcode": 0, "errmsg": "ok", "openid": "o-abc", "session_key": SESSION_KEY})
        assert_ok(api.post(LOGIN, {"code": "0a3Xcode"}))
        assert WechatUser.objects.filter(openid="o-abc").exists()

    @pytest.mark.parametrize(
        ("errcode", "http_status", "status"),
        [
            (40029, 400, 40000),
            (40163, 400, 40000),
            (45011, 429, 42900),
            (-1, 503, 50300),
            (40226, 403, 40300),
            (40013, 502, 50200),
            (99999, 502, 50200),
        ],
    )
    @responses.activate
    def test_wechat_errcodes_map_to_spec_statuses(self, api, errcode, http_status, status):
        wechat_replies({"errcode": errcode, "errmsg": "whatever"})

        body = assert_error(api.post(LOGIN, {"code": "0a3Xcode"}), http_status, status)

        assert no_rows()
        if status == 40000:
            assert body["data"]["errors"]["code"]
        if status == 42900:
            assert body["data"]["retry_after"] == 60

    @pytest.mark.parametrize(
        "reply",
        [
            {"body": requests.ConnectionError("connection refused to api.weixin.qq.com?secret=wx-test-secret")},
            {"body": requests.Timeout("read timed out")},
            {"body": "<html>502 Bad Gateway</html>", "status": 502},
            {"body": "not json at all"},
            {"json": ["a", "list"]},
            {"json": {"session_key": SESSION_KEY}},
            {"json": {"openid": "", "session_key": SESSION_KEY}},
            {"json": {"openid": "o" * 65, "session_key": SESSION_KEY}},
            {"json": {"openid": "o-abc"}},
        ],
        ids=[
            "network",
            "timeout",
            "http-502-html",
            "non-json",
            "json-list",
            "no-openid",
            "empty-openid",
            "long-openid",
            "no-session-key",
        ],
    )
    @responses.activate
    def test_upstream_trouble_is_50200_and_leaks_nothing(self, api, reply, caplog):
        responses.get(CODE2SESSION, **reply)

        with caplog.at_level(logging.DEBUG):
            response = api.post(LOGIN, {"code": "0a3Xcode"})

        body = assert_error(response, 502, 50200)
        assert no_rows()
        assert "wx-test-secret" not in caplog.text
        assert "secret" not in body["msg"]

    @responses.activate
    def test_platform_without_appid_is_50200_without_calling_wechat(self, api, platform):
        platform.wechat_appid = ""
        platform.save()

        assert_error(api.post(LOGIN, {"code": "0a3Xcode"}), 502, 50200)

        assert len(responses.calls) == 0
        assert no_rows()


class TestFakeBackend:
    def test_any_code_logs_in_as_a_deterministic_fake_openid(self, api, fake_wechat):
        first = assert_ok(api.post(LOGIN, {"code": "dev-code-1"}))
        again = assert_ok(api.post(LOGIN, {"code": "dev-code-1"}))
        other = assert_ok(api.post(LOGIN, {"code": "dev-code-2"}))

        expected = "fake-" + hashlib.sha256(b"dev-code-1").hexdigest()[:16]
        assert WechatUser.objects.filter(openid=expected).count() == 1
        assert WechatUser.objects.count() == 2
        assert first["session_token"] != again["session_token"]
        assert first["em_id"] == again["em_id"] == other["em_id"] == 0
        session_key = WechatUser.objects.get(openid=expected).session_key
        assert session_key
        assert session_key not in str(first) + str(again) + str(other)

    def test_the_code_invalid_fails_like_40029(self, api, fake_wechat):
        body = assert_error(api.post(LOGIN, {"code": "invalid"}), 400, 40000)
        assert body["data"]["errors"]["code"]
        assert no_rows()

    def test_fake_backend_is_refused_when_debug_is_off(self, api, settings, caplog):
        settings.DEBUG = False
        settings.WECHAT_BACKEND = "fake"

        with pytest.raises(ImproperlyConfigured, match="DJANGO_DEBUG=1"):
            get_wechat_client()
        with caplog.at_level(logging.ERROR, logger="shanqian.api"):
            response = api.post(LOGIN, {"code": "dev-code-1"})

        assert_error(response, 500, 50000)
        assert no_rows()
        assert "WECHAT_BACKEND=fake" in caplog.text
        assert [e.id for e in identity_gateways_check()] == ["employees.E001"]

    def test_system_check_is_quiet_for_a_sane_configuration(self, settings):
        settings.DEBUG = False
        settings.WECHAT_BACKEND = "wechat"
        settings.SMS_BACKEND = "aliyun"
        assert identity_gateways_check() == []

    def test_unknown_backends_fail_the_system_check(self, settings):
        settings.WECHAT_BACKEND = "carrier-pigeon"
        settings.SMS_BACKEND = "smoke-signals"
        assert [e.id for e in identity_gateways_check()] == ["employees.E001", "employees.E002"]


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"code": ""},
        {"code": "   "},
        {"code": "x" * 129},
        {"code": "zero\u200bwidth"},
        {"code": "line\u2028separator"},
        {"code": "tab\there"},
        {"code": "nul\x00byte"},
        {"code": ["a", "b"]},
        {"code": {"a": 1}},
        {"code": True},
    ],
    ids=[
        "missing",
        "empty",
        "blank",
        "too-long",
        "zero-width",
        "line-separator",
        "control",
        "nul",
        "list",
        "object",
        "bool",
    ],
)
def test_bad_codes_are_40000_with_a_field_error_and_no_rows(api, fake_wechat, payload):
    body = assert_error(api.post(LOGIN, payload, format="json"), 400, 40000)

    assert body["data"]["errors"]["code"]
    assert no_rows()


@pytest.mark.parametrize("code", ["~" * 128, "a", "with inner space", "登录码"])
def test_printable_codes_of_1_to_128_characters_are_accepted(api, fake_wechat, code):
    assert_ok(api.post(LOGIN, {"code": code}))

    expected = "fake-" + hashlib.sha256(code.encode()).hexdigest()[:16]
    assert WechatUser.objects.get().openid == expected


def test_login_needs_the_platform_header(db, fake_wechat):
    assert_error(APIClient().post(LOGIN, {"code": "abc"}), 400, 40001)
    assert no_rows()


def test_a_stale_auth_header_does_not_block_login(api, fake_wechat):
    api.credentials(HTTP_X_PLATFORM_CODE="demo", HTTP_X_AUTH_TOKEN="revoked-or-garbage")
    assert_ok(api.post(LOGIN, {"code": "abc"}))


def test_a_racing_first_login_finds_the_user_the_other_request_created(api, fake_wechat, platform, monkeypatch):
    openid = "fake-" + hashlib.sha256(b"race").hexdigest()[:16]
    existing = WechatUserFactory(platform=platform, openid=openid)
    real_lookup = services._wechat_user_lookup
    calls = []

    def lookup_that_loses_the_race(**kwargs):
        calls.append(kwargs)
        # The first read happens before the other request commits its row.
        return None if len(calls) == 1 else real_lookup(**kwargs)

    monkeypatch.setattr(services, "_wechat_user_lookup", lookup_that_loses_the_race)

    assert_ok(api.post(LOGIN, {"code": "race"}))

    assert len(calls) == 2
    assert WechatUser.objects.get() == existing
    assert SessionToken.objects.get().user == existing


class TestTokens:
    def test_revoked_token_replayed_is_40100(self, api, fake_wechat):
        raw = assert_ok(api.post(LOGIN, {"code": "abc"}))["session_token"]
        give_consents(WechatUser.objects.get())
        client = APIClient()
        client.credentials(HTTP_X_PLATFORM_CODE="demo", HTTP_X_AUTH_TOKEN=raw)
        assert_error(client.post("/api/image", {}, format="multipart"), 400, 40000)

        SessionToken.objects.update(revoked_at=timezone.now())

        assert_error(client.post("/api/image", {}, format="multipart"), 401, 40100)

    def test_token_from_another_platform_is_40100(self, api, fake_wechat):
        raw = assert_ok(api.post(LOGIN, {"code": "abc"}))["session_token"]
        PlatformFactory(code="other")
        client = APIClient()
        client.credentials(HTTP_X_PLATFORM_CODE="other", HTTP_X_AUTH_TOKEN=raw)

        assert_error(client.post("/api/image", {}, format="multipart"), 401, 40100)

    def test_expired_token_is_40100(self, api, fake_wechat, settings):
        settings.SESSION_TOKEN_TTL = timedelta(seconds=-1)
        raw = assert_ok(api.post(LOGIN, {"code": "abc"}))["session_token"]
        client = APIClient()
        client.credentials(HTTP_X_PLATFORM_CODE="demo", HTTP_X_AUTH_TOKEN=raw)

        assert_error(client.post("/api/image", {}, format="multipart"), 401, 40100)


def test_login_is_throttled_per_client_ip(api, fake_wechat, monkeypatch):
    # DRF reads the rates when the class is defined: patch them on the class.
    monkeypatch.setattr(LoginThrottle, "THROTTLE_RATES", {"login": "2/min"})
    assert_ok(api.post(LOGIN, {"code": "a"}))
    assert_ok(api.post(LOGIN, {"code": "b"}))

    response = api.post(LOGIN, {"code": "c"})

    body = assert_error(response, 429, 42900)
    assert 1 <= body["data"]["retry_after"] <= 60
    assert response["Retry-After"] == str(body["data"]["retry_after"])
    assert WechatUser.objects.count() == 2


def test_login_query_count(api, fake_wechat, platform, capsys):
    api.get("/api/captcha")  # warm the platform cache like any earlier request would
    with CaptureQueriesContext(connection) as new_user:
        assert_ok(api.post(LOGIN, {"code": "abc"}))
    with CaptureQueriesContext(connection) as returning_user:
        assert_ok(api.post(LOGIN, {"code": "abc"}))

    def real(ctx):
        return [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"].upper()]

    # new: SELECT user, INSERT user, then the token; returning: SELECT user+employee, UPDATE user, then the token.
    # The token: lock the user row, INSERT token, SELECT the live ones beyond SESSION_TOKENS_PER_USER.
    assert len(real(new_user)) == 5, real(new_user)
    assert len(real(returning_user)) == 5, real(returning_user)
    with capsys.disabled():
        print(f"\n[login queries] new user: {len(new_user)} total / 5 real; returning: {len(returning_user)} / 5")
