"""
The daily reminders (SPEC §12), by time travel: a term ending within CONTRACT_EXPIRY_NOTICE_DAYS →
the worker and the handler; a probation ending within 7 days → the handler; each once per
contract and threshold, however many days the task runs; the run reads in batches.
"""

import datetime
import re
import zoneinfo

import pytest
import time_machine

from shanqian.models import OutboxMessage
from signing.ledger import services, tasks
from signing.ledger.models import ContractReminder, ContractStatus, TermType
from tests.factories import HandlerFactory, make_contract

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
START = datetime.date(2027, 1, 4)


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_BACKEND = "file"
    settings.NOTIFY_SMS_FALLBACK = True
    settings.CONTRACT_EXPIRY_NOTICE_DAYS = 30
    settings.CONTRACT_PROBATION_NOTICE_DAYS = 7


@pytest.fixture
def handler(db):
    return HandlerFactory(username="hr-ledger", name="王芳", email="wangfang@example.com")


def at(day: datetime.date):
    """Travel to 09:00 Beijing time on ``day`` (the beat runs the task in the morning)."""
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(9), tzinfo=SHANGHAI), tick=False)


def notices(kind: str | None = None) -> list[tuple[str, str]]:
    rows = OutboxMessage.objects.order_by("id")
    found = [(row.channel, row.payload.get("kind")) for row in rows]
    return [item for item in found if kind is None or item[1] == kind]


def run_on(day: datetime.date) -> dict:
    with at(day):
        return tasks.ledger_daily()


def test_expiry_is_told_to_worker_and_handler_once_when_the_threshold_is_reached(handler, company):
    end = START + datetime.timedelta(days=45)
    contract = make_contract(handler=handler, company=company, start_date=datetime.date(2024, 2, 19), end_date=end)

    assert run_on(end - datetime.timedelta(days=31))["expiry"] == 0  # 31 days ahead: not yet
    assert notices() == []

    assert run_on(end - datetime.timedelta(days=30))["expiry"] == 1  # exactly 30 days: now
    assert notices() == [("worker.sms", "contract_expiring"), ("hr.email", "contract_expiring")]

    for offset in (29, 10, 1, 0):  # every later day of the window: nothing again
        assert run_on(end - datetime.timedelta(days=offset))["expiry"] == 0
    assert len(notices()) == 2
    reminder = ContractReminder.objects.get()
    assert (reminder.contract_id, reminder.kind, reminder.days, reminder.due_date) == (contract.pk, "expiry", 30, end)


def test_a_contract_found_late_is_still_told_within_the_window(handler, company):
    end = START + datetime.timedelta(days=5)
    make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 10), end_date=end)

    assert run_on(START)["expiry"] == 1
    assert notices("contract_expiring") == [("worker.sms", "contract_expiring"), ("hr.email", "contract_expiring")]


def test_the_day_after_the_end_the_term_is_expired_not_reminded(handler, company):
    end = START
    contract = make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 5), end_date=end)

    result = run_on(end + datetime.timedelta(days=1))

    assert result["expired"] == 1 and result["expiry"] == 0
    contract.refresh_from_db()
    assert contract.status == ContractStatus.EXPIRED
    assert notices() == []


def test_the_threshold_follows_the_setting(handler, company, settings):
    settings.CONTRACT_EXPIRY_NOTICE_DAYS = 60
    end = START + datetime.timedelta(days=60)
    make_contract(handler=handler, company=company, start_date=datetime.date(2024, 3, 5), end_date=end)

    assert run_on(START - datetime.timedelta(days=1))["expiry"] == 0
    assert run_on(START)["expiry"] == 1
    assert ContractReminder.objects.get().days == 60


def test_probation_ending_within_seven_days_is_told_to_the_handler_only(handler, company):
    probation_end = START + datetime.timedelta(days=20)
    make_contract(
        handler=handler,
        company=company,
        start_date=START - datetime.timedelta(days=70),
        end_date=START + datetime.timedelta(days=1000),
        probation_end=probation_end,
    )

    assert run_on(probation_end - datetime.timedelta(days=8))["probation"] == 0
    assert run_on(probation_end - datetime.timedelta(days=7))["probation"] == 1
    assert run_on(probation_end - datetime.timedelta(days=3))["probation"] == 0
    assert run_on(probation_end)["probation"] == 0

    assert notices() == [("hr.email", "probation_ending")]


def test_open_ended_and_closed_contracts_are_never_reminded(handler, company):
    make_contract(handler=handler, company=company, term_type=TermType.OPEN_ENDED, start_date=START, end_date=None)
    make_contract(
        handler=handler,
        company=company,
        start_date=datetime.date(2024, 1, 1),
        end_date=START + datetime.timedelta(days=3),
        status=ContractStatus.DISSOLVED,
        ended_on=START - datetime.timedelta(days=10),
    )

    assert run_on(START) == {"expired": 0, "expiry": 0, "probation": 0}
    assert notices() == []


def test_a_run_reads_in_batches_with_a_constant_number_of_queries_per_batch(
    handler, company, django_assert_max_num_queries
):
    end = START + datetime.timedelta(days=10)
    for _ in range(12):
        make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)

    # Per batch of 5: savepoint pair, the locked select, the notices' reads (applications, subscribe
    # template, robots), one outbox INSERT, one reminders INSERT — the same for 1 row or 500; then
    # the empty read that ends each of the two thresholds.
    with at(START), django_assert_max_num_queries(3 * 8 + 2 * 3) as captured:
        counts = services.reminders_send(batch=5)

    assert counts["expiry"] == 12
    assert ContractReminder.objects.count() == 12
    assert len(notices()) == 24
    # MariaDB quotes names with backticks, PostgreSQL and SQLite with double quotes.
    outbox_inserts = [
        q for q in captured.captured_queries if re.match(r'INSERT INTO [`"]shanqian_outboxmessage[`"]', q["sql"])
    ]
    assert len(outbox_inserts) == 3


def test_a_batch_of_many_contracts_costs_what_a_batch_of_one_does(handler, company, django_assert_max_num_queries):
    end = START + datetime.timedelta(days=10)
    make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)
    with at(START), django_assert_max_num_queries(20) as one:
        assert services.reminders_send()["expiry"] == 1
    for _ in range(20):
        make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)

    with at(START), django_assert_max_num_queries(len(one.captured_queries)):
        assert services.reminders_send()["expiry"] == 20

    assert ContractReminder.objects.count() == 21
    assert len(notices("contract_expiring")) == 42


def test_one_task_is_queued_per_batch_and_it_fans_out_to_every_row(
    handler, company, monkeypatch, django_capture_on_commit_callbacks
):
    from shanqian import celery as celery_module
    from shanqian import outbox

    end = START + datetime.timedelta(days=10)
    for _ in range(7):
        make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)
    sent = []
    monkeypatch.setattr(celery_module, "send_now", lambda task, *args, **kw: sent.append((task.name, args)) or True)

    with at(START), django_capture_on_commit_callbacks(execute=True):
        assert services.reminders_send(batch=3)["expiry"] == 7

    # 3 batches (3 + 3 + 1 contracts), each one task carrying its 6, 6 and 2 outbox rows.
    assert [name for name, _ in sent] == ["shanqian.tasks.outbox_fan_out"] * 3
    ids = [pk for _, (batch,) in sent for pk in batch]
    assert sorted(ids) == list(OutboxMessage.objects.order_by("pk").values_list("pk", flat=True))
    assert [len(batch) for _, (batch,) in sent] == [6, 6, 2]

    # The worker's side: each pending row of the batch gets its own delivery task.
    sent.clear()
    first = ids[:6]
    OutboxMessage.objects.filter(pk=first[0]).update(state=OutboxMessage.State.DELIVERED)
    assert outbox.fan_out(first) == 5
    assert sent == [("shanqian.tasks.outbox_deliver", (pk,)) for pk in first[1:]]


def test_a_worker_with_a_subscribe_acceptance_gets_wechat_in_a_batch_and_uses_it_up_once(handler, company):
    from signing.notifications.catalog import WorkerNotice
    from signing.notifications.models import SubscribeAcceptance, SubscribeTemplate

    end = START + datetime.timedelta(days=10)
    contracts = [
        make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)
        for _ in range(3)
    ]
    user = contracts[0].employee.user
    SubscribeTemplate.objects.create(
        platform_id=user.platform_id,
        kind=WorkerNotice.CONTRACT_EXPIRING,
        template_id="tpl-expiring",
        mapping={"thing1": "company_name", "date2": "end_date"},
    )
    used, spare = (SubscribeAcceptance.objects.create(user=user, template_id="tpl-expiring") for _ in range(2))

    with at(START):
        assert services.reminders_send()["expiry"] == 3

    channels = sorted(channel for channel, kind in notices("contract_expiring") if channel.startswith("worker."))
    others = [c for c in contracts if c.employee.user_id != user.pk]
    assert channels == sorted(["worker.wechat"] + ["worker.sms"] * len(others))
    used.refresh_from_db()
    spare.refresh_from_db()
    assert used.used_at is not None and used.message.channel == "worker.wechat"
    assert used.message.payload["template_id"] == "tpl-expiring"
    assert spare.used_at is None and spare.message_id is None


def test_a_failing_notice_leaves_nothing_half_written(handler, company, monkeypatch):
    end = START + datetime.timedelta(days=10)
    make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)
    make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)
    real = services.notify.contracts_expiring_many

    def broken(**kwargs):
        real(**kwargs)  # the batch's outbox rows are written, then something fails
        raise RuntimeError("outbox down")

    monkeypatch.setattr(services.notify, "contracts_expiring_many", broken)

    with at(START), pytest.raises(RuntimeError):
        services.reminders_send()

    assert ContractReminder.objects.count() == 0
    assert notices() == []

    monkeypatch.setattr(services.notify, "contracts_expiring_many", real)
    with at(START):
        assert services.reminders_send()["expiry"] == 2


def test_batches_follow_the_due_date_then_the_id_and_miss_or_repeat_nobody(handler, company):
    ends = [10, 3, 10, 25, 3, 3, 17, 10, 25, 1, 3]
    contracts = [
        make_contract(
            handler=handler,
            company=company,
            start_date=datetime.date(2024, 1, 1),
            end_date=START + datetime.timedelta(days=days),
        )
        for days in ends
    ]

    with at(START):
        assert services.reminders_send(batch=2)["expiry"] == len(ends)  # ties on a date cross batch edges

    reminded = list(ContractReminder.objects.order_by("contract_id").values_list("contract_id", flat=True))
    assert reminded == sorted(c.pk for c in contracts)
    assert len(notices("contract_expiring")) == 2 * len(ends)


def test_each_worker_gets_the_text_of_their_own_company_and_date_in_a_shared_batch(handler, company, other_company):
    # The batch renders each SMS text once per (company, date): rows sharing one get it, the others their own.
    ends = [START + datetime.timedelta(days=days) for days in (5, 5, 9)]
    for end in ends:
        for owner in (company, other_company):
            make_contract(handler=handler, company=owner, start_date=datetime.date(2024, 1, 1), end_date=end)

    with at(START):
        assert services.reminders_send()["expiry"] == 6

    texts = sorted(row.payload["text"] for row in OutboxMessage.objects.filter(channel="worker.sms").order_by("id"))
    expected = sorted(
        f"【闪签云】您与{owner.company_name}的劳动合同将于{end.year}年{end.month}月{end.day}日到期，请留意续签安排。"
        for end in ends
        for owner in (company, other_company)
    )
    assert texts == expected
    params = {
        (row.payload["params"]["company"], row.payload["params"]["end_date"])
        for row in OutboxMessage.objects.filter(channel="worker.sms")
    }
    assert params == {
        (owner.company_name, f"{end.year}年{end.month}月{end.day}日")
        for end in ends
        for owner in (company, other_company)
    }
