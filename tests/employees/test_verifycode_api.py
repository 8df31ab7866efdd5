"""POST /api/verifycode: phone checks, purposes, send limits, gateway failures (SPEC §4.12)."""

import logging
import os
import threading
import time
from datetime import timedelta

import pytest
import requests
import responses
from captcha.models import CaptchaStore
from django.core.cache import cache
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from employees.models import SmsCode, SmsPurpose
from employees.otp import hash_code, sms_code_check
from employees.services import identity as services
from shanqian.errors import RateLimited
from shanqian.throttling import VerifyCodeThrottle
from tests.envelope import assert_error, assert_ok
from tests.support.sms import sent_sms

pytestmark = pytest.mark.django_db

PHONE = "13800138000"


@pytest.fixture
def send(api, new_captcha):
    """POST /api/verifycode with a fresh, correctly answered captcha."""

    def post(phone=PHONE, client=None, headers=None, **extra):
        key, answer = new_captcha(client)
        return (client or api).post(
            "/api/verifycode",
            {"phone": phone, "captcha_code": answer, "captcha_key": key, **extra},
            **(headers or {}),
        )

    return post


def age_rows(**delta):
    """Pretend every stored code was sent ``delta`` earlier."""
    for row in SmsCode.objects.all():
        SmsCode.objects.filter(pk=row.pk).update(created_at=row.created_at - timedelta(**delta))


def test_sends_a_six_digit_code_stored_hashed(send, sms_file):
    assert assert_ok(send()) == {}

    [message] = sent_sms()
    row = SmsCode.objects.get()
    assert message["phone"] == PHONE
    assert len(message["code"]) == 6 and message["code"].isdigit()
    assert message["code"] in message["text"]
    assert message["sent_at"]
    assert row.sent is True
    assert row.purpose == SmsPurpose.RESUME
    assert row.ip == "127.0.0.1"
    assert row.code_hash == hash_code(phone=PHONE, purpose="resume", code=message["code"])
    assert abs((row.expires_at - row.created_at) - timedelta(seconds=300)) < timedelta(seconds=1)
    assert sms_code_check(phone=PHONE, purpose="resume", code=message["code"]) == row


def test_purpose_sign_is_accepted_and_binds_the_code(send, sms_file, platform):
    # A signing code goes only to the logged-in user's resume phone (tests/signing/test_sign_verifycode.py).
    from rest_framework.test import APIClient

    from employees.tokens import issue_token
    from tests.factories import EmployeeFactory, SignApplicationFactory

    employee = EmployeeFactory(phone=PHONE)
    SignApplicationFactory(em=employee, status=2)
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=employee.user))

    assert_ok(send(purpose="sign", client=client))

    [message] = sent_sms()
    assert SmsCode.objects.get().purpose == SmsPurpose.SIGN
    assert "签署" in message["text"]
    assert sms_code_check(phone=PHONE, purpose="sign", code=message["code"])


@pytest.mark.parametrize("purpose", ["login", "RESUME", "x" * 100])
def test_unknown_purpose_is_40000(send, purpose):
    body = assert_error(send(purpose=purpose), 400, 40000)
    assert body["data"]["errors"]["purpose"]
    assert SmsCode.objects.count() == 0


@pytest.mark.parametrize(
    "phone",
    [
        "",
        "1380013800",
        "138001380001",
        "12800138000",
        "23800138000",
        "+8613800138000",
        "1380013800a",
        "１３８００１３８０００",
    ],
)
def test_bad_phone_is_40000_with_a_field_error_and_keeps_the_captcha(api, new_captcha, phone):
    key, answer = new_captcha()

    response = api.post("/api/verifycode", {"phone": phone, "captcha_code": answer, "captcha_key": key})

    body = assert_error(response, 400, 40000)
    assert body["data"]["errors"]["phone"]
    assert SmsCode.objects.count() == 0
    assert CaptchaStore.objects.filter(hashkey=key).exists()


def test_missing_phone_is_40000(api, new_captcha):
    key, answer = new_captcha()
    body = assert_error(api.post("/api/verifycode", {"captcha_code": answer, "captcha_key": key}), 400, 40000)
    assert body["data"]["errors"]["phone"] and SmsCode.objects.count() == 0


@pytest.mark.parametrize(
    ("body", "field"),
    [
        (b"phone=%FF%FE&captcha_code=abcd", "phone"),
        (b"phone=13800138000&captcha_code=%00abc", "captcha_code"),
        (b"phone=13800138000&captcha_code=ab%EF%BF%BDc", "captcha_code"),
        (b"phone=13800138000&phone=13900139000&captcha_code=abcd", "phone"),
        (b"phone[a]=1&captcha_code=abcd", "phone"),
        (b"phone=13800138000&captcha_code=abcd&captcha_key=" + b"a" * 65, "captcha_key"),
    ],
    ids=["invalid-utf8", "nul", "replacement-char", "repeated", "nested", "key-too-long"],
)
def test_hostile_form_input_is_40000_and_spends_nothing(api, new_captcha, body, field):
    key, _ = new_captcha()

    response = api.generic("POST", "/api/verifycode", body, content_type="application/x-www-form-urlencoded")

    assert assert_error(response, 400, 40000)["data"]["errors"][field]
    assert SmsCode.objects.count() == 0
    assert CaptchaStore.objects.filter(hashkey=key).exists()


@pytest.mark.parametrize("phone", [["13800138000"], {"n": 1}, True, None])
def test_phone_of_the_wrong_json_type_is_40000(api, phone):
    response = api.post("/api/verifycode", {"phone": phone, "captcha_code": "abcd"}, format="json")
    assert assert_error(response, 400, 40000)["data"]["errors"]["phone"]


def test_json_bodies_work_too(api, new_captcha):
    key, answer = new_captcha()
    response = api.post("/api/verifycode", {"phone": PHONE, "captcha_code": answer, "captcha_key": key}, format="json")
    assert_ok(response)


class TestLimits:
    def test_one_per_phone_per_interval(self, send):
        assert_ok(send())

        body = assert_error(send(), 429, 42900)

        assert 58 <= body["data"]["retry_after"] <= 60
        assert SmsCode.objects.count() == 1

    def test_the_interval_frees_after_it_passes(self, send):
        assert_ok(send())
        age_rows(seconds=45)
        assert 14 <= assert_error(send(), 429, 42900)["data"]["retry_after"] <= 15

        age_rows(seconds=16)

        assert_ok(send())
        assert SmsCode.objects.count() == 2

    def test_another_phone_is_not_held_up(self, send):
        assert_ok(send())
        assert_ok(send(phone="13900139000"))

    def test_daily_limit_per_phone(self, send, settings):
        settings.SMS_PHONE_DAILY_LIMIT = 3
        now = timezone.now()
        for hours in (23, 10, 2):
            SmsCode.objects.create(
                phone=PHONE, purpose="resume", code_hash="x", expires_at=now, sent=True, ip="10.0.0.1"
            )
            SmsCode.objects.filter(pk=SmsCode.objects.latest("id").pk).update(created_at=now - timedelta(hours=hours))

        body = assert_error(send(), 429, 42900)

        # The window frees when the oldest of the three (23 h ago) is 24 h old.
        assert 3590 <= body["data"]["retry_after"] <= 3600
        assert SmsCode.objects.count() == 3

    def test_codes_older_than_a_day_do_not_count(self, send, settings):
        settings.SMS_PHONE_DAILY_LIMIT = 1
        assert_ok(send())
        age_rows(hours=24, seconds=1)

        assert_ok(send())

    def test_hourly_limit_per_client_ip(self, send, settings):
        settings.SMS_IP_HOURLY_LIMIT = 2
        assert_ok(send(phone="13800000001"))
        age_rows(minutes=30)
        assert_ok(send(phone="13800000002"))

        body = assert_error(send(phone="13800000003"), 429, 42900)

        assert 1790 <= body["data"]["retry_after"] <= 1800
        assert not SmsCode.objects.filter(phone="13800000003").exists()

    def test_another_ip_is_not_held_up(self, send, settings):
        settings.SMS_IP_HOURLY_LIMIT = 1
        assert_ok(send(phone="13800000001"))
        assert_ok(send(phone="13800000002", headers={"REMOTE_ADDR": "10.9.8.7"}))

    def test_x_forwarded_for_does_not_pick_a_new_ip(self, send, settings):
        settings.SMS_IP_HOURLY_LIMIT = 1
        assert_ok(send(phone="13800000001"))
        assert_error(send(phone="13800000002", headers={"HTTP_X_FORWARDED_FOR": "10.9.8.7"}), 429, 42900)

    def test_requests_are_throttled_per_client_ip_before_the_captcha(self, api, send, new_captcha, monkeypatch):
        """Issue 15, finding 2: /api/verifycode had no per-IP request throttle in front of its SMS limits."""
        monkeypatch.setattr(VerifyCodeThrottle, "THROTTLE_RATES", {"verifycode": "3/min"})
        assert_ok(send(phone="13800000001"))
        for _ in range(2):  # wrong answers count as requests too
            assert_error(api.post("/api/verifycode", {"phone": PHONE, "captcha_code": "x"}), 422, 42200)
        key, answer = new_captcha()

        body = assert_error(
            api.post("/api/verifycode", {"phone": "13800000002", "captcha_code": answer, "captcha_key": key}),
            429,
            42900,
        )

        assert 1 <= body["data"]["retry_after"] <= 60
        assert CaptchaStore.objects.filter(hashkey=key).exists()  # refused before the captcha was spent
        assert_ok(send(phone="13800000002", headers={"REMOTE_ADDR": "10.9.8.7"}))

    def test_a_send_in_flight_for_the_phone_is_refused_not_doubled(self, send, monkeypatch):
        monkeypatch.setattr(services, "_LOCK_WAIT", 0.1)
        cache.add(f"sms-send:phone:{PHONE}", "another-instance", 10)

        body = assert_error(send(), 429, 42900)

        assert body["data"]["retry_after"] >= 1
        assert SmsCode.objects.count() == 0
        assert cache.get(f"sms-send:phone:{PHONE}") == "another-instance"

    def test_the_lock_is_released_after_a_send(self, send):
        assert_ok(send())
        assert cache.get(f"sms-send:phone:{PHONE}") is None
        assert cache.get("sms-send:ip:127.0.0.1") is None


class TestGatewayFailures:
    @pytest.fixture
    def aliyun(self, settings):
        settings.SMS_BACKEND = "aliyun"
        settings.SMS_ALIYUN = {
            "ACCESS_KEY_ID": "LTAI-test-id",
            "ACCESS_KEY_SECRET": "aliyun-very-secret",
            "SIGN_NAME": "闪签云",
            "TEMPLATE_CODE": "SMS_123",
            "ENDPOINT": "https://dysmsapi.aliyuncs.com/",
        }

    @responses.activate
    def test_a_failed_send_is_50200_and_does_not_lock_the_phone_out(self, send, aliyun, caplog):
        responses.post("https://dysmsapi.aliyuncs.com/", json={"Code": "isv.AMOUNT_NOT_ENOUGH", "Message": "余额不足"})
        responses.post("https://dysmsapi.aliyuncs.com/", json={"Code": "OK", "BizId": "1", "RequestId": "r"})

        with caplog.at_level(logging.DEBUG):
            assert_error(send(), 502, 50200)
            assert SmsCode.objects.count() == 0

            assert_ok(send())

        assert SmsCode.objects.get().sent is True
        assert "aliyun-very-secret" not in caplog.text

    @responses.activate
    def test_a_network_error_is_50200_and_leaves_no_row(self, send, aliyun):
        responses.post("https://dysmsapi.aliyuncs.com/", body=requests.ConnectTimeout("timed out"))

        assert_error(send(), 502, 50200)

        assert SmsCode.objects.count() == 0

    @responses.activate
    def test_gateway_flow_control_is_42900_and_leaves_no_row(self, send, aliyun):
        responses.post(
            "https://dysmsapi.aliyuncs.com/",
            json={"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控Permits:10"},
        )

        body = assert_error(send(), 429, 42900)

        assert body["data"]["retry_after"] == 60
        assert SmsCode.objects.count() == 0

    def test_the_code_never_reaches_the_logs_with_debug_off(self, send, caplog, settings, monkeypatch):
        settings.SMS_BACKEND = "console"
        monkeypatch.setattr("employees.otp.generate_code", lambda: "271828")
        with caplog.at_level(logging.DEBUG):
            assert_ok(send())

        assert "138****8000" in caplog.text
        assert PHONE not in caplog.text
        assert "271828" not in caplog.text
        assert "******" in caplog.text
        assert SmsCode.objects.get().code_hash not in caplog.text


def test_verifycode_query_count(api, new_captcha, capsys):
    key, answer = new_captcha()
    with CaptureQueriesContext(connection) as ctx:
        assert_ok(api.post("/api/verifycode", {"phone": PHONE, "captcha_code": answer, "captcha_key": key}))

    real = [q["sql"] for q in ctx.captured_queries if "SAVEPOINT" not in q["sql"].upper()]
    # Captcha: purge expired, read, spend. Limits: phone aggregate, IP count. Code: insert, mark sent.
    assert len(real) == 7, real
    with capsys.disabled():
        print(f"\n[verifycode queries] {len(real)}")


REDIS_TEST_URL = os.environ.get("REDIS_TEST_URL", "")


@pytest.mark.skipif(connection.vendor == "sqlite", reason="threads need a server database (PostgreSQL or MariaDB)")
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("cache_backend", ["locmem", "redis"])
def test_concurrent_sends_for_one_phone_send_once(settings, monkeypatch, cache_backend):
    if cache_backend == "redis":
        if not REDIS_TEST_URL:
            pytest.skip("set REDIS_TEST_URL (e.g. redis://127.0.0.1:6379/15) to run against Redis")
        settings.CACHES = {
            "default": {
                "BACKEND": "django.core.cache.backends.redis.RedisCache",
                "LOCATION": REDIS_TEST_URL,
                "KEY_PREFIX": f"sq-test-{os.getpid()}",
            }
        }
    real_create = services.sms_code_create

    def slow_create(**kwargs):
        # Widen the window between the limit check and the insert: without the lock both would pass.
        time.sleep(0.3)
        return real_create(**kwargs)

    monkeypatch.setattr(services, "sms_code_create", slow_create)
    barrier = threading.Barrier(2)
    results = []

    def attempt(ip):
        try:
            barrier.wait(timeout=5)
            services.sms_code_send(phone=PHONE, purpose="resume", ip=ip)
            results.append("sent")
        except RateLimited:
            results.append("refused")
        finally:
            connection.close()

    threads = [threading.Thread(target=attempt, args=(ip,)) for ip in ("10.0.0.1", "10.0.0.2")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=15)

    assert sorted(results) == ["refused", "sent"]
    assert SmsCode.objects.filter(phone=PHONE).count() == 1
