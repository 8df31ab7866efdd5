"""GET /api/em_status (seed §3.1.2, SPEC §4.2)."""

import pytest

from signing.models import SignStatus
from tests.factories import EmployeeFactory, SignApplicationFactory

pytestmark = pytest.mark.django_db

URL = "/api/em_status"


def test_without_an_application_status_is_null_and_strings_empty(user_api):
    response = user_api.get(URL)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    assert response.json()["data"] == {"reason": "", "company_name": "", "status": None, "verify_status": 0}


def test_shows_the_latest_application_and_the_real_name_status(user_api, world):
    user_api.user.verify_status = 2
    user_api.user.save()
    employee = EmployeeFactory(user=user_api.user)
    SignApplicationFactory(em=employee, company=world.company2, status=SignStatus.REJECTED, reason="旧的驳回原因")
    SignApplicationFactory(em=employee, company=world.company, status=SignStatus.AWAITING_SIGNATURE)

    data = user_api.get(URL).json()["data"]

    assert data == {"reason": "", "company_name": "闪签测试科技有限公司", "status": 2, "verify_status": 2}


def test_a_rejected_application_shows_its_reason(user_api, world):
    employee = EmployeeFactory(user=user_api.user)
    SignApplicationFactory(em=employee, company=world.company, status=SignStatus.REJECTED, reason="照片不清晰")

    data = user_api.get(URL).json()["data"]

    assert (data["status"], data["reason"]) == (4, "照片不清晰")


def test_other_users_applications_do_not_show(user_api, world):
    SignApplicationFactory(company=world.company, status=SignStatus.SIGNED)

    assert user_api.get(URL).json()["data"]["status"] is None


def test_anonymous_is_40100(api):
    response = api.get(URL)

    assert response.status_code == 401
    assert response.json()["status"] == 40100


@pytest.mark.parametrize("applications", [1, 20])
def test_query_count_does_not_grow_with_past_applications(user_api, world, applications, django_assert_max_num_queries):
    employee = EmployeeFactory(user=user_api.user)
    for _ in range(applications - 1):
        SignApplicationFactory(em=employee, company=world.company2, status=SignStatus.CANCELLED)
    SignApplicationFactory(em=employee, company=world.company, status=SignStatus.APPLIED)

    # token+user, platform (cold cache), latest application with its company name
    with django_assert_max_num_queries(3):
        data = user_api.get(URL).json()["data"]

    assert (data["status"], data["company_name"]) == (1, "闪签测试科技有限公司")
