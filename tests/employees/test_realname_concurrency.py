"""
Two staff deciding the same verification at once: one decision, one clear refusal.
``select_for_update`` is a no-op on SQLite, so this runs on PostgreSQL and MariaDB only.
"""

import threading
import time

import pytest
from django.db import connection, connections

from employees.models import RealnameVerification, VerifyStatus, WechatUser
from employees.services import realname
from employees.services.realname import realname_decide, realname_submit
from shanqian.errors import Conflict
from tests.factories import (
    AdminUserFactory,
    EmployeeFactory,
    PlatformFactory,
    UploadFactory,
    WechatUserFactory,
)

pytestmark = pytest.mark.django_db(transaction=True)


@pytest.fixture(autouse=True)
def _needs_row_locks():
    if connection.vendor == "sqlite":
        pytest.skip("select_for_update is a no-op on SQLite: run with DATABASE_URL=postgres://… or mysql://…")


def test_two_concurrent_decisions_give_one_result_and_one_conflict(monkeypatch):
    user = WechatUserFactory(platform=PlatformFactory())
    EmployeeFactory(user=user, id_card_front=UploadFactory(owner=user), id_card_back=UploadFactory(owner=user))
    verification = realname_submit(user=user)
    staff = [AdminUserFactory(username=f"boss{n}", is_superuser=True) for n in range(2)]

    real_check = realname.staff_may_decide

    def slow_check(locked, who):
        time.sleep(0.3)  # hold the row lock long enough for the other decision to queue behind it
        return real_check(locked, who)

    monkeypatch.setattr(realname, "staff_may_decide", slow_check)
    barrier = threading.Barrier(2)
    outcomes = []

    def decide(who, approved):
        try:
            barrier.wait()
            realname_decide(
                verification=verification, staff=who, approved=approved, reason="" if approved else "照片不清晰"
            )
            outcomes.append(("ok", approved))
        except Conflict as exc:
            outcomes.append(("conflict", exc.msg))
        finally:
            connections.close_all()

    threads = [
        threading.Thread(target=decide, args=(staff[0], True)),
        threading.Thread(target=decide, args=(staff[1], False)),
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=30)

    assert sorted(kind for kind, _ in outcomes) == ["conflict", "ok"], outcomes
    approved = next(value for kind, value in outcomes if kind == "ok")
    row = RealnameVerification.objects.get(pk=verification.pk)
    expected = VerifyStatus.VERIFIED if approved else VerifyStatus.FAILED
    assert row.status == expected
    assert WechatUser.objects.get(pk=user.pk).verify_status == expected
