"""purge_expired removes only what identity no longer needs; captcha challenges come from secrets."""

from datetime import timedelta
from io import StringIO

import pytest
from captcha.models import CaptchaStore
from django.core.management import call_command
from django.utils import timezone

from employees.captcha import ALPHABET, secure_char_challenge
from employees.models import SessionToken, SmsCode
from employees.otp import sms_code_create
from employees.services.identity import captcha_create, identity_purge
from employees.tokens import issue_token

pytestmark = pytest.mark.django_db


def test_purge_keeps_live_and_recent_rows_and_deletes_old_ones(wechat_user):
    now = timezone.now()
    issue_token(user=wechat_user)  # live
    issue_token(user=wechat_user)
    SessionToken.objects.filter(pk=SessionToken.objects.order_by("id").last().pk).update(
        expires_at=now - timedelta(days=31)
    )
    issue_token(user=wechat_user)
    SessionToken.objects.filter(pk=SessionToken.objects.order_by("id").last().pk).update(
        revoked_at=now - timedelta(days=1)
    )  # revoked recently: kept for the admin
    fresh, _ = sms_code_create(phone="13800000001", purpose="resume")
    old, _ = sms_code_create(phone="13800000002", purpose="resume")
    SmsCode.objects.filter(pk=old.pk).update(created_at=now - timedelta(days=3))
    live_key = captcha_create()
    dead_key = captcha_create()
    CaptchaStore.objects.filter(hashkey=dead_key).update(expiration=now - timedelta(minutes=1))

    counts = identity_purge(now=now)

    assert counts == {"tokens": 1, "sms_codes": 1, "captchas": 1}
    assert SessionToken.objects.count() == 2
    assert list(SmsCode.objects.values_list("pk", flat=True)) == [fresh.pk]
    assert list(CaptchaStore.objects.values_list("hashkey", flat=True)) == [live_key]


def test_purge_command_reports_counts():
    out = StringIO()

    call_command("purge_expired", stdout=out)

    assert "已删除：会话令牌 0 个" in out.getvalue()


def test_captcha_challenges_use_the_unambiguous_alphabet():
    challenges = {secure_char_challenge() for _ in range(200)}

    assert all(set(text) <= set(ALPHABET) and answer == text.lower() for text, answer in challenges)
    assert len(challenges) > 190  # random, not a fixed word


def test_captcha_store_uses_the_secure_challenge():
    key = captcha_create()

    stored = CaptchaStore.objects.get(hashkey=key)
    assert set(stored.challenge) <= set(ALPHABET)
    assert stored.response == stored.challenge.lower()
