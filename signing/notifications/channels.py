"""
The outbox channels of notifications (registered from ``SigningConfig.ready``):

==================  ==========================================================  ==================
channel             delivers                                                    retries
==================  ==========================================================  ==================
``worker.wechat``   a subscribe message (``employees.wechat_api``)              5, from 30 s
``worker.sms``      an SMS notice (``employees.sms.send_notice``)               5, from 60 s
``hr.email``        an email to the handler (Django's email backend)            6, from 60 s
``hr.wecom``        a 企业微信 group-robot message                               6, from 60 s
``webhook``         a signed POST to a downstream system (``webhooks``)         for 24 h, from 30 s
==================  ==========================================================  ==================

A WeChat message that cannot be sent — 43101 (refused or acceptance used up), a permanent
errcode, or attempts exhausted — becomes an SMS (``NOTIFY_SMS_FALLBACK``) in the transaction
that marks it failed. Phones and openids are read at delivery, never stored in the payload (the
outcome of a full deletion goes to the phone its ``DeletionRequest`` keeps encrypted until then).
"""

from __future__ import annotations

import datetime

from django.conf import settings

from employees.models import Employee, WechatUser
from employees.sms import NoticeNotConfigured, send_notice
from employees.wechat_api import SubscribeMessage, SubscribeRejected, WechatUnavailable, send_subscribe_message
from shanqian import outbox
from shanqian.errors import RateLimited, UpstreamFailed
from shanqian.outbox import Delivered, Fail, Retry, RetryPolicy

from ..privacy.models import DeletionRequest
from . import hr, webhooks

WORKER_WECHAT = "worker.wechat"
WORKER_SMS = "worker.sms"
HR_EMAIL = "hr.email"
HR_WECOM = "hr.wecom"
WEBHOOK = "webhook"


def deliver_wechat(message) -> Delivered:
    payload = message.payload
    user = WechatUser.objects.select_related("platform").filter(pk=payload["user_id"]).first()
    if user is None:
        raise Fail("小程序用户已不存在")
    subscribe = SubscribeMessage(
        openid=user.openid,
        template_id=payload["template_id"],
        page=payload.get("page", ""),
        data=payload["data"],
        miniprogram_state=payload.get("miniprogram_state", "formal"),
    )
    try:
        send_subscribe_message(platform=user.platform, message=subscribe)
    except SubscribeRejected as exc:
        raise Fail(exc.message) from None
    except WechatUnavailable as exc:
        raise Retry(exc.message) from None
    return Delivered()


def wechat_failed(message) -> None:
    """The worker must still be told: queue the SMS the payload carries (in this same transaction)."""
    sms = message.payload.get("sms")
    if sms and settings.NOTIFY_SMS_FALLBACK:
        outbox.enqueue(
            channel=WORKER_SMS,
            payload={**sms, "instead_of": message.pk},
            summary=f"{message.summary}（微信未送达，改发短信）",
            ref=message.ref,
        )


def _notice_phone(payload: dict) -> str | None:
    if payload.get("employee_id"):
        return Employee.objects.filter(pk=payload["employee_id"]).values_list("phone", flat=True).first()
    if payload.get("deletion_request_id"):
        # The resume is gone (a full deletion): the request kept the phone, encrypted, for this notice.
        return (
            DeletionRequest.objects.filter(pk=payload["deletion_request_id"])
            .values_list("notice_phone", flat=True)
            .first()
        )
    return None


def deliver_sms(message) -> Delivered:
    payload = message.payload
    phone = _notice_phone(payload)
    if not phone:
        raise Fail("签约人没有手机号")
    try:
        send_notice(phone, kind=payload["kind"], text=payload["text"], params=payload.get("params") or {})
    except NoticeNotConfigured as exc:
        raise Fail(str(exc)) from None
    except RateLimited as exc:
        raise Retry(exc.msg, delay=max(exc.retry_after, 60)) from None
    except UpstreamFailed as exc:
        raise Retry(exc.msg) from None
    if payload.get("deletion_request_id") and not payload.get("employee_id"):
        DeletionRequest.objects.filter(pk=payload["deletion_request_id"]).update(notice_phone="")
    return Delivered()


def register() -> None:
    outbox.register_channel(
        WORKER_WECHAT,
        label="员工：微信订阅消息",
        deliver=deliver_wechat,
        on_failed=wechat_failed,
        policy=RetryPolicy(max_attempts=5, base_delay=30, max_delay=600),
    )
    outbox.register_channel(
        WORKER_SMS,
        label="员工：短信",
        deliver=deliver_sms,
        policy=RetryPolicy(max_attempts=5, base_delay=60, max_delay=1800),
    )
    outbox.register_channel(
        HR_EMAIL,
        label="人事：邮件",
        deliver=hr.deliver_email,
        policy=RetryPolicy(max_attempts=6, base_delay=60, max_delay=3600),
    )
    outbox.register_channel(
        HR_WECOM,
        label="人事：企业微信群机器人",
        deliver=hr.deliver_wecom,
        policy=RetryPolicy(max_attempts=6, base_delay=60, max_delay=3600),
    )
    outbox.register_channel(
        WEBHOOK,
        label="Webhook",
        deliver=webhooks.deliver,
        redeliverable=True,
        policy=RetryPolicy(
            max_attempts=100,
            base_delay=30,
            max_delay=3600,
            window=datetime.timedelta(hours=settings.WEBHOOK_RETRY_HOURS),
        ),
    )
