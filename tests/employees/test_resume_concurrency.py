"""
A double-submitted ``POST /api/employee`` and two users submitting the same ID
number at once: one 200, one 409, one row. Real row locks and unique-index
waits are needed, so these run on PostgreSQL and MariaDB only.
"""

import pytest
from rest_framework.test import APIClient

from employees.idcard import make_id_number
from employees.models import Employee, SmsCode
from employees.tokens import issue_token
from signing.models import SignApplication, SignStatus
from tests.factories import WechatUserFactory, resume_payload
from tests.support.race import SKIP_ON_SQLITE, race, slow_down

pytestmark = [pytest.mark.django_db(transaction=True), SKIP_ON_SQLITE]

URL = "/api/employee"


def client_for(platform, user):
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=user))
    return client


def test_double_submitted_post_gives_one_200_and_one_409(platform, wechat_user, world, monkeypatch):
    slow_down(monkeypatch, "employees.services.resume._write_rows")
    payload = resume_payload(world, wechat_user)
    first, second = client_for(platform, wechat_user), client_for(platform, wechat_user)

    results = race(
        lambda: first.post(URL, payload, format="json"),
        lambda: second.post(URL, payload, format="json"),
    )

    responses = [value for kind, value in results]
    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert sorted(r.json()["status"] for r in responses) == [0, 40900]
    assert Employee.objects.filter(user=wechat_user).count() == 1
    assert SignApplication.objects.filter(em__user=wechat_user, status=SignStatus.APPLIED).count() == 1
    assert SmsCode.objects.get().used_at is not None


def test_two_users_racing_for_one_id_number_one_gets_409(platform, world, monkeypatch):
    slow_down(monkeypatch, "employees.services.resume._write_rows")
    number = make_id_number(sequence=321)
    users = [WechatUserFactory(platform=platform) for _ in range(2)]
    payloads = [
        resume_payload(world, users[0], phone="13800138001", id_number=number),
        resume_payload(world, users[1], phone="13800138002", id_number=number),
    ]
    clients = [client_for(platform, user) for user in users]

    results = race(
        lambda: clients[0].post(URL, payloads[0], format="json"),
        lambda: clients[1].post(URL, payloads[1], format="json"),
    )

    responses = [value for kind, value in results]
    assert all(kind == "ok" for kind, _ in results), results
    assert sorted(r.status_code for r in responses) == [200, 409]
    assert Employee.objects.by_id_number(number).count() == 1
    assert SignApplication.objects.count() == 1
    # The loser's code was not spent: their transaction rolled back.
    assert SmsCode.objects.filter(used_at__isnull=True).count() == 1
