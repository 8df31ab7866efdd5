"""
Deletion requests under concurrency (PostgreSQL and MariaDB: real row locks): a double-tapped
``POST /api/me/deletion`` opens one request; two staff members deciding one request at once act
once — one outcome, one notice, the other told it was already handled.
"""

import pytest

from shanqian.errors import Conflict
from shanqian.models import OutboxMessage
from signing.privacy import services
from signing.privacy.models import DeletionRequest, DeletionStatus
from tests.factories import (
    CLIENT,
    EmployeeFactory,
    HandlerFactory,
    SignApplicationFactory,
    WechatUserFactory,
    logged_in_client,
)
from tests.support.race import SKIP_ON_SQLITE, race, slow_down

pytestmark = [pytest.mark.django_db(transaction=True), SKIP_ON_SQLITE]


@pytest.fixture(autouse=True)
def _file_sms(settings):
    settings.SMS_BACKEND = "file"
    settings.NOTIFY_SMS_FALLBACK = True


def test_a_double_tapped_request_opens_one(platform, monkeypatch):
    slow_down(monkeypatch, "signing.privacy.services._open")
    user = WechatUserFactory(platform=platform)
    first, second = logged_in_client(user), logged_in_client(user)

    results = race(
        lambda: first.post("/api/me/deletion", {"reason": "一"}, format="json"),
        lambda: second.post("/api/me/deletion", {"reason": "二"}, format="json"),
    )

    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(response.json()["status"] for _, response in results) == [0, 40900]
    assert DeletionRequest.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("moves", [("execute", "execute"), ("execute", "refuse"), ("refuse", "refuse")])
def test_two_staff_deciding_at_once_decide_once(platform, world, monkeypatch, moves):
    slow_down(monkeypatch, "signing.privacy.services._erase_everything")
    slow_down(monkeypatch, "signing.privacy.services._locked", seconds=0.1)
    user = WechatUserFactory(platform=platform)
    employee = EmployeeFactory(user=user, phone="13844445555")
    SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, status=4)
    deletion = services.deletion_request_create(user=user, client=CLIENT)
    boss = HandlerFactory(is_superuser=True)

    def act(move, staff):
        if move == "execute":
            return services.deletion_execute(deletion=deletion, staff=staff, client=CLIENT)
        return services.deletion_refuse(deletion=deletion, staff=staff, reason="不符合条件", client=CLIENT)

    results = race(lambda: act(moves[0], world.handler), lambda: act(moves[1], boss))

    kinds = sorted(kind for kind, _ in results)
    assert kinds == ["error", "ok"], results
    (error,) = [value for kind, value in results if kind == "error"]
    assert isinstance(error, Conflict) and "已处理" in error.msg
    deletion.refresh_from_db()
    assert deletion.status in {DeletionStatus.DONE, DeletionStatus.REFUSED}
    assert OutboxMessage.objects.count() == 1
