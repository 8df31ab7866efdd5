"""
Every status move writes its notices as outbox rows in the move's own transaction
(``signing.services.applications._transition`` → ``notifications.services.on_status_changed``):
a committed move's notices are never lost, a rolled-back move sends nothing, and the delivery
task is queued only after commit.
"""

import datetime
import json
from pathlib import Path

import pytest
from django.core import mail
from django.db import transaction
from django.utils import timezone

from shanqian.models import OutboxMessage
from signing.models import SignApplication, SignStatus
from signing.services import applications as services
from tests.factories import HandlerFactory

from .conftest import received_json

pytestmark = pytest.mark.django_db
State = OutboxMessage.State
ENTRY = timezone.localdate() + datetime.timedelta(days=7)


def outbox_rows():
    return list(OutboxMessage.objects.order_by("pk").values_list("channel", "payload"))


def channels():
    return sorted(OutboxMessage.objects.values_list("channel", flat=True))


def approve(application, handler, contract):
    return services.application_approve(
        application=application, staff=handler, contract=contract, entry_date=ENTRY, salary="6500"
    )


def sms_lines(settings) -> list[dict]:
    path = Path(settings.SMS_FILE_PATH)
    return [json.loads(line) for line in path.read_text().splitlines()] if path.exists() else []


def test_approving_writes_the_workers_notice_and_the_webhook_in_the_moves_transaction(
    application, handler, contract, endpoint, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks() as callbacks, transaction.atomic():
        approve(application, handler, contract)
        # Inside the move's transaction, before anything is queued.
        assert channels() == ["webhook", "worker.sms"]
        assert callbacks == []

    rows = dict(outbox_rows())
    assert rows["worker.sms"]["kind"] == "approved"
    body = json.loads(rows["webhook"]["body"])
    assert body["event"] == "application.status_changed"
    assert (body["data"]["from_status"], body["data"]["to_status"]) == (1, 2)
    # One delivery task per row, queued on commit (plus the status signal).
    assert len(callbacks) == 3


def test_a_rolled_back_move_leaves_no_notice_and_queues_nothing(
    application, handler, contract, endpoint, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        approve(application, handler, contract)
        assert OutboxMessage.objects.count() == 2
        raise RuntimeError("the caller's transaction fails after the move")

    assert OutboxMessage.objects.count() == 0
    assert callbacks == []
    assert SignApplication.objects.get(pk=application.pk).status == SignStatus.APPLIED


def test_a_move_that_fails_inside_the_lock_writes_no_notice(application, worker, settings):
    settings.SIGN_REQUIRE_REALNAME = False
    application.status = SignStatus.AWAITING_SIGNATURE
    application.save(update_fields=["status"])

    def broken_seal(locked):
        raise OSError("storage is down")

    with pytest.raises(OSError):
        services.application_sign(application=application, user=worker, before_commit=broken_seal)

    assert OutboxMessage.objects.count() == 0


def test_a_committed_move_is_delivered_after_commit(
    application, handler, contract, endpoint, receiver, settings, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        approve(application, handler, contract)

    assert set(OutboxMessage.objects.values_list("state", flat=True)) == {State.DELIVERED}
    (line,) = sms_lines(settings)
    assert line["phone"] == "13900001111" and line["code"] == ""
    assert "甲科技有限公司" in line["text"]
    (delivery,) = received_json(receiver)
    assert delivery["event"] == "application.status_changed"


def test_rejecting_tells_the_worker_the_reason(application, handler, settings, django_capture_on_commit_callbacks):
    with django_capture_on_commit_callbacks(execute=True):
        services.application_reject(application=application, staff=handler, reason="身份证照片不清晰")

    (sms,) = OutboxMessage.objects.filter(channel="worker.sms")
    assert sms.payload["kind"] == "rejected"
    (line,) = sms_lines(settings)
    assert "身份证照片不清晰" in line["text"]


def test_signing_offline_tells_the_worker_the_handler_and_downstream(
    application, handler, endpoint, django_capture_on_commit_callbacks
):
    application.status = SignStatus.AWAITING_SIGNATURE
    application.save(update_fields=["status"])

    with django_capture_on_commit_callbacks(execute=True):
        services.application_sign_offline(application=application, staff=handler, note="门店纸质签署")

    assert channels() == ["hr.email", "webhook", "webhook", "worker.sms"]
    events = sorted(json.loads(p["body"])["event"] for c, p in outbox_rows() if c == "webhook")
    assert events == ["application.status_changed", "contract.signed"]
    (email,) = mail.outbox
    assert email.to == ["wangfang@example.com"]


def test_a_worker_cancelling_is_not_echoed_back_but_staff_cancelling_is(application, worker, handler):
    services.application_cancel(application=application, actor_user=worker)
    assert channels() == []  # no webhook endpoint here, and the worker tapped it themselves

    other = SignApplication.objects.create(
        em=application.em, company=application.company, work_pos="普工", ad_user=handler, status=SignStatus.APPLIED
    )
    services.application_cancel(application=other, actor_staff=handler, note="岗位已招满")
    (sms,) = OutboxMessage.objects.filter(channel="worker.sms")
    assert sms.payload["kind"] == "cancelled"


def test_opening_an_application_tells_its_handler(employee, handler, company, django_capture_on_commit_callbacks):
    choice = services.ApplicationChoice(company=company, work_pos="普工", ad_user=handler)

    with django_capture_on_commit_callbacks(execute=True):
        application = services.application_create(employee=employee, choice=choice, actor_user=employee.user)

    (row,) = OutboxMessage.objects.all()
    assert (row.channel, row.payload["kind"]) == ("hr.email", "application_assigned")
    assert row.payload["handler_id"] == handler.pk
    assert row.ref == f"signing.signapplication:{application.pk}"
    (email,) = mail.outbox
    assert email.to == ["wangfang@example.com"]


def test_a_pending_application_handed_to_another_handler_tells_the_new_one(application, employee, company):
    newcomer = HandlerFactory(username="hr-new", name="李雷", email="lilei@example.com")
    choice = services.ApplicationChoice(company=company, work_pos="普工", ad_user=newcomer)

    services.application_update_pending(application=application, choice=choice, actor_user=employee.user)

    (row,) = OutboxMessage.objects.all()
    assert (row.channel, row.payload["kind"]) == ("hr.email", "application_assigned")
    assert row.payload["handler_id"] == newcomer.pk

    # The same choice again changes nothing and tells nobody.
    services.application_update_pending(application=application, choice=choice, actor_user=employee.user)
    assert OutboxMessage.objects.count() == 1


def test_a_refused_move_writes_no_notice(application, handler, contract):
    services.application_reject(application=application, staff=handler, reason="材料不全")
    OutboxMessage.objects.all().delete()

    with pytest.raises(services.TransitionNotAllowed):
        approve(application, handler, contract)

    assert OutboxMessage.objects.count() == 0


def test_a_renewal_asks_the_worker_to_sign_in_its_own_transaction(handler, company, contract):
    from tests.factories import make_contract

    today = timezone.localdate()
    record = make_contract(
        handler=handler,
        company=company,
        name="张三",
        start_date=today - datetime.timedelta(days=300),
        end_date=today + datetime.timedelta(days=25),
        salary="8000.00",
    )
    OutboxMessage.objects.all().delete()

    with pytest.raises(RuntimeError), transaction.atomic():
        services.application_renew(record=record, staff=handler, contract=contract, salary="9000")
        assert OutboxMessage.objects.filter(channel="worker.sms").count() == 1
        raise RuntimeError
    assert OutboxMessage.objects.count() == 0

    renewal = services.application_renew(record=record, staff=handler, contract=contract, salary="9000")

    (sms,) = OutboxMessage.objects.filter(channel="worker.sms")
    assert sms.payload["kind"] == "approved"
    assert sms.ref == f"signing.signapplication:{renewal.pk}"
