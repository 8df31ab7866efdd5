"""
Two moves on one application at the same moment (SPEC §6): exactly one wins,
the other gets ``TransitionNotAllowed``. Each thread has its own connection;
the tests need real row locks, so they run on PostgreSQL and MariaDB only.
"""

import datetime

import pytest
from django.db.models.query import QuerySet
from django.utils import timezone

from signing.errors import NotYourApplication, TransitionNotAllowed
from signing.models import SignApplication, SignEvent, SignStatus
from signing.services import applications as services
from tests.factories import AdminUserFactory, EmployeeFactory, SignApplicationFactory, WechatUserFactory
from tests.support.race import SKIP_ON_SQLITE, race, slow_down

pytestmark = [pytest.mark.django_db(transaction=True), SKIP_ON_SQLITE]


@pytest.fixture
def app(world):
    employee = EmployeeFactory(user=WechatUserFactory(verify_status=2))
    return SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, work_pos="前台")


def outcomes(results):
    return sorted(kind if kind == "ok" else type(value).__name__ for kind, value in results)


def approve(app, staff, world):
    return lambda: services.application_approve(
        application=app,
        staff=staff,
        contract=world.contract,
        entry_date=timezone.localdate() + datetime.timedelta(days=3),
        salary="7000",
    )


def test_approve_and_reject_at_once_one_wins(app, world, monkeypatch):
    slow_down(monkeypatch, "signing.services.applications._write_event")
    boss = AdminUserFactory(is_superuser=True)

    results = race(
        approve(app, world.handler, world),
        lambda: services.application_reject(application=app, staff=boss, reason="同时驳回"),
    )

    assert outcomes(results) == ["TransitionNotAllowed", "ok"]
    app.refresh_from_db()
    winner = next(value for kind, value in results if kind == "ok")
    assert app.status == winner.status in (SignStatus.AWAITING_SIGNATURE, SignStatus.REJECTED)
    assert SignEvent.objects.filter(application=app).count() == 1


def test_two_staff_approving_at_once_give_one_transition(app, world, monkeypatch):
    slow_down(monkeypatch, "signing.services.applications._write_event")
    boss = AdminUserFactory(is_superuser=True)

    results = race(approve(app, world.handler, world), approve(app, boss, world))

    assert outcomes(results) == ["TransitionNotAllowed", "ok"]
    assert SignEvent.objects.filter(application=app, to_status=SignStatus.AWAITING_SIGNATURE).count() == 1


def test_a_double_tapped_sign_signs_once(app):
    SignApplication.objects.filter(pk=app.pk).update(status=SignStatus.AWAITING_SIGNATURE)
    sealed = []

    def seal(locked):
        import time

        time.sleep(0.3)  # sealing a PDF takes a while; the second tap arrives meanwhile
        sealed.append(locked.pk)

    def sign():
        return services.application_sign(application=app, user=app.em.user, before_commit=seal)

    results = race(sign, sign)

    assert outcomes(results) == ["TransitionNotAllowed", "ok"]
    assert sealed == [app.pk]
    assert SignEvent.objects.filter(application=app, to_status=SignStatus.SIGNED).count() == 1


def test_cancel_racing_sign_one_wins(app):
    SignApplication.objects.filter(pk=app.pk).update(status=SignStatus.AWAITING_SIGNATURE)

    results = race(
        lambda: services.application_sign(
            application=app, user=app.em.user, before_commit=lambda locked: __import__("time").sleep(0.3)
        ),
        lambda: services.application_cancel(application=app, actor_user=app.em.user),
    )

    assert outcomes(results) == ["TransitionNotAllowed", "ok"]
    assert SignEvent.objects.filter(application=app).count() == 1


def test_reassigning_handler_racing_the_old_handlers_approval(app, world, monkeypatch):
    """A resume update moving the pending application to handler2 vs handler1 approving it: one clean refusal."""
    slow_down(monkeypatch, "signing.services.applications._write_event")
    choice = services.ApplicationChoice(company=world.company, work_pos="前台", ad_user=world.handler2)

    results = race(
        lambda: services.application_update_pending(application=app, choice=choice, actor_user=app.em.user),
        approve(app, world.handler, world),
    )

    kinds = sorted(kind if kind == "ok" else type(value).__name__ for kind, value in results)
    app.refresh_from_db()
    if app.status == SignStatus.AWAITING_SIGNATURE:  # the approval went first
        assert kinds == ["TransitionNotAllowed", "ok"] and app.ad_user == world.handler
    else:
        assert kinds == ["NotYourApplication", "ok"] and app.ad_user == world.handler2
    assert {TransitionNotAllowed, NotYourApplication} & {type(v) for k, v in results if k == "error"}


def test_control_without_the_row_lock_both_moves_would_win(app, world, monkeypatch):
    """Proves the race tests have teeth: with select_for_update disabled, both approvals succeed."""
    slow_down(monkeypatch, "signing.services.applications._write_event")
    monkeypatch.setattr(QuerySet, "select_for_update", lambda self, *args, **kwargs: self)
    boss = AdminUserFactory(is_superuser=True)

    results = race(approve(app, world.handler, world), approve(app, boss, world))

    assert outcomes(results) == ["ok", "ok"]
    assert SignEvent.objects.filter(application=app).count() == 2
