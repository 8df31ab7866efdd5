"""The consent ledger's API (SPEC §13): GET/POST /api/consents, DELETE /api/consents/{scope}, the policy page."""

import datetime

import pytest
from django.test import Client
from django.utils import timezone
from rest_framework.test import APIClient

from employees.consent import consent_summary, has_current_consent
from employees.models import Consent, ConsentScope
from employees.tokens import issue_token
from tests.envelope import assert_error, assert_ok
from tests.factories import ConsentPolicyFactory, PlatformFactory, WechatUserFactory, unconsented_user

UA = "Mozilla/5.0 (iPhone) MicroMessenger/8.0.50"


@pytest.fixture
def wechat_user(platform):
    """This module starts where the first login leaves a user: nothing consented, no policy yet."""
    return unconsented_user(platform=platform)


@pytest.fixture
def policies(platform):
    return {
        "privacy_policy": ConsentPolicyFactory(platform=platform, scope="privacy_policy", version="2026.1"),
        "sensitive_pi": ConsentPolicyFactory(platform=platform, scope="sensitive_pi", version="2026.1"),
    }


def post(user_api, scope, version):
    return user_api.post(
        "/api/consents", {"scope": scope, "version": version}, format="json", HTTP_USER_AGENT=UA, REMOTE_ADDR="10.1.2.3"
    )


def test_get_lists_the_current_policies_and_nothing_given_yet(user_api, policies, django_assert_max_num_queries):
    with django_assert_max_num_queries(4):
        data = assert_ok(user_api.get("/api/consents"))

    assert data["given"] == []
    assert [(p["scope"], p["version"]) for p in data["policies"]] == [
        ("privacy_policy", "2026.1"),
        ("sensitive_pi", "2026.1"),
    ]
    policy = data["policies"][1]
    assert set(policy) == {"scope", "version", "title", "url"}
    assert policy["url"].endswith(f"/policies/{policies['sensitive_pi'].pk}")


def test_consenting_records_time_ip_user_agent_and_the_exact_version(user_api, policies):
    before = timezone.now()

    data = assert_ok(post(user_api, "sensitive_pi", "2026.1"))

    record = Consent.objects.get()
    assert data == {"scope": "sensitive_pi", "version": "2026.1", "given_at": data["given_at"]}
    assert datetime.datetime.fromisoformat(data["given_at"]) >= before.replace(microsecond=0)
    assert record.policy == policies["sensitive_pi"] and record.version == "2026.1"
    assert record.ip == "10.1.2.3" and record.user_agent == UA
    assert record.given_at >= before
    given = assert_ok(user_api.get("/api/consents"))["given"]
    assert [(g["scope"], g["version"]) for g in given] == [("sensitive_pi", "2026.1")]


def test_consenting_twice_to_the_same_version_keeps_one_record(user_api, policies):
    first = assert_ok(post(user_api, "sensitive_pi", "2026.1"))
    second = assert_ok(post(user_api, "sensitive_pi", "2026.1"))

    assert first == second
    assert Consent.objects.count() == 1


def test_an_outdated_version_is_409_and_names_the_current_one(user_api, policies):
    body = assert_error(post(user_api, "sensitive_pi", "2025.9"), 409, 40900)

    assert body["msg"] == "规则已更新，请重新阅读"
    assert body["data"] == {"scope": "sensitive_pi", "version": "2026.1"}
    assert not Consent.objects.exists()


@pytest.mark.parametrize(
    "payload",
    [
        {"scope": "face", "version": "1"},
        {"version": "1"},
        {"scope": "sensitive_pi"},
        {"scope": "sensitive_pi", "version": ""},
    ],
)
def test_bad_input_is_400_and_records_nothing(user_api, policies, payload):
    body = assert_error(user_api.post("/api/consents", payload, format="json"), 400, 40000)

    assert body["data"]["errors"]
    assert not Consent.objects.exists()


def test_a_scope_without_a_published_policy_is_404(user_api, platform):
    ConsentPolicyFactory(platform=platform, scope="sensitive_pi", version="draft", published_at=None)

    assert_error(post(user_api, "sensitive_pi", "draft"), 404, 40400)
    assert assert_ok(user_api.get("/api/consents"))["policies"] == []


def test_a_policy_scheduled_for_later_is_not_current_yet(user_api, policies):
    ConsentPolicyFactory(
        platform=policies["sensitive_pi"].platform,
        scope="sensitive_pi",
        version="2027.1",
        published_at=timezone.now() + datetime.timedelta(days=1),
    )

    assert assert_ok(post(user_api, "sensitive_pi", "2026.1"))["version"] == "2026.1"


def test_a_new_version_asks_again(user_api, policies):
    assert_ok(post(user_api, "sensitive_pi", "2026.1"))
    assert has_current_consent(user=user_api.user, scope="sensitive_pi")

    ConsentPolicyFactory(platform=policies["sensitive_pi"].platform, scope="sensitive_pi", version="2026.2")

    assert not has_current_consent(user=user_api.user, scope="sensitive_pi")
    data = assert_ok(user_api.get("/api/consents"))
    assert {p["scope"]: p["version"] for p in data["policies"]}["sensitive_pi"] == "2026.2"
    assert {g["scope"]: g["version"] for g in data["given"]}["sensitive_pi"] == "2026.1"
    assert_error(post(user_api, "sensitive_pi", "2026.1"), 409, 40900)
    assert_ok(post(user_api, "sensitive_pi", "2026.2"))
    assert has_current_consent(user=user_api.user, scope="sensitive_pi")


def test_withdrawal_is_recorded_and_ends_the_consent(user_api, policies, django_assert_max_num_queries):
    assert_ok(post(user_api, "sensitive_pi", "2026.1"))
    assert_ok(post(user_api, "privacy_policy", "2026.1"))

    with django_assert_max_num_queries(5):
        assert assert_ok(user_api.delete("/api/consents/sensitive_pi", HTTP_USER_AGENT="withdraw-ua")) is None

    record = Consent.objects.get(scope="sensitive_pi")
    assert record.withdrawn_at is not None and record.withdrawn_user_agent == "withdraw-ua"
    assert not has_current_consent(user=user_api.user, scope="sensitive_pi")
    given = assert_ok(user_api.get("/api/consents"))["given"]
    assert [g["scope"] for g in given] == ["privacy_policy"]
    state = consent_summary(user_ids=[user_api.user.pk])[user_api.user.pk]
    assert state["sensitive_pi"].withdrawn and state["privacy_policy"].state == "current"


def test_consenting_again_after_withdrawal_is_a_new_record(user_api, policies):
    assert_ok(post(user_api, "sensitive_pi", "2026.1"))
    assert_ok(user_api.delete("/api/consents/sensitive_pi"))

    assert_ok(post(user_api, "sensitive_pi", "2026.1"))

    assert Consent.objects.filter(scope="sensitive_pi").count() == 2
    assert has_current_consent(user=user_api.user, scope="sensitive_pi")


def test_withdrawing_an_unknown_scope_is_404(user_api, policies):
    assert_error(user_api.delete("/api/consents/face"), 404, 40400)


def test_withdrawing_what_was_never_given_is_fine(user_api, policies):
    assert assert_ok(user_api.delete("/api/consents/privacy_policy")) is None


def test_consents_are_per_user(user_api, policies, platform):
    other = unconsented_user(platform=platform)
    other_api = APIClient()
    other_api.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=other))
    assert_ok(post(other_api, "sensitive_pi", "2026.1"))

    assert assert_ok(user_api.get("/api/consents"))["given"] == []
    assert_ok(user_api.delete("/api/consents/sensitive_pi"))
    assert has_current_consent(user=other, scope="sensitive_pi")


def test_policies_are_per_platform(user_api, policies):
    elsewhere = PlatformFactory(code="other", name="另一平台")
    ConsentPolicyFactory(platform=elsewhere, scope="sensitive_pi", version="9.9")

    assert_error(post(user_api, "sensitive_pi", "9.9"), 409, 40900)


def test_anonymous_is_401(api, policies):
    assert_error(api.get("/api/consents"), 401, 40100)
    assert_error(api.post("/api/consents", {"scope": "sensitive_pi", "version": "2026.1"}), 401, 40100)


def test_the_policy_page_shows_the_published_text_and_no_draft(policies, platform):
    draft = ConsentPolicyFactory(platform=platform, scope="sensitive_pi", version="next", published_at=None)

    page = Client().get(f"/policies/{policies['sensitive_pi'].pk}")

    assert page.status_code == 200
    assert policies["sensitive_pi"].body in page.content.decode()
    assert Client().get(f"/policies/{draft.pk}").status_code == 404


def test_an_external_url_is_used_when_set(user_api, platform):
    ConsentPolicyFactory(platform=platform, scope="privacy_policy", version="1", url="https://hr.example.com/privacy")

    assert assert_ok(user_api.get("/api/consents"))["policies"][0]["url"] == "https://hr.example.com/privacy"


def test_staff_summary_is_one_query_for_many_users(platform, policies, django_assert_num_queries):
    from employees.consent import consent_give

    users = WechatUserFactory.create_batch(20, platform=platform, consented=False)
    for user in users[:10]:
        consent_give(user=user, scope=ConsentScope.SENSITIVE_PI, version="2026.1")

    with django_assert_num_queries(1):
        summary = consent_summary(user_ids=[u.pk for u in users])

    assert sum(s["sensitive_pi"].state == "current" for s in summary.values()) == 10
    assert sum(s["sensitive_pi"].state == "missing" for s in summary.values()) == 10
