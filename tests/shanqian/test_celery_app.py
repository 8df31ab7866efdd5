"""The Celery app (shanqian/celery.py): configuration, eager mode after commit, a broker that is down."""

import pytest
from django.db import transaction

from shanqian import celery as celery_module
from shanqian.celery import app, dispatch, send_now


def test_without_a_broker_tasks_run_eagerly():
    assert app.conf.task_always_eager is True
    assert app.conf.task_acks_late is True
    assert app.conf.worker_prefetch_multiplier == 1


def test_every_periodic_task_names_a_registered_task():
    from django.apps import apps

    # What the worker's autodiscovery imports: every installed app's ``tasks`` module.
    app.loader.autodiscover_tasks([config.name for config in apps.get_app_configs()])

    schedule = app.conf.beat_schedule
    assert "outbox-redrive" in schedule
    for entry in schedule.values():
        assert entry["task"] in app.tasks, entry


class Probe:
    name = "probe"

    def __init__(self, fail=False):
        self.calls = []
        self.fail = fail

    def apply_async(self, args=(), countdown=None):
        self.calls.append((args, countdown))
        if self.fail:
            raise ConnectionError("Error 111 connecting to 127.0.0.1:6379. Connection refused.")


@pytest.mark.django_db
def test_dispatch_sends_after_commit_and_never_for_a_rolled_back_transaction(django_capture_on_commit_callbacks):
    probe = Probe()
    with django_capture_on_commit_callbacks(execute=True):
        with transaction.atomic():
            dispatch(probe, 1)
            assert probe.calls == []
        with pytest.raises(RuntimeError), transaction.atomic():
            dispatch(probe, 2)
            raise RuntimeError

    assert probe.calls == [((1,), None)]


@pytest.mark.django_db
def test_a_delayed_task_waits_for_the_redrive_in_eager_mode(django_capture_on_commit_callbacks):
    probe = Probe()
    with django_capture_on_commit_callbacks(execute=True):
        dispatch(probe, 1, countdown=30)
    assert probe.calls == []  # eager mode would run it at once, ignoring the countdown


def test_a_broker_that_is_down_fails_softly_and_is_not_asked_again_at_once(monkeypatch, caplog):
    monkeypatch.setitem(app.conf, "task_always_eager", False)
    monkeypatch.setattr(celery_module, "_broker_down_until", 0.0)
    failing = Probe(fail=True)

    assert send_now(failing, 1) is False
    assert send_now(failing, 2) is False

    assert len(failing.calls) == 1  # the second send did not wait for another timeout
    assert "left for the re-drive" in caplog.text
    assert "6379" not in caplog.text  # the class only, not the broker's address

    monkeypatch.setattr(celery_module, "_broker_down_until", 0.0)
    healthy = Probe()
    assert send_now(healthy, 3, countdown=5) is True
    assert healthy.calls == [((3,), 5)]
