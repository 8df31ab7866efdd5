"""
Issue 15, findings 6 and 7, in-process: an unreachable Redis or a dead database connection is
503/50300 "服务繁忙，请稍后重试" in the envelope (a short Chinese page in the admin), never a 500;
reference reads and token checks are served from the database; no limit fails open; the
probes tell liveness from readiness.

The cache here is the real Redis backend pointed at a port nothing listens on (connection
refused at once). The fault module (tests/faults/) does the same against a real redis-server
that it kills and freezes.
"""

import time

import pytest
from django.db import OperationalError
from django.test import Client, override_settings

from shanqian.cache import breaker
from tests.envelope import assert_error, assert_ok
from tests.factories import AdminUserFactory, CompanyFactory
from tests.support.servers import free_port

pytestmark = pytest.mark.django_db

BUSY = "服务繁忙，请稍后重试"


@pytest.fixture
def redis_down():
    """The shared cache is a Redis nobody answers on."""
    dead = {
        "default": {
            "BACKEND": "shanqian.cache.RedisCache",
            "LOCATION": f"redis://127.0.0.1:{free_port()}/0",
            "OPTIONS": {"socket_connect_timeout": 0.25, "socket_timeout": 0.25},
        }
    }
    breaker.reset()
    with override_settings(CACHES=dead, TOKEN_CACHE_TTL=60, REDIS_RETRY_AFTER=0.5):
        yield
    breaker.reset()


def assert_busy(response):
    body = assert_error(response, 503, 50300)
    assert body["msg"] == BUSY
    assert response["Retry-After"] == "1"


def test_reference_reads_and_tokens_are_served_from_the_database_while_redis_is_down(user_api, redis_down):
    """Finding 6: reads answered 500 with Redis killed; the database is the truth and answers them."""
    CompanyFactory(company_name="某某科技")

    assert [c["company_name"] for c in assert_ok(user_api.get("/api/companies"))] == ["某某科技"]
    assert assert_ok(user_api.get("/api/regions")) == []
    assert_ok(user_api.get("/api/em_status"))


@pytest.mark.parametrize(
    ("method", "path", "body"),
    [
        ("post", "/api/weixin/login", {"code": "abc"}),  # login throttle
        ("get", "/api/captcha", None),  # captcha throttle
    ],
)
def test_a_limit_that_needs_redis_answers_503_and_never_fails_open(api, redis_down, method, path, body):
    """Finding 6: login and captcha answered 500; a throttle that cannot count refuses honestly."""
    response = getattr(api, method)(path, body, format="json") if body else getattr(api, method)(path)

    assert_busy(response)


def test_an_sms_send_whose_lock_needs_redis_answers_503(api, redis_down, monkeypatch):
    """Finding 6: SMS answered 500; the cross-instance send lock is in Redis, so the send is refused."""
    from employees.services import identity as services

    monkeypatch.setattr(services, "captcha_check", lambda **kwargs: None)
    response = api.post("/api/verifycode", {"phone": "13800138000", "captcha_code": "x", "captcha_key": "0" * 40})

    assert_busy(response)
    from employees.models import SmsCode

    assert not SmsCode.objects.exists()


def test_a_frozen_or_dead_redis_costs_one_timeout_then_fails_fast(user_api, redis_down):
    """Finding 6: a frozen Redis held each worker 5–10 s; after one failure the breaker answers at once."""
    user_api.get("/api/companies")
    started = time.monotonic()
    for _ in range(5):
        assert_ok(user_api.get("/api/companies"))
    assert time.monotonic() - started < 1.0


def test_liveness_stays_up_and_readiness_reports_redis_down(redis_down):
    """Finding 6: /healthz stayed 200 with nothing to tell; /readyz now says what is missing."""
    client = Client()

    assert client.get("/healthz").status_code == 200
    ready = client.get("/readyz")
    assert ready.status_code == 503
    assert ready.json() == {"ok": False, "database": "ok", "cache": "unavailable"}


def test_readiness_is_200_when_everything_answers():
    ready = Client().get("/readyz")

    assert ready.status_code == 200 and ready.json() == {"ok": True, "database": "ok", "cache": "ok"}


def test_database_health_checks_are_on(settings):
    """Finding 7: a connection killed between requests is noticed before use."""
    assert settings.DATABASES["default"]["CONN_HEALTH_CHECKS"] is True


def _dead_connection(*args, **kwargs):
    raise OperationalError("terminating connection due to administrator command")


def test_a_dead_database_connection_in_an_api_view_is_503_not_500(user_api, monkeypatch):
    """Finding 7: the request meeting a killed connection got 500/50000."""
    monkeypatch.setattr("contracts.selectors._companies_rows", _dead_connection)

    assert_busy(user_api.get("/api/companies"))


def test_a_dead_database_connection_in_a_middleware_is_503_not_500(platform, monkeypatch):
    """Finding 7: the platform lookup runs in a middleware, outside DRF's handler."""
    from shanqian import platforms

    monkeypatch.setattr(platforms, "_shared_lookup", _dead_connection)
    # As a real server answers: Django's handler500 path, not the test client's re-raise.
    client = Client(raise_request_exception=False, HTTP_X_PLATFORM_CODE=platform.code)

    assert_busy(client.get("/api/companies"))


def test_a_dead_database_connection_in_the_admin_is_a_503_page(monkeypatch):
    """Finding 7: plain Django views (the back office) answer a 503 page, not the 500 one."""
    client = Client(raise_request_exception=False)
    client.force_login(AdminUserFactory(is_superuser=True, is_staff=True))
    monkeypatch.setattr("django.contrib.admin.sites.AdminSite.each_context", _dead_connection)

    response = client.get("/admin/")

    assert response.status_code == 503
    assert BUSY in response.content.decode()
