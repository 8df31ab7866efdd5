"""
Issue 15, finding 2: DRF's throttles read the request history, decide and write it back, so
60 parallel logins against 30/min let 56 through (captcha 52/60 at 30/min, upload 90/100 at
60/h, sign 36/60 at 20/h). Every limit is now one atomic counter in the shared cache.

Threads against a live server (each request on its own connection and database connection),
on PostgreSQL or MariaDB, with the embedded cache and with a real Redis (``REDIS_TEST_URL``):
N parallel requests at each throttled endpoint pass exactly the limit and every other one is
42900 with ``retry_after``. With Redis, DRF's throttles let through login 52/60 at 30/min,
captcha 60/60 at 30/min, upload 54/60 at 30/hour, sign 49/60 at 20/hour (in one process the
embedded cache's round trip is too short to show the race). Across two gunicorn instances:
``tests/scaleout``.
"""

import pytest
import redis
from django.test import override_settings

from employees.tokens import issue_token
from shanqian.cache import breaker
from shanqian.throttling import CaptchaThrottle, LoginThrottle, SignThrottle, UploadThrottle, VerifyCodeThrottle
from tests.factories import give_consents, image_bytes
from tests.support.parallel import fire, post_retrying, row_locking_database_or_skip
from tests.support.servers import redis_url_or_skip

PREFIX = "throttles-parallel"


@pytest.fixture(params=["locmem", "redis"])
def shared_cache(request):
    """The embedded cache (one process: a lock) or a real Redis (MULTI), with keys of this module only."""
    if request.param == "locmem":
        yield
        return
    url = redis_url_or_skip(db_number=11)
    breaker.reset()
    caches = {"default": {"BACKEND": "shanqian.cache.RedisCache", "LOCATION": url, "KEY_PREFIX": PREFIX}}
    client = redis.Redis.from_url(url)

    def forget():
        for key in client.scan_iter(match=f"{PREFIX}:*"):
            client.delete(key)

    forget()
    with override_settings(CACHES=caches):
        yield
    forget()
    breaker.reset()


@pytest.fixture
def live(live_server, shared_cache, platform):
    row_locking_database_or_skip()
    return live_server.url


def _statuses(responses) -> dict:
    assert all(not isinstance(r, Exception) for r in responses), [r for r in responses if isinstance(r, Exception)][:3]
    counts = {}
    for response in responses:
        body = response.json() if response.headers.get("Content-Type", "").startswith("application/json") else {}
        status = body.get("status", 0 if response.status_code == 200 else None)
        counts[status] = counts.get(status, 0) + 1
        if status == 42900:
            assert 1 <= body["data"]["retry_after"] <= 3600 and response.headers["Retry-After"]
    return counts


def _passed(throttle, n: int, counts: dict) -> int:
    rate = throttle.THROTTLE_RATES[throttle.scope]
    limit = int(rate.split("/")[0])
    # A 503 is a request the database refused to connect (60 threads and the other test worker can
    # exhaust a shared server's connections): neither let through nor limited. Any that met the
    # failure after the throttle counted it cost a pass, never add one.
    unavailable = counts.get(50300, 0)
    passed = n - counts.get(42900, 0) - unavailable
    print(f"\n{throttle.scope}: {n} parallel requests against {rate}: {passed} passed {counts}")
    if unavailable:
        assert limit - unavailable <= passed <= limit, counts
    else:
        assert passed == limit, counts
    return passed


def test_parallel_logins_pass_at_most_the_limit(live, platform, fake_wechat):
    """Finding 2: 56 of 60 logins passed at 30/min."""
    headers = {"X-platform-code": platform.code}
    answers = fire(60, lambda i: post_retrying(f"{live}/api/weixin/login", data={"code": f"c{i}"}, headers=headers))

    counts = _statuses(answers)

    assert set(counts) <= {0, 42900}
    _passed(LoginThrottle, 60, counts)


def test_parallel_captchas_pass_at_most_the_limit(live, platform):
    """Finding 2: 52 of 60 captchas passed at 30/min."""
    import requests

    headers = {"X-platform-code": platform.code}
    answers = fire(60, lambda i: requests.get(f"{live}/api/captcha", headers=headers, timeout=60))

    counts = _statuses(answers)

    assert set(counts) <= {0, 42900}
    _passed(CaptchaThrottle, 60, counts)


def test_parallel_verifycode_requests_pass_at_most_the_per_ip_limit(live, platform):
    """Finding 2: /api/verifycode had no request throttle of its own; now one per IP before the captcha."""
    headers = {"X-platform-code": platform.code}
    data = {"phone": "13800138000", "captcha_code": "abcd", "captcha_key": "0" * 40}
    answers = fire(60, lambda i: post_retrying(f"{live}/api/verifycode", data=data, headers=headers))

    counts = _statuses(answers)

    assert set(counts) <= {42200, 42900}  # what passes meets the (unknown) captcha
    _passed(VerifyCodeThrottle, 60, counts)


def test_parallel_uploads_pass_at_most_the_limit(live, platform, wechat_user, monkeypatch):
    """Finding 2: 90 of 100 uploads passed at 60/hour (here 60 at 30/hour: a shared server's connection limit)."""
    monkeypatch.setattr(UploadThrottle, "THROTTLE_RATES", {"upload": "30/hour"})
    give_consents(wechat_user)
    headers = {"X-platform-code": platform.code, "X-auth-token": issue_token(user=wechat_user)}
    png = image_bytes("PNG", size=(8, 8))

    answers = fire(
        60, lambda i: post_retrying(f"{live}/api/image", files={"file": ("a.png", png, "image/png")}, headers=headers)
    )

    counts = _statuses(answers)

    assert set(counts) <= {0, 42900}
    _passed(UploadThrottle, 60, counts)


def test_parallel_signing_requests_pass_at_most_the_limit(live, platform, wechat_user):
    """Finding 2: 36 of 60 signing requests passed at 20/hour (each of which may seal a PDF)."""
    headers = {"X-platform-code": platform.code, "X-auth-token": issue_token(user=wechat_user)}
    data = {"sms_code": "123456", "signature": "https://example.invalid/x.png"}

    counts = _statuses(fire(60, lambda i: post_retrying(f"{live}/api/sign", data=data, headers=headers)))

    assert 0 not in counts  # nobody without an application signs; what passes the throttle is refused after it
    _passed(SignThrottle, 60, counts)
