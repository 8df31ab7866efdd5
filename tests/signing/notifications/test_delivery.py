"""
Delivering notices through the outbox channels: WeChat subscribe messages and the SMS fallback
(``responses`` at the HTTP layer), SMS through the file backend, HR email through Django's
email backend, 企业微信 robots, and signed webhooks to a real local receiver.
"""

import hashlib
import hmac
import json
import time

import pytest
import responses
from django.core import mail
from django.core.cache import cache

from shanqian import outbox
from shanqian.models import OutboxMessage
from signing.models import SignStatus
from signing.notifications import services
from signing.notifications.models import SubscribeAcceptance, WebhookEndpoint, WecomRobot

from .conftest import SECRET, received_json

pytestmark = pytest.mark.django_db

SEND_URL = "https://api.weixin.qq.com/cgi-bin/message/subscribe/send"
ROBOT_KEY = "693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"
ROBOT_URL = f"https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key={ROBOT_KEY}"
State = OutboxMessage.State


def deliver_all(channel: str | None = None) -> list[str]:
    """Deliver every due row (of ``channel``), as the worker would (the outbox's own entry point)."""
    results = []
    rows = OutboxMessage.objects.filter(state=State.PENDING).order_by("pk")
    if channel:
        rows = rows.filter(channel=channel)
    for pk in rows.values_list("pk", flat=True):
        results.append(outbox.deliver(pk))
    return results


def sms_lines(settings) -> list[dict]:
    from pathlib import Path

    path = Path(settings.SMS_FILE_PATH)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def approve(application):
    application.status = SignStatus.AWAITING_SIGNATURE
    application.save(update_fields=["status"])
    services.on_status_changed(application=application, source=1, target=2)


# --- the worker ------------------------------------------------------------------------------------------


@responses.activate
def test_a_subscribe_message_reaches_wechat_with_the_workers_openid(application, approved_template, worker):
    cache.set("wechat:stable-token:wx-notify", "TOKEN", 600)
    SubscribeAcceptance.objects.create(user=worker, template_id="TPL-approved")
    responses.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})
    approve(application)

    assert deliver_all() == ["delivered"]

    body = json.loads(responses.calls[0].request.body)
    assert body["touser"] == "o-worker-1"
    assert body["template_id"] == "TPL-approved"
    assert body["data"]["thing1"] == {"value": "甲科技有限公司"}
    assert OutboxMessage.objects.filter(channel="worker.sms").count() == 0


@responses.activate
@pytest.mark.parametrize("errcode", [43101, 40003, 47003])
def test_a_refused_or_rejected_subscribe_message_becomes_an_sms(
    application, approved_template, worker, settings, errcode
):
    cache.set("wechat:stable-token:wx-notify", "TOKEN", 600)
    SubscribeAcceptance.objects.create(user=worker, template_id="TPL-approved")
    responses.post(SEND_URL, json={"errcode": errcode, "errmsg": "refused"})
    approve(application)

    assert deliver_all() == ["failed"]
    wechat = OutboxMessage.objects.get(channel="worker.wechat")
    assert str(errcode) in wechat.last_error
    assert deliver_all() == ["delivered"]  # the SMS written when WeChat failed

    (line,) = sms_lines(settings)
    assert line["phone"] == "13900001111"
    assert line["code"] == ""
    assert "审核通过" in line["text"]
    sms = OutboxMessage.objects.get(channel="worker.sms")
    assert sms.payload["instead_of"] == wechat.pk


@responses.activate
def test_a_busy_wechat_is_retried_and_the_sms_comes_only_when_attempts_run_out(
    application, approved_template, worker, settings
):
    cache.set("wechat:stable-token:wx-notify", "TOKEN", 600)
    SubscribeAcceptance.objects.create(user=worker, template_id="TPL-approved")
    responses.post(SEND_URL, json={"errcode": -1, "errmsg": "system error"})
    approve(application)
    wechat = OutboxMessage.objects.get(channel="worker.wechat")

    results = []
    for _ in range(5):
        OutboxMessage.objects.filter(pk=wechat.pk).update(next_attempt_at=wechat.created_at)
        results.append(outbox.deliver(wechat.pk))

    assert results == ["retry", "retry", "retry", "retry", "failed"]
    assert OutboxMessage.objects.filter(channel="worker.sms").count() == 1


def test_an_sms_notice_is_written_by_the_file_backend_with_an_empty_code(application, settings):
    approve(application)

    assert deliver_all() == ["delivered"]

    (line,) = sms_lines(settings)
    assert (line["phone"], line["code"]) == ("13900001111", "")
    assert line["text"].startswith("【闪签云】您在甲科技有限公司的签约申请已审核通过")


def test_an_sms_notice_of_a_kind_without_a_vendor_template_fails_clearly(application, settings):
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_NOTICE_TEMPLATES = {}
    approve(application)

    assert deliver_all() == ["failed"]
    assert "SMS_NOTICE_TEMPLATES" in OutboxMessage.objects.get(channel="worker.sms").last_error


# --- HR ----------------------------------------------------------------------------------------------------


def test_the_handler_gets_an_email_naming_the_applicant_with_a_link(application):
    services.on_status_changed(application=application, source=None, target=1)

    assert deliver_all() == ["delivered"]

    (email,) = mail.outbox
    assert email.to == ["wangfang@example.com"]
    assert email.subject == f"【闪签云】新的签约申请 #{application.pk}"
    assert "签约人：张三" in email.body
    assert "用人单位：甲科技有限公司" in email.body and "岗位：普工" in email.body
    assert f"https://admin.example.com/admin/signing/signapplication/{application.pk}/change/" in email.body


def test_an_email_backend_failure_is_retried(application, settings):
    settings.EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    settings.EMAIL_HOST, settings.EMAIL_PORT, settings.EMAIL_TIMEOUT = "127.0.0.1", 9, 2
    services.on_status_changed(application=application, source=None, target=1)

    assert deliver_all() == ["retry"]
    assert "发送邮件失败" in OutboxMessage.objects.get(channel="hr.email").last_error


@responses.activate
def test_a_wecom_robot_gets_markdown_without_the_applicants_name(application, handler):
    WecomRobot.objects.create(name="王芳的群", handler=handler, url=ROBOT_URL)
    type(handler).objects.filter(pk=handler.pk).update(email="")
    responses.post("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", json={"errcode": 0, "errmsg": "ok"})
    services.on_status_changed(application=application, source=None, target=1)

    assert deliver_all() == ["delivered"]

    request = responses.calls[0].request
    assert request.url == ROBOT_URL
    body = json.loads(request.body)
    assert body["msgtype"] == "markdown"
    content = body["markdown"]["content"]
    assert content.startswith(f"**新的签约申请** #{application.pk}")
    assert "> 用人单位：甲科技有限公司" in content
    assert f"(https://admin.example.com/admin/signing/signapplication/{application.pk}/change/)" in content
    assert "张三" not in content and "13900001111" not in content


@responses.activate
@pytest.mark.parametrize(("errcode", "result"), [(45009, "retry"), (-1, "retry"), (93000, "failed")])
def test_wecom_errcodes_are_mapped(application, handler, errcode, result):
    WecomRobot.objects.create(name="王芳的群", handler=handler, url=ROBOT_URL)
    type(handler).objects.filter(pk=handler.pk).update(email="")
    responses.post("https://qyapi.weixin.qq.com/cgi-bin/webhook/send", json={"errcode": errcode, "errmsg": "x"})
    services.on_status_changed(application=application, source=None, target=1)

    assert deliver_all() == [result]
    assert ROBOT_KEY not in OutboxMessage.objects.get(channel="hr.wecom").last_error


# --- webhooks ----------------------------------------------------------------------------------------------


def verify(secret: str, headers: dict, body: bytes, *, tolerance: int = 300) -> bool:
    """The receiver's check, exactly as docs/webhooks.md shows it."""
    timestamp = headers["x-shanqian-timestamp"]
    if abs(time.time() - int(timestamp)) > tolerance:
        return False
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return hmac.compare_digest(headers["x-shanqian-signature"], f"sha256={expected}")


def test_a_webhook_arrives_signed_with_its_event_and_delivery_headers(application, endpoint, receiver):
    approve(application)
    hook = OutboxMessage.objects.get(channel="webhook")

    assert deliver_all("webhook") == ["delivered"]

    (request,) = receiver.received
    headers, body = request["headers"], request["body"]
    assert verify(SECRET, headers, body)
    assert not verify("wrong-secret-0123456789", headers, body)
    assert headers["x-shanqian-event"] == "application.status_changed"
    assert headers["x-shanqian-delivery"] == str(hook.key)
    assert headers["content-type"] == "application/json; charset=utf-8"
    assert body.decode() == hook.payload["body"]
    (event,) = received_json(receiver)
    assert event["data"]["to_status"] == 2
    hook.refresh_from_db()
    assert hook.last_response_code == 204
    attempt = hook.attempt_log.get()
    assert attempt.response_code == 204 and attempt.duration_ms is not None


def test_a_retried_webhook_keeps_its_id_and_delivery_but_is_signed_afresh(application, endpoint, receiver):
    receiver.answers = [500]
    approve(application)
    hook = OutboxMessage.objects.get(channel="webhook")

    assert deliver_all("webhook") == ["retry"]
    hook.refresh_from_db()
    assert hook.last_response_code == 500 and hook.last_error.startswith("HTTP 500")
    OutboxMessage.objects.filter(pk=hook.pk).update(next_attempt_at=hook.created_at)
    time.sleep(1.01)  # a new second, so a new timestamp
    assert deliver_all("webhook") == ["delivered"]

    first, second = receiver.received
    assert first["body"] == second["body"]
    assert first["headers"]["x-shanqian-delivery"] == second["headers"]["x-shanqian-delivery"]
    assert first["headers"]["x-shanqian-timestamp"] != second["headers"]["x-shanqian-timestamp"]
    assert verify(SECRET, second["headers"], second["body"])


def test_webhooks_retry_for_24_hours(application, endpoint):
    approve(application)
    hook = OutboxMessage.objects.get(channel="webhook")

    window = hook.retry_until - hook.created_at
    assert window.total_seconds() == pytest.approx(24 * 3600, abs=5)
    assert hook.max_attempts >= 25


def test_a_webhook_to_a_private_address_in_production_fails_at_delivery(application, endpoint, receiver, settings):
    approve(application)
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    assert deliver_all("webhook") == ["retry"]

    assert receiver.received == []
    assert "内网、本机或保留地址" in OutboxMessage.objects.get(channel="webhook").last_error


def test_a_disabled_endpoint_stops_its_pending_deliveries(application, endpoint, receiver):
    approve(application)
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(enabled=False)

    assert deliver_all("webhook") == ["failed"]
    assert receiver.received == []
    assert OutboxMessage.objects.get(channel="webhook").last_error == "Webhook 已停用"


def test_redelivering_a_delivered_webhook_sends_the_same_delivery_again(application, endpoint, receiver):
    approve(application)
    deliver_all("webhook")
    hook = OutboxMessage.objects.get(channel="webhook")

    assert outbox.retry(OutboxMessage.objects.filter(pk=hook.pk), include_delivered=True) == 1
    assert deliver_all("webhook") == ["delivered"]

    first, again = receiver.received
    assert first["headers"]["x-shanqian-delivery"] == again["headers"]["x-shanqian-delivery"]
    assert first["body"] == again["body"]


def test_the_handler_reads_who_moved_their_application(application, superuser):
    application.status = SignStatus.AWAITING_SIGNATURE
    application.save(update_fields=["status"])
    services.on_status_changed(application=application, source=1, target=2, actor_staff=superuser)

    deliver_all("hr.email")

    (email,) = mail.outbox
    assert email.subject == f"【闪签云】您负责的签约申请已由他人处理 #{application.pk}"
    assert f"处理：{superuser.display_name} → 待签约" in email.body
