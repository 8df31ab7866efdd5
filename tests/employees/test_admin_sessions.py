"""The back office for mini-program users and their session tokens: look, and revoke (吊销)."""

import pytest
from django.test import Client
from django.urls import reverse
from rest_framework.test import APIClient

from employees.models import SessionToken
from employees.tokens import issue_token
from tests.envelope import assert_error
from tests.factories import AdminUserFactory, WechatUserFactory

pytestmark = pytest.mark.django_db

SESSION_KEY = "server-side-only-session-key=="


@pytest.fixture
def staff(settings):
    # The suite runs with production settings; admin pages need no collected static manifest here.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(AdminUserFactory(is_superuser=True))
    return client


@pytest.fixture
def users(platform):
    alice = WechatUserFactory(platform=platform, openid="o-alice", session_key=SESSION_KEY)
    bob = WechatUserFactory(platform=platform, openid="o-bob", session_key=SESSION_KEY)
    tokens = {
        "alice-1": issue_token(user=alice),
        "alice-2": issue_token(user=alice),
        "bob": issue_token(user=bob),
    }
    return alice, bob, tokens


def authenticated(platform, raw) -> bool:
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=raw)
    return client.post("/api/image", {}, format="multipart").json()["status"] != 40100


def test_revoke_action_on_tokens(staff, platform, users):
    alice, _, tokens = users
    token = SessionToken.objects.filter(user=alice).order_by("id").first()

    response = staff.post(
        reverse("admin:employees_sessiontoken_changelist"),
        {"action": "revoke", "_selected_action": [token.pk]},
        follow=True,
    )

    assert response.status_code == 200
    assert "已吊销 1 个会话令牌" in response.content.decode()
    token.refresh_from_db()
    assert token.revoked_at is not None
    assert not authenticated(platform, tokens["alice-1"])
    assert authenticated(platform, tokens["alice-2"])
    assert authenticated(platform, tokens["bob"])


def test_revoking_all_tokens_of_a_user(staff, platform, users):
    alice, _, tokens = users

    staff.post(
        reverse("admin:employees_wechatuser_changelist"),
        {"action": "revoke_all_tokens", "_selected_action": [alice.pk]},
    )

    assert SessionToken.objects.filter(user=alice, revoked_at__isnull=True).count() == 0
    assert not authenticated(platform, tokens["alice-1"])
    assert not authenticated(platform, tokens["alice-2"])
    assert authenticated(platform, tokens["bob"])
    assert_error(
        APIClient().post("/api/image", {}, HTTP_X_PLATFORM_CODE="demo", HTTP_X_AUTH_TOKEN=tokens["alice-1"]),
        401,
        40100,
    )


def test_revoking_twice_keeps_the_first_revocation_time(staff, users):
    alice, _, _ = users
    url = reverse("admin:employees_wechatuser_changelist")
    staff.post(url, {"action": "revoke_all_tokens", "_selected_action": [alice.pk]})
    first = list(SessionToken.objects.filter(user=alice).values_list("revoked_at", flat=True))

    staff.post(url, {"action": "revoke_all_tokens", "_selected_action": [alice.pk]})

    assert list(SessionToken.objects.filter(user=alice).values_list("revoked_at", flat=True)) == first


def test_pages_never_show_the_session_key_or_token_digests(staff, users):
    alice, _, tokens = users
    token = SessionToken.objects.filter(user=alice).first()
    pages = [
        reverse("admin:employees_wechatuser_changelist"),
        reverse("admin:employees_wechatuser_change", args=[alice.pk]),
        reverse("admin:employees_sessiontoken_changelist"),
        reverse("admin:employees_sessiontoken_change", args=[token.pk]),
        reverse("admin:employees_sessiontoken_changelist") + "?state=live",
        reverse("admin:employees_sessiontoken_changelist") + "?state=revoked",
        reverse("admin:employees_sessiontoken_changelist") + "?state=expired",
    ]
    for page in pages:
        response = staff.get(page)
        html = response.content.decode()
        assert response.status_code == 200, page
        assert SESSION_KEY not in html, page
        assert token.digest not in html, page
        for raw in tokens.values():
            assert raw not in html, page


def test_tokens_and_users_cannot_be_added_by_hand(staff):
    assert staff.get(reverse("admin:employees_sessiontoken_add")).status_code == 403
    assert staff.get(reverse("admin:employees_wechatuser_add")).status_code == 403


def test_user_list_counts_live_sessions(staff, users):
    alice, _, _ = users
    SessionToken.objects.filter(user=alice).order_by("id").first().delete()

    response = staff.get(reverse("admin:employees_wechatuser_changelist"))

    assert response.status_code == 200
    assert {u.openid: u._live_tokens for u in response.context["cl"].result_list} == {"o-alice": 1, "o-bob": 1}
