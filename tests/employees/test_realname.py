"""Real-name verification services: submit, decide, and the backends (manual, provider over HTTP)."""

import json
import logging

import pytest
import requests
import responses

from employees.models import RealnameVerification, VerifyStatus, WechatUser
from employees.realname_providers import ManualBackend, get_backend
from employees.services.realname import PROVIDER_DOWN_REASON, realname_decide, realname_submit
from shanqian.client import ClientContext
from shanqian.errors import Conflict, Forbidden, InvalidInput, UpstreamBusy, UpstreamFailed
from tests.factories import (
    AdminUserFactory,
    CompanyFactory,
    EmployeeFactory,
    HandlerFactory,
    SignApplicationFactory,
    UploadFactory,
)

pytestmark = pytest.mark.django_db

PROVIDER_URL = "https://realname.example.test/v1/verify"


@pytest.fixture
def employee(wechat_user):
    return EmployeeFactory(
        user=wechat_user,
        real_name="张三",
        id_card_front=UploadFactory(owner=wechat_user),
        id_card_back=UploadFactory(owner=wechat_user),
    )


@pytest.fixture
def handler(employee):
    handler = HandlerFactory(username="hr-realname")
    SignApplicationFactory(em=employee, ad_user=handler, company=CompanyFactory())
    return handler


@pytest.fixture
def provider(settings):
    settings.REALNAME_BACKEND = "provider"
    settings.REALNAME_PROVIDER_URL = PROVIDER_URL
    settings.REALNAME_PROVIDER_TOKEN = "provider-token-secret"
    settings.REALNAME_PROVIDER_TIMEOUT = (1.0, 2.0)


def user_status(user):
    return WechatUser.objects.values_list("verify_status", "verify_reason").get(pk=user.pk)


# --- submit -------------------------------------------------------------------------------------------------


def test_submit_copies_the_resume_identity_and_sets_verifying(wechat_user, employee):
    client = ClientContext(ip="198.51.100.7", user_agent="wx", lng=None, lat=None, city=None)

    verification = realname_submit(user=wechat_user, client=client)

    verification.refresh_from_db()
    assert (verification.real_name, verification.id_number) == ("张三", employee.id_number)
    assert (verification.id_card_front_id, verification.id_card_back_id) == (
        employee.id_card_front_id,
        employee.id_card_back_id,
    )
    assert (verification.status, verification.backend, verification.ip) == (VerifyStatus.VERIFYING, "manual", client.ip)
    assert verification.decided_at is None and verification.decided_by is None
    assert user_status(wechat_user) == (VerifyStatus.VERIFYING, "")


def test_submit_without_a_resume_is_a_conflict(wechat_user):
    with pytest.raises(Conflict, match="请先提交简历"):
        realname_submit(user=wechat_user)

    assert not RealnameVerification.objects.exists()
    assert user_status(wechat_user) == (VerifyStatus.PENDING, "")


@pytest.mark.parametrize("missing", ["id_card_front", "id_card_back"])
def test_submit_needs_both_id_card_photos(wechat_user, employee, missing):
    setattr(employee, missing, None)
    employee.save(update_fields=[missing])

    with pytest.raises(InvalidInput) as raised:
        realname_submit(user=wechat_user)

    assert list(raised.value.data["errors"]) == [missing]
    assert "身份证" in raised.value.data["errors"][missing][0]
    assert not RealnameVerification.objects.exists()
    assert user_status(wechat_user) == (VerifyStatus.PENDING, "")


@pytest.mark.parametrize(
    ("status", "message"), [(VerifyStatus.VERIFYING, "审核中"), (VerifyStatus.VERIFIED, "已完成实名认证")]
)
def test_submit_is_refused_while_verifying_or_verified(wechat_user, employee, status, message):
    WechatUser.objects.filter(pk=wechat_user.pk).update(verify_status=status)

    with pytest.raises(Conflict, match=message):
        realname_submit(user=wechat_user)

    assert not RealnameVerification.objects.exists()


def test_submit_is_allowed_again_after_a_failure(wechat_user, employee):
    WechatUser.objects.filter(pk=wechat_user.pk).update(verify_status=VerifyStatus.FAILED, verify_reason="照片模糊")

    verification = realname_submit(user=wechat_user)

    assert verification.status == VerifyStatus.VERIFYING
    assert user_status(wechat_user) == (VerifyStatus.VERIFYING, "")


# --- decide ----------------------------------------------------------------------------------------------------


def test_a_handler_approves_their_applicants_verification(wechat_user, employee, handler, caplog):
    verification = realname_submit(user=wechat_user)

    with caplog.at_level(logging.INFO, logger="shanqian.realname"):
        decided = realname_decide(verification=verification, staff=handler, approved=True, reason="忽略")

    assert (decided.status, decided.reason, decided.decided_by_id) == (VerifyStatus.VERIFIED, "", handler.pk)
    assert decided.decided_at is not None
    assert user_status(wechat_user) == (VerifyStatus.VERIFIED, "")
    assert f"realname verification {verification.pk} decided: verified by staff {handler.pk}" in caplog.text


def test_a_failure_needs_a_reason_and_tells_the_user(wechat_user, employee, handler):
    verification = realname_submit(user=wechat_user)

    for reason in ("", "   ", None, "x" * 257, "坏\x00", "坏\u202e字"):
        with pytest.raises(InvalidInput):
            realname_decide(verification=verification, staff=handler, approved=False, reason=reason)
    assert user_status(wechat_user) == (VerifyStatus.VERIFYING, "")

    realname_decide(verification=verification, staff=handler, approved=False, reason=" 身份证照片模糊，请重新上传 ")

    verification.refresh_from_db()
    assert (verification.status, verification.reason) == (VerifyStatus.FAILED, "身份证照片模糊，请重新上传")
    assert user_status(wechat_user) == (VerifyStatus.FAILED, "身份证照片模糊，请重新上传")


def test_a_decided_verification_cannot_be_decided_again(wechat_user, employee, handler):
    verification = realname_submit(user=wechat_user)
    realname_decide(verification=verification, staff=handler, approved=True)

    with pytest.raises(Conflict, match="已处理"):
        realname_decide(verification=verification, staff=handler, approved=False, reason="改主意")

    assert user_status(wechat_user) == (VerifyStatus.VERIFIED, "")


def test_staff_who_do_not_handle_the_user_cannot_decide(wechat_user, employee, handler):
    verification = realname_submit(user=wechat_user)
    stranger = HandlerFactory(username="hr-stranger")
    inactive = AdminUserFactory(username="gone", is_superuser=True, is_active=False)

    for staff in (stranger, inactive):
        with pytest.raises(Forbidden):
            realname_decide(verification=verification, staff=staff, approved=True)

    assert user_status(wechat_user) == (VerifyStatus.VERIFYING, "")
    superuser = AdminUserFactory(username="boss-rn", is_superuser=True)
    assert realname_decide(verification=verification, staff=superuser, approved=True).status == VerifyStatus.VERIFIED


def test_em_status_shows_the_decision(user_api, wechat_user, employee, handler):
    verification = realname_submit(user=wechat_user)
    assert user_api.get("/api/em_status").json()["data"]["verify_status"] == VerifyStatus.VERIFYING

    realname_decide(verification=verification, staff=handler, approved=True)

    assert user_api.get("/api/em_status").json()["data"]["verify_status"] == VerifyStatus.VERIFIED


# --- backends ---------------------------------------------------------------------------------------------------


def test_the_manual_backend_leaves_the_decision_to_staff(wechat_user, employee):
    assert isinstance(get_backend(), ManualBackend)
    assert ManualBackend().submit(RealnameVerification()) is None


def test_an_unknown_backend_setting_is_an_upstream_error(settings):
    settings.REALNAME_BACKEND = "nonsense"

    with pytest.raises(UpstreamFailed):
        get_backend()


@responses.activate
def test_the_provider_passes(provider, wechat_user, employee):
    responses.post(PROVIDER_URL, json={"result": "pass"})

    verification = realname_submit(user=wechat_user)

    assert (verification.status, verification.backend, verification.decided_by) == (
        VerifyStatus.VERIFIED,
        "provider",
        None,
    )
    assert user_status(wechat_user) == (VerifyStatus.VERIFIED, "")
    sent = responses.calls[0].request
    assert sent.headers["Authorization"] == "Bearer provider-token-secret"
    body = json.loads(sent.body)
    assert (body["name"], body["id_number"]) == ("张三", employee.id_number)
    assert len(body["request_id"]) == 36


@responses.activate
def test_the_provider_fails_with_its_reason(provider, wechat_user, employee):
    responses.post(PROVIDER_URL, json={"result": "fail", "reason": "姓名与身份证号不一致"})

    verification = realname_submit(user=wechat_user)

    assert (verification.status, verification.reason) == (VerifyStatus.FAILED, "姓名与身份证号不一致")
    assert user_status(wechat_user) == (VerifyStatus.FAILED, "姓名与身份证号不一致")


@responses.activate
def test_a_provider_failure_without_reason_gets_a_default_one(provider, wechat_user, employee):
    responses.post(PROVIDER_URL, json={"result": "fail", "reason": 42})

    assert realname_submit(user=wechat_user).reason == "身份信息核验未通过"


@pytest.mark.parametrize(
    ("reply", "error"),
    [
        ({"status": 500, "json": {"error": "boom"}}, UpstreamFailed),
        ({"status": 503, "body": "busy"}, UpstreamBusy),
        ({"status": 429, "body": "slow down"}, UpstreamBusy),
        ({"status": 200, "body": "<html>not json</html>"}, UpstreamFailed),
        ({"status": 200, "json": {"result": "maybe"}}, UpstreamFailed),
        ({"status": 200, "json": ["pass"]}, UpstreamFailed),
        ({"body": requests.ConnectionError("refused")}, UpstreamFailed),
        ({"body": requests.ReadTimeout("slow")}, UpstreamFailed),
    ],
)
@responses.activate
def test_an_unusable_provider_reply_closes_the_row_and_restores_the_user(provider, wechat_user, employee, reply, error):
    WechatUser.objects.filter(pk=wechat_user.pk).update(verify_status=VerifyStatus.FAILED, verify_reason="上次的原因")
    responses.post(PROVIDER_URL, **reply)

    with pytest.raises(error):
        realname_submit(user=wechat_user)

    verification = RealnameVerification.objects.get()
    assert (verification.status, verification.reason) == (VerifyStatus.FAILED, PROVIDER_DOWN_REASON)
    assert user_status(wechat_user) == (VerifyStatus.FAILED, "上次的原因")


@responses.activate
def test_the_provider_call_uses_the_configured_timeouts(provider, wechat_user, employee, monkeypatch):
    seen = {}
    real_post = requests.post

    def spy(*args, **kwargs):
        seen["timeout"] = kwargs.get("timeout")
        return real_post(*args, **kwargs)

    monkeypatch.setattr(requests, "post", spy)
    responses.post(PROVIDER_URL, json={"result": "pass"})

    realname_submit(user=wechat_user)

    assert seen["timeout"] == (1.0, 2.0)


def test_an_unconfigured_provider_is_an_upstream_error(settings, wechat_user, employee):
    settings.REALNAME_BACKEND = "provider"
    settings.REALNAME_PROVIDER_URL = ""

    with pytest.raises(UpstreamFailed):
        realname_submit(user=wechat_user)

    assert user_status(wechat_user) == (VerifyStatus.PENDING, "")
