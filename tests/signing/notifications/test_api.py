"""``POST /api/subscriptions``: one-time acceptances of the platform's subscribe templates."""

import pytest
from rest_framework.test import APIClient

from employees.tokens import issue_token
from signing.notifications.models import SubscribeAcceptance, SubscribeTemplate
from tests.envelope import assert_error, assert_ok
from tests.factories import PlatformFactory, WechatUserFactory

pytestmark = pytest.mark.django_db
URL = "/api/subscriptions"


@pytest.fixture
def templates(platform):
    mapping = {"thing1": "company_name"}
    return [
        SubscribeTemplate.objects.create(platform=platform, kind=kind, template_id=tid, mapping=mapping)
        for kind, tid in (("approved", "TPL-A"), ("rejected", "TPL-A"), ("signed", "TPL-S"), ("cancelled", "TPL-OFF"))
    ]


def unused(user, template_id):
    return SubscribeAcceptance.objects.filter(user=user, template_id=template_id, used_at__isnull=True).count()


def test_accepted_templates_are_recorded_once_each(user_api, templates):
    data = assert_ok(user_api.post(URL, {"template_ids": ["TPL-A", "TPL-S", "TPL-A"]}, format="json"))

    assert data == {"accepted": ["TPL-A", "TPL-S"], "available": {"TPL-A": 1, "TPL-S": 1}}
    assert unused(user_api.user, "TPL-A") == 1 and unused(user_api.user, "TPL-S") == 1


def test_each_call_adds_one_acceptance(user_api, templates):
    user_api.post(URL, {"template_ids": ["TPL-A"]}, format="json")
    data = assert_ok(user_api.post(URL, {"template_ids": ["TPL-A"]}, format="json"))

    assert data["available"] == {"TPL-A": 2}


def test_a_form_body_works_too(user_api, templates):
    assert_ok(user_api.post(URL, {"template_ids": ["TPL-A", "TPL-S"]}))  # template_ids=TPL-A&template_ids=TPL-S
    assert_ok(user_api.post(URL, {"template_ids": '["TPL-A"]'}))
    assert unused(user_api.user, "TPL-A") == 2


def test_an_unknown_template_id_is_refused_and_nothing_is_recorded(user_api, templates):
    body = assert_error(user_api.post(URL, {"template_ids": ["TPL-A", "TPL-nope"]}, format="json"), 400, 40000)

    assert body["data"]["errors"]["template_ids"] == ["未知的订阅模板：TPL-nope。"]
    assert SubscribeAcceptance.objects.count() == 0


def test_a_disabled_template_or_one_of_another_platform_is_unknown(user_api, templates):
    SubscribeTemplate.objects.filter(template_id="TPL-OFF").update(enabled=False)
    other = PlatformFactory(code="other")
    SubscribeTemplate.objects.create(platform=other, kind="approved", template_id="TPL-OTHER", mapping={})

    for template_id in ("TPL-OFF", "TPL-OTHER"):
        assert_error(user_api.post(URL, {"template_ids": [template_id]}, format="json"), 400, 40000)
    assert SubscribeAcceptance.objects.count() == 0


@pytest.mark.parametrize(
    "payload",
    [
        {},
        {"template_ids": []},
        {"template_ids": "TPL-A,TPL-S"},
        {"template_ids": [1, 2]},
        {"template_ids": [{"id": "TPL-A"}]},
        {"template_ids": ["a", "b", "c", "d"]},
        {"template_ids": ["x" * 65]},
        {"template_ids": ["TPL-A\u0000"]},
    ],
)
def test_malformed_bodies_are_clear_400s(user_api, templates, payload):
    body = assert_error(user_api.post(URL, payload, format="json"), 400, 40000)

    assert "template_ids" in body["data"]["errors"]
    assert SubscribeAcceptance.objects.count() == 0


def test_only_a_logged_in_user_may_record_acceptances(platform, templates):
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code)
    assert_error(client.post(URL, {"template_ids": ["TPL-A"]}, format="json"), 401, 40100)


def test_acceptances_belong_to_the_calling_user(user_api, platform, templates):
    other = WechatUserFactory(platform=platform)
    user_api.post(URL, {"template_ids": ["TPL-A"]}, format="json")

    assert unused(other, "TPL-A") == 0


def test_unused_acceptances_are_bounded(user_api, templates):
    SubscribeAcceptance.objects.bulk_create(
        [SubscribeAcceptance(user=user_api.user, template_id="TPL-A") for _ in range(50)]
    )
    data = assert_ok(user_api.post(URL, {"template_ids": ["TPL-A"]}, format="json"))

    assert data["available"] == {"TPL-A": 50}


def test_the_endpoint_runs_a_fixed_number_of_queries(platform, templates, django_assert_max_num_queries):
    user = WechatUserFactory(platform=platform)
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=user))
    SubscribeAcceptance.objects.bulk_create([SubscribeAcceptance(user=user, template_id="TPL-A") for _ in range(10)])

    # platform, token (+ user), templates, the savepoint pair, the unused counts, the INSERT
    with django_assert_max_num_queries(8):
        assert_ok(client.post(URL, {"template_ids": ["TPL-A", "TPL-S", "TPL-OFF"]}, format="json"))
