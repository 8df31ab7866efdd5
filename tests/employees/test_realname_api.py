"""POST /api/realname (SPEC §4.14) over HTTP: submission, refusals, resubmission, the provider backend."""

import pytest
import responses
from django.core.cache import cache

from employees.models import RealnameVerification, VerifyStatus
from employees.services.realname import realname_decide
from tests.envelope import assert_error, assert_ok
from tests.factories import AdminUserFactory, EmployeeFactory, UploadFactory

URL = "/api/realname"
PROVIDER_URL = "https://realname.example.com/verify"


@pytest.fixture
def resume(user_api):
    user = user_api.user
    return EmployeeFactory(user=user, id_card_front=UploadFactory(owner=user), id_card_back=UploadFactory(owner=user))


def test_submission_puts_the_user_in_verifying_and_em_status_shows_it(user_api, resume, django_assert_max_num_queries):
    cache.clear()
    # platform (cold cache), token, the consent gate, user row lock, resume, insert, user update,
    # the savepoint pair
    with django_assert_max_num_queries(9):
        data = assert_ok(user_api.post(URL))

    assert data["verify_status"] == VerifyStatus.VERIFYING
    row = RealnameVerification.objects.get()
    assert (row.real_name, row.id_number, row.status) == (resume.real_name, resume.id_number, VerifyStatus.VERIFYING)
    assert (row.id_card_front_id, row.id_card_back_id) == (resume.id_card_front_id, resume.id_card_back_id)
    assert assert_ok(user_api.get("/api/em_status"))["verify_status"] == VerifyStatus.VERIFYING


def test_without_a_resume_it_is_refused(user_api):
    assert_error(user_api.post(URL), 409, 40900)
    assert not RealnameVerification.objects.exists()


def test_without_id_card_photos_it_names_the_missing_fields(user_api):
    EmployeeFactory(user=user_api.user)

    errors = assert_error(user_api.post(URL), 400, 40000)["data"]["errors"]

    assert set(errors) >= {"id_card_front", "id_card_back"}
    assert not RealnameVerification.objects.exists()


def test_a_second_submission_while_verifying_is_refused(user_api, resume):
    assert_ok(user_api.post(URL))

    assert_error(user_api.post(URL), 409, 40900)
    assert RealnameVerification.objects.count() == 1


def test_resubmission_is_allowed_after_a_failure_and_refused_after_success(user_api, resume):
    assert_ok(user_api.post(URL))
    staff = AdminUserFactory(is_superuser=True)
    realname_decide(verification=RealnameVerification.objects.get(), staff=staff, approved=False, reason="照片不清晰")
    assert assert_ok(user_api.get("/api/em_status"))["verify_status"] == VerifyStatus.FAILED

    assert_ok(user_api.post(URL))
    realname_decide(
        verification=RealnameVerification.objects.filter(status=VerifyStatus.VERIFYING).get(),
        staff=staff,
        approved=True,
    )

    assert_error(user_api.post(URL), 409, 40900)
    assert list(RealnameVerification.objects.order_by("id").values_list("status", flat=True)) == [3, 2]


def test_anonymous_is_40100(api):
    assert_error(api.post(URL), 401, 40100)


def test_em_status_without_a_token_is_a_401_that_names_the_token_header(api):
    response = api.get("/api/em_status")

    assert_error(response, 401, 40100)
    assert response["WWW-Authenticate"] == "X-auth-token"


@responses.activate
def test_provider_backend_decides_at_once(user_api, resume, settings):
    settings.REALNAME_BACKEND = "provider"
    settings.REALNAME_PROVIDER_URL = PROVIDER_URL
    responses.post(PROVIDER_URL, json={"result": "fail", "reason": "姓名与身份证号不一致"})

    data = assert_ok(user_api.post(URL))

    assert data["verify_status"] == VerifyStatus.FAILED
    assert data["verify_reason"] == "姓名与身份证号不一致"
    assert responses.calls[0].request.headers["Content-Type"] == "application/json"


@responses.activate
def test_provider_down_is_50200_and_the_user_may_submit_again(user_api, resume, settings):
    settings.REALNAME_BACKEND = "provider"
    settings.REALNAME_PROVIDER_URL = PROVIDER_URL
    responses.post(PROVIDER_URL, status=500)

    assert_error(user_api.post(URL), 502, 50200)

    user_api.user.refresh_from_db()
    assert user_api.user.verify_status == VerifyStatus.PENDING
    responses.replace(responses.POST, PROVIDER_URL, json={"result": "pass"})
    assert assert_ok(user_api.post(URL))["verify_status"] == VerifyStatus.VERIFIED
