"""
Who is told what on which event (signing.notifications.services): the outbox rows a change writes,
in its own transaction. Delivery itself is test_delivery.py.
"""

import datetime
import json

import pytest
from django.db import transaction

from shanqian.models import OutboxMessage
from signing.models import SignStatus
from signing.notifications import services
from signing.notifications.models import SubscribeAcceptance, SubscribeTemplate, WebhookEndpoint, WecomRobot

pytestmark = pytest.mark.django_db

ROBOT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"


def rows(**filters):
    return list(OutboxMessage.objects.filter(**filters).order_by("pk"))


def channels():
    return sorted(OutboxMessage.objects.values_list("channel", flat=True))


def approve(application):
    application.status = SignStatus.AWAITING_SIGNATURE
    application.save(update_fields=["status"])
    return services.on_status_changed(application=application, source=1, target=2)


def test_without_an_acceptance_the_worker_gets_an_sms_and_nothing_personal_is_stored(application):
    approve(application)

    (sms,) = rows(channel="worker.sms")
    assert sms.payload["kind"] == "approved"
    assert sms.payload["employee_id"] == application.em_id
    assert "甲科技有限公司" in sms.payload["text"] and "阅读并签署" in sms.payload["text"]
    assert sms.payload["params"] == {"company": "甲科技有限公司"}
    assert sms.ref == f"signing.signapplication:{application.pk}"
    stored = json.dumps([row.payload for row in OutboxMessage.objects.all()], ensure_ascii=False)
    assert "13900001111" not in stored and "张三" not in stored and "o-worker-1" not in stored


def test_with_an_unused_acceptance_the_worker_gets_a_subscribe_message_and_the_acceptance_is_used(
    application, approved_template, worker
):
    older = SubscribeAcceptance.objects.create(user=worker, template_id="TPL-approved")
    newer = SubscribeAcceptance.objects.create(user=worker, template_id="TPL-approved")

    approve(application)

    (wechat,) = rows(channel="worker.wechat")
    assert rows(channel="worker.sms") == []
    assert wechat.payload["template_id"] == "TPL-approved"
    assert wechat.payload["page"] == "pages/index/index"
    data = wechat.payload["data"]
    assert data["thing1"] == "甲科技有限公司"
    assert data["phrase2"] == "待签约"
    assert data["thing4"] == "请进入小程序阅读并签署合同"
    assert data["time3"].endswith(tuple("0123456789"))
    assert wechat.payload["sms"]["text"]  # what to send should WeChat refuse
    older.refresh_from_db()
    newer.refresh_from_db()
    assert older.used_at is not None and older.message_id == wechat.pk
    assert newer.used_at is None  # one acceptance, one message


def test_an_acceptance_of_another_template_or_a_disabled_template_does_not_count(
    application, approved_template, worker
):
    SubscribeAcceptance.objects.create(user=worker, template_id="TPL-other")
    approve(application)
    assert channels() == ["worker.sms"]

    OutboxMessage.objects.all().delete()
    SubscribeAcceptance.objects.create(user=worker, template_id="TPL-approved")
    SubscribeTemplate.objects.filter(pk=approved_template.pk).update(enabled=False)
    services.notify_worker(application=application, kind="approved")
    assert channels() == ["worker.sms"]


def test_with_the_sms_fallback_off_a_worker_without_acceptance_is_not_messaged(application, settings):
    settings.NOTIFY_SMS_FALLBACK = False

    approve(application)

    assert channels() == []


def test_a_rejection_carries_the_reason(application):
    application.status, application.reason = SignStatus.REJECTED, "身份证照片模糊"
    application.save(update_fields=["status", "reason"])

    services.on_status_changed(application=application, source=1, target=4)

    (sms,) = rows(channel="worker.sms")
    assert "原因：身份证照片模糊" in sms.payload["text"]
    assert sms.payload["params"] == {"company": "甲科技有限公司", "reason": "身份证照片模糊"}


def test_a_cancellation_is_told_to_the_worker_only_when_staff_cancelled(application, handler):
    application.status = SignStatus.CANCELLED
    application.save(update_fields=["status"])

    services.on_status_changed(application=application, source=1, target=5)
    assert channels() == []
    services.on_status_changed(application=application, source=1, target=5, actor_staff=handler)
    assert channels() == ["worker.sms"]


def test_a_new_application_tells_its_handler_by_email_and_their_robots(application, handler, company):
    WecomRobot.objects.create(name="王芳的群", handler=handler, url=ROBOT_URL)
    WecomRobot.objects.create(name="甲公司招聘群", company=company, url=ROBOT_URL)
    WecomRobot.objects.create(name="停用的群", company=company, url=ROBOT_URL, enabled=False)

    services.on_status_changed(application=application, source=None, target=1)

    assert channels() == ["hr.email", "hr.wecom", "hr.wecom"]
    (email,) = rows(channel="hr.email")
    assert email.payload == {
        "kind": "application_assigned",
        "application_id": application.pk,
        "values": {},
        "handler_id": handler.pk,
    }


def test_a_handler_without_an_email_gets_no_email(application, handler):
    type(handler).objects.filter(pk=handler.pk).update(email="")

    services.on_status_changed(application=application, source=None, target=1)

    assert channels() == []


def test_a_reassigned_application_tells_the_new_handler(application):
    from tests.factories import HandlerFactory

    new_handler = HandlerFactory(username="hr-new", email="new@example.com")
    application.ad_user = new_handler
    application.save(update_fields=["ad_user"])

    services.on_reassigned(application=application)

    (email,) = rows(channel="hr.email")
    assert email.payload["handler_id"] == new_handler.pk


def test_a_signature_tells_the_worker_the_handler_and_downstream_systems(application, endpoint):
    application.status = SignStatus.SIGNED
    application.save(update_fields=["status"])

    services.on_status_changed(application=application, source=2, target=3)

    assert channels() == ["hr.email", "webhook", "webhook", "worker.sms"]
    events = sorted(row.payload["event"] for row in rows(channel="webhook"))
    assert events == ["application.status_changed", "contract.signed"]
    (sms,) = rows(channel="worker.sms")
    assert "查看和下载" in sms.payload["text"]


def test_a_webhook_body_carries_ids_and_statuses_only(application, endpoint):
    approve(application)

    (hook,) = rows(channel="webhook")
    body = json.loads(hook.payload["body"])
    assert set(body) == {"id", "event", "created_at", "data"}
    assert body["event"] == "application.status_changed"
    assert body["id"].startswith("evt_")
    assert body["data"] == {
        "application_id": application.pk,
        "from_status": 1,
        "to_status": 2,
        "company_id": application.company_id,
        "handler_id": application.ad_user_id,
        "changed_at": body["data"]["changed_at"],
    }
    assert "张三" not in hook.payload["body"] and "13900001111" not in hook.payload["body"]


def test_an_endpoint_that_opted_in_gets_the_name_and_phone(application, endpoint):
    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(include_personal_data=True)

    approve(application)

    body = json.loads(rows(channel="webhook")[0].payload["body"])
    assert body["data"]["personal"] == {"real_name": "张三", "phone": "13900001111"}


def test_endpoints_get_only_the_events_they_want_and_only_of_their_platform(application, endpoint, receiver):
    from tests.factories import PlatformFactory

    WebhookEndpoint.objects.filter(pk=endpoint.pk).update(events=["contract.signed"])
    other = PlatformFactory(code="other")
    WebhookEndpoint.objects.create(
        platform=other, name="别家", url=receiver.url, secret="x" * 20, events=["application.status_changed"]
    )
    WebhookEndpoint.objects.create(
        platform=endpoint.platform,
        name="停用",
        url=receiver.url,
        secret="x" * 20,
        events=["application.status_changed"],
        enabled=False,
    )

    approve(application)

    assert rows(channel="webhook") == []


def test_the_lifecycle_notices_for_the_ledger(application, endpoint):
    end = datetime.date(2027, 6, 30)

    services.contract_expiring(application=application, end_date=end)
    services.probation_ending(application=application, probation_end=datetime.date(2027, 3, 1))
    services.contract_ended(application=application, ended_on=end, ground="期满终止", contract_id=77)

    kinds = [(row.channel, row.payload.get("kind") or row.payload.get("event")) for row in rows()]
    assert kinds == [
        ("worker.sms", "contract_expiring"),
        ("hr.email", "contract_expiring"),
        ("hr.email", "probation_ending"),
        ("worker.sms", "contract_ended"),
        ("webhook", "contract.ended"),
    ]
    ended = json.loads(rows(channel="webhook")[0].payload["body"])["data"]
    assert ended == {
        "application_id": application.pk,
        "contract_id": 77,
        "company_id": application.company_id,
        "ended_on": "2027-06-30",
        "ground": "期满终止",
    }
    assert "2027年6月30日" in rows(channel="worker.sms")[0].payload["text"]


def test_rows_written_in_a_rolled_back_change_vanish_with_it(application, endpoint, approved_template, worker):
    acceptance = SubscribeAcceptance.objects.create(user=worker, template_id="TPL-approved")

    with pytest.raises(RuntimeError), transaction.atomic():
        approve(application)
        raise RuntimeError("the approval failed later on")

    assert OutboxMessage.objects.count() == 0
    acceptance.refresh_from_db()
    assert acceptance.used_at is None  # still there for the next message


def test_one_move_writes_its_notices_in_a_fixed_number_of_queries(
    application, endpoint, approved_template, worker, django_assert_max_num_queries
):
    SubscribeAcceptance.objects.create(user=worker, template_id="TPL-approved")
    application.status = SignStatus.AWAITING_SIGNATURE
    application.save(update_fields=["status"])

    # context, endpoints, template, acceptance (pick + take), one INSERT, the acceptance's message id
    with django_assert_max_num_queries(7):
        services.on_status_changed(application=application, source=1, target=2)
    assert channels() == ["webhook", "worker.wechat"]


def test_an_unknown_webhook_event_is_a_programming_error(platform):
    with pytest.raises(ValueError):
        services.emit_webhook(platform_id=platform.pk, event="application.deleted", data={})


def test_a_move_by_a_supervisor_tells_the_handler_whose_application_it_is(application, superuser):
    application.status = SignStatus.AWAITING_SIGNATURE
    application.save(update_fields=["status"])

    services.on_status_changed(application=application, source=1, target=2, actor_staff=superuser)

    (email,) = rows(channel="hr.email")
    assert email.payload["kind"] == "application_reviewed"
    assert email.payload["values"] == {"by": superuser.display_name, "move": "→ 待签约"}


def test_the_handlers_own_move_does_not_email_them(application, handler):
    application.status = SignStatus.AWAITING_SIGNATURE
    application.save(update_fields=["status"])

    services.on_status_changed(application=application, source=1, target=2, actor_staff=handler)

    assert rows(channel="hr.email") == []
