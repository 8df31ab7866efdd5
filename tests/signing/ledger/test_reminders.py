"""
The daily reminders (SPEC §12), by time travel: a term ending within CONTRACT_EXPIRY_NOTICE_DAYS →
the worker and the handler; a probation ending within 7 days → the handler; each once per
contract and threshold, however many days the task runs; the run reads in batches.
"""

import datetime
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


def test_a_run_reads_in_batches_with_a_constant_number_of_queries_per_contract(
    handler, company, django_assert_max_num_queries
):
    end = START + datetime.timedelta(days=10)
    for _ in range(12):
        make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)

    # Per batch: savepoint pair, select, insert of the reminders; per contract: its notice's reads
    # (application, subscribe template, robots) and one outbox insert.
    with at(START), django_assert_max_num_queries(3 * (4 + 4) + 12 * 4 + 4):
        counts = services.reminders_send(batch=5)

    assert counts["expiry"] == 12
    assert ContractReminder.objects.count() == 12
    assert len(notices()) == 24


def test_a_failing_notice_leaves_nothing_half_written(handler, company, monkeypatch):
    end = START + datetime.timedelta(days=10)
    make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)
    make_contract(handler=handler, company=company, start_date=datetime.date(2024, 1, 1), end_date=end)
    calls = []

    def broken(**kwargs):
        calls.append(kwargs)
        if len(calls) == 2:
            raise RuntimeError("outbox down")
        return real(**kwargs)

    real = services.notify.contract_expiring
    monkeypatch.setattr(services.notify, "contract_expiring", broken)

    with at(START), pytest.raises(RuntimeError):
        services.reminders_send()

    assert ContractReminder.objects.count() == 0
    assert notices() == []

    monkeypatch.setattr(services.notify, "contract_expiring", real)
    with at(START):
        assert services.reminders_send()["expiry"] == 2
