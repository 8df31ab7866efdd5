"""
End to end through the real URL configuration: a job seeker submits a resume,
edits it while it is pending, is approved (edits refused), withdraws, reapplies,
is rejected and reapplies again — every application kept with its audit trail.

The login endpoint is not part of this branch: the session comes from
``issue_token`` for a fresh ``WechatUser``, as ``POST /api/weixin/login`` would.
"""

import datetime

import pytest
from django.urls import resolve
from django.utils import timezone
from rest_framework.test import APIClient

from employees.models import Employee, WechatUser
from employees.tokens import issue_token
from shanqian.views import api_not_found
from signing.models import SignApplication, SignEvent, SignStatus
from signing.services import applications as services
from tests.factories import bracket_form, consent_through_api, make_world, resume_payload, sms_code

pytestmark = pytest.mark.django_db

HEADERS = {"HTTP_X_LOCATION": "113.324520-23.099994", "HTTP_X_CITY": "%E5%B9%BF%E5%B7%9E"}


def ok(response):
    body = response.json()
    assert response.status_code == 200 and body["status"] == 0, body
    return body["data"]


def test_resume_flow_from_submission_to_reapplication(platform):
    world = make_world()
    user = WechatUser.objects.create(platform=platform, openid="fake-0123456789abcdef")
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=user), **HEADERS)
    consent_through_api(client, platform)  # SPEC §13: the consent screen comes first

    # Home page before anything: no application.
    assert ok(client.get("/api/em_status")) == {"reason": "", "company_name": "", "status": None, "verify_status": 0}
    assert client.get("/api/employee").status_code == 404

    # Pickers. /api/dict belongs to the reference-data branch; use it when it is wired in.
    if resolve("/api/dict/Nation").func is not api_not_found:
        assert "01" in [item["dict_key"] for item in ok(client.get("/api/dict/Nation"))]

    # Submit, form-encoded with arrays in bracket notation (the seed's default content type).
    payload = resume_payload(world, user)
    ok(client.generic("POST", "/api/employee", bracket_form(payload), content_type="application/x-www-form-urlencoded"))
    status = ok(client.get("/api/em_status"))
    assert (status["status"], status["company_name"]) == (1, "闪签测试科技有限公司")
    first = SignApplication.objects.get()
    created = SignEvent.objects.get(application=first)
    assert (created.to_status, created.city, str(created.lat)) == (1, "广州", "23.099994")

    # Edit while pending: the application follows the new company, position and handler.
    payload = resume_payload(
        world, user, with_code=False, company_id=world.company2.pk, work_pos="司机", ad_user_id=world.handler2.pk
    )
    ok(client.put("/api/employee", payload, format="json"))
    resume = ok(client.get("/api/employee"))
    assert resume["company"] == {"id": world.company2.pk, "company_name": "第二测试用人单位有限公司"}
    assert (resume["work_pos"], resume["ad_user"]["name"]) == ("司机", "王专员")
    assert client.get(resume["id_card_front"]).status_code == 200
    first.refresh_from_db()
    assert (first.status, first.ad_user) == (SignStatus.APPLIED, world.handler2)

    # The new handler approves: the resume is locked.
    services.application_approve(
        application=first,
        staff=world.handler2,
        contract=world.contract2,
        entry_date=timezone.localdate() + datetime.timedelta(days=10),
        salary="6800.50",
    )
    assert ok(client.get("/api/em_status"))["status"] == 2
    refused = client.put("/api/employee", resume_payload(world, user, with_code=False), format="json")
    assert (refused.status_code, refused.json()["status"]) == (409, 40900)

    # The employee withdraws; saving the resume opens a fresh application.
    services.application_cancel(application=first, actor_user=user, note="改投其他岗位")
    ok(client.put("/api/employee", resume_payload(world, user, with_code=False), format="json"))
    second = SignApplication.objects.exclude(pk=first.pk).get()
    assert (second.status, second.company, second.ad_user) == (SignStatus.APPLIED, world.company, world.handler)

    # Rejected: the home page shows the reason; saving (with a new phone, proven by SMS) reapplies.
    services.application_reject(application=second, staff=world.handler, reason="学历证明缺失")
    assert ok(client.get("/api/em_status"))["reason"] == "学历证明缺失"
    payload = resume_payload(world, user, phone="13700137000", with_code=False, real_name="张三丰")
    payload["sms_code"] = sms_code("13700137000")
    ok(client.put("/api/employee", payload, format="json"))

    status = ok(client.get("/api/em_status"))
    assert (status["status"], status["reason"]) == (1, "")
    assert list(SignApplication.objects.filter(em__user=user).order_by("id").values_list("status", flat=True)) == [
        SignStatus.CANCELLED,
        SignStatus.REJECTED,
        SignStatus.APPLIED,
    ]
    employee = Employee.objects.get(user=user)
    assert (employee.real_name, employee.phone) == ("张三丰", "13700137000")
    trail = list(SignEvent.objects.filter(application=first).values_list("kind", "from_status", "to_status"))
    assert trail == [("transition", None, 1), ("note", None, None), ("transition", 1, 2), ("transition", 2, 5)]
