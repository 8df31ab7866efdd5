"""
Issue 15, finding 5: 40 wrong passwords for ``hr1`` were all 200, then the right one logged in.

Now a username is locked after ADMIN_LOGIN_FAILURE_LIMIT failures (even with the right
password afterwards), an IP trying many usernames is locked too, both counted in the database
(shared by instances), with a Chinese message; staff unlock by deleting the attempt rows in the
back office.
"""

import pytest
from axes.models import AccessAttempt
from django.test import Client

from tests.factories import AdminUserFactory

pytestmark = pytest.mark.django_db

LOGIN = "/admin/login/?next=/admin/"
PASSWORD = "Right-Horse-Battery-7"


def _try(client, username, password):
    return client.post(LOGIN, {"username": username, "password": password})


@pytest.fixture
def hr1():
    return AdminUserFactory(username="hr1", password=PASSWORD, is_staff=True)


def test_repeated_wrong_passwords_lock_the_username_even_for_the_right_one(hr1, settings):
    """Finding 5: the right password after 40 wrong ones logged in."""
    client = Client()
    statuses = [_try(client, "hr1", f"wrong-{i}").status_code for i in range(40)]

    assert statuses[: settings.ADMIN_LOGIN_FAILURE_LIMIT - 1] == [200] * (settings.ADMIN_LOGIN_FAILURE_LIMIT - 1)
    assert set(statuses[settings.ADMIN_LOGIN_FAILURE_LIMIT :]) == {429}
    locked = _try(client, "hr1", PASSWORD)
    assert locked.status_code == 429
    assert "登录失败次数过多" in locked.content.decode()
    assert "_auth_user_id" not in client.session


def test_the_username_lock_holds_from_another_ip(hr1, settings):
    """Finding 5: per username, whatever address the guesses come from (and across instances: the count is a row)."""
    for i in range(settings.ADMIN_LOGIN_FAILURE_LIMIT):
        _try(Client(REMOTE_ADDR=f"10.0.0.{i + 1}"), "hr1", "wrong")

    assert _try(Client(REMOTE_ADDR="10.9.9.9"), "hr1", PASSWORD).status_code == 429


def test_one_ip_guessing_many_usernames_is_locked(hr1, settings):
    """Finding 5: per IP, so spraying usernames does not dodge the limit."""
    client = Client(REMOTE_ADDR="10.1.1.1")
    for i in range(settings.ADMIN_LOGIN_FAILURE_LIMIT):
        _try(client, f"user{i}", "wrong")

    assert _try(client, "hr1", PASSWORD).status_code == 429
    assert _try(Client(REMOTE_ADDR="10.1.1.2"), "hr1", PASSWORD).status_code == 302


def test_a_forged_forwarded_for_header_does_not_reset_the_ip_count(hr1, settings):
    """Finding 5: the IP is REMOTE_ADDR unless proxies are trusted (TRUSTED_PROXY_COUNT)."""
    for i in range(settings.ADMIN_LOGIN_FAILURE_LIMIT):
        Client(REMOTE_ADDR="10.2.2.2", HTTP_X_FORWARDED_FOR=f"1.2.3.{i}").post(
            LOGIN, {"username": f"u{i}", "password": "x"}
        )

    assert _try(Client(REMOTE_ADDR="10.2.2.2"), "hr1", PASSWORD).status_code == 429


def test_staff_unlock_a_username_in_the_back_office(hr1, settings):
    """Finding 5: a superuser deletes the attempt rows (axes' admin), and hr1 logs in again."""
    for _ in range(settings.ADMIN_LOGIN_FAILURE_LIMIT):
        _try(Client(), "hr1", "wrong")
    assert _try(Client(), "hr1", PASSWORD).status_code == 429
    boss = Client()
    boss.force_login(AdminUserFactory(is_superuser=True, is_staff=True))
    ids = [str(pk) for pk in AccessAttempt.objects.values_list("pk", flat=True)]

    page = boss.get("/admin/axes/accessattempt/")
    assert page.status_code == 200
    confirm = boss.post(
        "/admin/axes/accessattempt/", {"action": "delete_selected", "_selected_action": ids, "post": "yes"}
    )

    assert confirm.status_code == 302
    assert not AccessAttempt.objects.exists()
    assert _try(Client(), "hr1", PASSWORD).status_code == 302


def test_a_right_password_before_the_limit_resets_the_count(hr1, settings):
    for _ in range(settings.ADMIN_LOGIN_FAILURE_LIMIT - 1):
        _try(Client(), "hr1", "wrong")
    assert _try(Client(), "hr1", PASSWORD).status_code == 302

    for _ in range(settings.ADMIN_LOGIN_FAILURE_LIMIT - 1):
        _try(Client(), "hr1", "wrong")
    assert _try(Client(), "hr1", PASSWORD).status_code == 302
