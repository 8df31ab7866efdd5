"""
The durable outbox (shanqian.outbox): rows written with the change, delivered after commit,
attempts recorded, exponential backoff with jitter, a final state, the re-drive, claims.
"""

import datetime
import random

import pytest
import time_machine
from django.db import transaction
from django.utils import timezone

from shanqian import outbox
from shanqian.models import OutboxAttempt, OutboxMessage

pytestmark = pytest.mark.django_db

State = OutboxMessage.State
Outcome = OutboxAttempt.Outcome
T0 = datetime.datetime(2026, 12, 1, 9, 0, tzinfo=datetime.UTC)


class Recorder:
    """A channel whose next answers the test decides; it records what it was asked to deliver."""

    def __init__(self):
        self.calls = []
        self.answers = []
        self.failed = []

    def deliver(self, message):
        self.calls.append(message.payload)
        answer = self.answers.pop(0) if self.answers else None
        if isinstance(answer, BaseException):
            raise answer
        return answer

    def on_failed(self, message):
        self.failed.append((message.pk, message.last_error))


@pytest.fixture
def recorder():
    recorder = Recorder()
    outbox.register_channel(
        "test",
        label="测试渠道",
        deliver=recorder.deliver,
        on_failed=recorder.on_failed,
        policy=outbox.RetryPolicy(max_attempts=3, base_delay=10, max_delay=60),
    )
    yield recorder
    outbox._CHANNELS.pop("test", None)


def enqueue(**kwargs):
    return outbox.enqueue(channel="test", payload=kwargs or {"n": 1}, summary="测试消息", ref="test:1")


def test_a_row_written_in_a_rolled_back_transaction_never_exists_nor_is_delivered(
    recorder, django_capture_on_commit_callbacks
):
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        enqueue()
        raise RuntimeError("the change failed")

    assert OutboxMessage.objects.count() == 0
    assert callbacks == []
    assert recorder.calls == []


def test_a_committed_row_is_delivered_after_commit_and_its_attempt_recorded(
    recorder, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=False) as callbacks:
        with transaction.atomic():
            message = enqueue(n=7)
        assert recorder.calls == []  # nothing is sent before the commit

    for callback in callbacks:
        callback()

    message.refresh_from_db()
    assert recorder.calls == [{"n": 7}]
    assert message.state == State.DELIVERED
    assert message.attempts == 1
    assert message.delivered_at is not None
    attempt = message.attempt_log.get()
    assert (attempt.number, attempt.outcome, attempt.error) == (1, Outcome.DELIVERED, "")
    assert attempt.duration_ms is not None


def test_a_temporary_failure_waits_with_exponential_backoff_and_jitter(recorder):
    with time_machine.travel(T0, tick=False):
        message = enqueue()
        recorder.answers = [outbox.Retry("对方繁忙", response_code=503)]
        assert outbox.deliver(message.pk) == "retry"

    message.refresh_from_db()
    assert message.state == State.PENDING
    assert message.attempts == 1
    assert message.last_error == "对方繁忙"
    assert message.last_response_code == 503
    # attempt 1 failed: base 10 s, equal jitter → between 5 and 10 s
    wait = (message.next_attempt_at - T0).total_seconds()
    assert 5 <= wait <= 10
    assert message.attempt_log.get().outcome == Outcome.RETRY


def test_a_row_is_not_sent_again_before_its_next_attempt_is_due(recorder):
    with time_machine.travel(T0, tick=False):
        message = enqueue()
        recorder.answers = [outbox.Retry("忙")]
        outbox.deliver(message.pk)
        assert outbox.deliver(message.pk) == "skipped"
    assert len(recorder.calls) == 1


@pytest.mark.parametrize(
    ("attempt", "low", "high"),
    [(1, 15, 30), (2, 30, 60), (3, 60, 120), (6, 480, 960), (7, 500, 1000), (20, 500, 1000)],
)
def test_backoff_doubles_per_attempt_up_to_the_cap(attempt, low, high):
    policy = outbox.RetryPolicy(base_delay=30, max_delay=1000)
    delays = [policy.delay(attempt, random.Random(seed)) for seed in range(50)]

    assert all(low <= delay <= high for delay in delays)
    assert len({round(delay, 3) for delay in delays}) > 40  # jittered, not one fixed value


def test_the_last_attempt_makes_the_row_final_failed_with_its_last_error(recorder):
    message = enqueue()
    recorder.answers = [outbox.Retry("第一次"), outbox.Retry("第二次"), outbox.Retry("第三次：仍然失败")]

    results = []
    for _ in range(3):
        OutboxMessage.objects.filter(pk=message.pk).update(next_attempt_at=timezone.now())
        results.append(outbox.deliver(message.pk))

    message.refresh_from_db()
    assert results == ["retry", "retry", "failed"]
    assert message.state == State.FAILED
    assert message.attempts == 3
    assert message.last_error == "第三次：仍然失败"
    assert [a.outcome for a in message.attempt_log.all()] == [Outcome.RETRY, Outcome.RETRY, Outcome.FAILED]
    assert recorder.failed == [(message.pk, "第三次：仍然失败")]
    assert outbox.deliver(message.pk) == "skipped"  # final rows are never sent again by themselves


def test_a_permanent_failure_is_final_at_once(recorder):
    message = enqueue()
    recorder.answers = [outbox.Fail("地址无效", response_code=410)]

    assert outbox.deliver(message.pk) == "failed"

    message.refresh_from_db()
    assert (message.state, message.attempts, message.last_error) == (State.FAILED, 1, "地址无效")
    assert recorder.failed == [(message.pk, "地址无效")]


def test_an_unexpected_exception_counts_as_a_temporary_failure_named_by_its_class(recorder):
    message = enqueue()
    recorder.answers = [ValueError("secret=abc in the text")]

    assert outbox.deliver(message.pk) == "retry"

    message.refresh_from_db()
    assert message.last_error == "内部错误：ValueError"
    assert "secret" not in message.last_error


def test_no_attempt_starts_after_the_retry_window(recorder):
    outbox.register_channel(
        "windowed",
        label="窗口",
        deliver=recorder.deliver,
        policy=outbox.RetryPolicy(
            max_attempts=100, base_delay=3600, max_delay=3600, window=datetime.timedelta(hours=2)
        ),
    )
    try:
        with time_machine.travel(T0, tick=False):
            message = outbox.enqueue(channel="windowed", payload={}, summary="x")
        assert message.retry_until == T0 + datetime.timedelta(hours=2)
        recorder.answers = [outbox.Retry("忙")] * 3
        with time_machine.travel(T0 + datetime.timedelta(minutes=1), tick=False):
            assert outbox.deliver(message.pk) == "retry"  # next ≤ T0+1h01 — inside the window
        with time_machine.travel(T0 + datetime.timedelta(hours=1, minutes=30), tick=False):
            assert outbox.deliver(message.pk) == "failed"  # next would be after T0+2h
    finally:
        outbox._CHANNELS.pop("windowed", None)


def test_a_row_held_by_a_live_worker_is_not_taken_by_another(recorder):
    with time_machine.travel(T0, tick=False):
        message = enqueue()
        # Another worker claimed it a moment ago and is sending.
        OutboxMessage.objects.filter(pk=message.pk).update(
            state=State.SENDING, lease_until=T0 + datetime.timedelta(seconds=60), attempts=1
        )
        assert outbox.deliver(message.pk) == "skipped"
    assert recorder.calls == []


def test_a_row_whose_worker_died_is_taken_over_once_its_lease_ran_out(recorder):
    with time_machine.travel(T0, tick=False):
        message = enqueue()
        OutboxMessage.objects.filter(pk=message.pk).update(
            state=State.SENDING, lease_until=T0 + datetime.timedelta(seconds=60), attempts=1
        )
    with time_machine.travel(T0 + datetime.timedelta(seconds=61), tick=False):
        assert outbox.deliver(message.pk) == "delivered"

    message.refresh_from_db()
    assert message.attempts == 2
    assert [(a.number, a.outcome) for a in message.attempt_log.all()] == [
        (1, Outcome.INTERRUPTED),
        (2, Outcome.DELIVERED),
    ]


def test_a_worker_whose_lease_was_taken_over_does_not_overwrite_the_result(recorder):
    message = enqueue()

    def slow_deliver(msg):
        # While this worker sends, its lease runs out and another worker takes the row over.
        OutboxMessage.objects.filter(pk=msg.pk).update(claim=None, state=State.SENDING)

    outbox.register_channel("test", label="测试渠道", deliver=slow_deliver)
    assert outbox.deliver(message.pk) == "skipped"

    message.refresh_from_db()
    assert message.state == State.SENDING  # left for the worker that holds it now
    assert message.delivered_at is None


def test_redrive_queues_rows_whose_task_was_lost_and_leaves_fresh_ones(recorder, settings):
    settings.OUTBOX_REDRIVE_GRACE = 30
    with time_machine.travel(T0, tick=False):
        lost = enqueue(n="lost")
        stuck = enqueue(n="stuck")
        OutboxMessage.objects.filter(pk=stuck.pk).update(
            state=State.SENDING, lease_until=T0 + datetime.timedelta(seconds=10), attempts=1
        )
        delivered = enqueue(n="done")
        OutboxMessage.objects.filter(pk=delivered.pk).update(state=State.DELIVERED)
    with time_machine.travel(T0 + datetime.timedelta(seconds=45), tick=False):
        fresh = enqueue(n="fresh")
        later = enqueue(n="later")
        OutboxMessage.objects.filter(pk=later.pk).update(next_attempt_at=T0 + datetime.timedelta(hours=1))

        assert set(outbox.due_for_redrive().values_list("pk", flat=True)) == {lost.pk, stuck.pk}
        assert outbox.redrive() == 2  # eager: delivered right here

    assert sorted(call["n"] for call in recorder.calls) == ["lost", "stuck"]
    assert OutboxMessage.objects.get(pk=fresh.pk).state == State.PENDING


def test_redrive_of_a_batch_runs_a_fixed_number_of_queries(recorder, django_assert_max_num_queries, settings):
    settings.OUTBOX_REDRIVE_GRACE = 0
    settings.OUTBOX_REDRIVE_BATCH = 500
    for n in range(60):
        enqueue(n=n)
    outbox.register_channel("test", label="测试渠道", deliver=lambda message: None)

    from shanqian import celery

    sent = []
    original = celery.send_now
    celery.send_now = lambda task, *args, **kwargs: sent.append(args) or True
    try:
        with django_assert_max_num_queries(2):
            assert outbox.redrive() == 60
    finally:
        celery.send_now = original
    assert len(sent) == 60


def test_one_delivery_runs_a_fixed_number_of_queries(recorder, django_assert_max_num_queries):
    message = enqueue()

    # claim, read the row, then in one transaction (a savepoint pair here) the attempt row and the result
    with django_assert_max_num_queries(6):
        assert outbox.deliver(message.pk) == "delivered"


def test_retry_gives_a_failed_row_fresh_attempts_and_leaves_delivered_ones_alone(recorder):
    failed = enqueue(n="failed")
    recorder.answers = [outbox.Fail("坏了")]
    outbox.deliver(failed.pk)
    delivered = enqueue(n="ok")
    outbox.deliver(delivered.pk)
    recorder.calls.clear()

    count = outbox.retry(OutboxMessage.objects.filter(pk__in=[failed.pk, delivered.pk]))

    assert count == 1
    failed.refresh_from_db()
    assert failed.state == State.PENDING
    assert failed.max_attempts == 1 + 3
    assert OutboxMessage.objects.get(pk=delivered.pk).state == State.DELIVERED
    assert outbox.deliver(failed.pk) == "delivered"
    assert recorder.calls == [{"n": "failed"}]


def test_redeliver_sends_a_delivered_row_again_only_on_channels_that_allow_it(recorder):
    message = enqueue()
    outbox.deliver(message.pk)

    assert outbox.retry(OutboxMessage.objects.filter(pk=message.pk), include_delivered=True) == 0

    outbox.register_channel("test", label="测试渠道", deliver=recorder.deliver, redeliverable=True)
    assert outbox.retry(OutboxMessage.objects.filter(pk=message.pk), include_delivered=True) == 1
    message.refresh_from_db()
    assert message.state == State.PENDING
    assert str(message.key) == str(OutboxMessage.objects.get(pk=message.pk).key)  # same idempotency key


def test_a_row_of_an_unregistered_channel_fails_with_a_clear_error(recorder):
    message = enqueue()
    OutboxMessage.objects.filter(pk=message.pk).update(channel="gone")

    assert outbox.deliver(message.pk) == "failed"
    assert OutboxMessage.objects.get(pk=message.pk).last_error == "未注册的渠道：gone"


def test_enqueue_many_writes_all_rows_in_one_insert(recorder, django_assert_num_queries):
    items = [outbox.Message("test", {"n": n}, f"消息 {n}") for n in range(25)]

    with django_assert_num_queries(1):
        rows = outbox.enqueue_many(items)

    assert len({row.pk for row in rows}) == 25
    assert len({row.key for row in rows}) == 25


def test_enqueue_batch_writes_what_enqueue_many_does_in_one_insert_and_one_task(
    recorder, django_assert_num_queries, django_capture_on_commit_callbacks, monkeypatch
):
    from shanqian import celery as celery_module

    outbox.register_channel(
        "test-window",
        label="有期限的测试渠道",
        deliver=recorder.deliver,
        policy=outbox.RetryPolicy(max_attempts=5, window=datetime.timedelta(hours=24)),
    )
    sent = []
    monkeypatch.setattr(celery_module, "send_now", lambda task, *args, **kw: sent.append((task.name, args)) or True)
    payloads = [{"n": n, "text": f'您好“{n}”\\ "引号"', "nested": {"list": [n, None, True]}} for n in range(30)]
    items = [
        outbox.Message("test" if n % 3 else "test-window", payload, f"消息 {n}" + "长" * 300, ref=f"test:{n}")
        for n, payload in enumerate(payloads)
    ]

    with time_machine.travel(T0, tick=False), django_capture_on_commit_callbacks(execute=True):
        with django_assert_num_queries(1):
            ids = outbox.enqueue_batch(items)
        reference = outbox.enqueue_many(items[:1])[0]

    assert len(ids) == len(set(ids)) == 30
    rows = OutboxMessage.objects.in_bulk(ids)
    for n, pk in enumerate(ids):  # the ids come back in the items' order
        row = rows[pk]
        assert (row.channel, row.payload, row.ref) == (items[n].channel, payloads[n], f"test:{n}")
        assert row.summary == items[n].summary[:200]
        assert (row.state, row.attempts, row.last_error, row.claim, row.lease_until) == (
            State.PENDING,
            0,
            "",
            None,
            None,
        )
        assert row.next_attempt_at == row.queued_at == row.created_at == row.updated_at == T0
        if row.channel == "test-window":
            assert (row.max_attempts, row.retry_until) == (5, T0 + datetime.timedelta(hours=24))
        else:
            assert (row.max_attempts, row.retry_until) == (3, None)
    assert len({row.key for row in rows.values()}) == 30
    # The fields enqueue_many writes for the same item.
    assert (reference.state, reference.max_attempts, reference.retry_until) == (
        State.PENDING,
        5,
        rows[ids[0]].retry_until,
    )
    # One fan-out task carries the batch; the single row of enqueue_many its own delivery task.
    assert sent == [("shanqian.tasks.outbox_fan_out", (ids,)), ("shanqian.tasks.outbox_deliver", (reference.pk,))]
    outbox._CHANNELS.pop("test-window", None)
    assert outbox.enqueue_batch([]) == []
