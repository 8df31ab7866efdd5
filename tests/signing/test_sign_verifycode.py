"""
POST /api/verifycode with purpose=sign: the code that confirms the intent to
sign goes only to the logged-in user's resume phone, and only while a contract
awaits their signature. Refusals send nothing and leave the captcha unspent.
"""

import pytest
from captcha.models import CaptchaStore
from rest_framework.test import APIClient

from employees.models import SmsCode, SmsPurpose
from employees.otp import sms_code_check
from employees.services.identity import captcha_create
from tests.envelope import assert_error, assert_ok
from tests.factories import EmployeeFactory, WechatUserFactory, logged_in_client, make_signer
from tests.support.sms import sent_sms

pytestmark = pytest.mark.django_db

URL = "/api/verifycode"


@pytest.fixture(autouse=True)
def sms_file(settings):
    settings.SMS_BACKEND = "file"


def request_code(client, phone, purpose="sign"):
    key = captcha_create()
    answer = CaptchaStore.objects.get(hashkey=key).response
    return client.post(URL, {"phone": phone, "captcha_code": answer, "captcha_key": key, "purpose": purpose})


def test_a_signing_code_is_sent_to_the_resume_phone(signer):
    assert_ok(request_code(signer.client, signer.employee.phone))

    [message] = sent_sms()
    row = SmsCode.objects.get()
    assert (message["phone"], row.purpose) == (signer.employee.phone, SmsPurpose.SIGN)
    assert sms_code_check(phone=signer.employee.phone, purpose=SmsPurpose.SIGN, code=message["code"]) == row


def test_without_a_token_it_is_401(signer, api):
    body = assert_error(request_code(api, signer.employee.phone), 401, 40100)

    assert body["msg"] == "请先登录后再获取签约验证码"
    assert (SmsCode.objects.count(), sent_sms()) == (0, [])
    assert CaptchaStore.objects.count() == 1  # the captcha was not spent on a refused request


def test_with_an_unknown_token_it_is_401(signer, api):
    api.credentials(HTTP_X_PLATFORM_CODE="demo", HTTP_X_AUTH_TOKEN="not-a-token")

    assert_error(request_code(api, signer.employee.phone), 401, 40100)
    assert SmsCode.objects.count() == 0


def test_another_phone_is_40000(signer):
    body = assert_error(request_code(signer.client, "13700137000"), 400, 40000)

    assert body["data"]["errors"] == {"phone": ["签约验证码只能发送到简历登记的手机号（139****5678）。"]}
    assert (SmsCode.objects.count(), sent_sms()) == (0, [])


def test_another_users_resume_phone_is_40000(signer, world):
    other = make_signer(world, phone="13600136000")

    assert_error(request_code(signer.client, other.employee.phone), 400, 40000)
    assert SmsCode.objects.count() == 0


def test_without_a_resume_it_is_403(platform):
    client = logged_in_client(WechatUserFactory())

    body = assert_error(request_code(client, "13800138000"), 403, 40300)

    assert body["msg"] == "您还没有提交简历，无法获取签约验证码"
    assert SmsCode.objects.count() == 0


@pytest.mark.parametrize("status", [None, 1, 3, 4, 5])
def test_with_nothing_to_sign_it_is_409(world, platform, status):
    if status is None:
        employee = EmployeeFactory(phone="13912345678")
        client = logged_in_client(employee.user)
    else:
        signer = make_signer(world, status=status)
        client, employee = signer.client, signer.employee

    body = assert_error(request_code(client, employee.phone), 409, 40900)

    assert body["msg"] == "当前没有待签署的合同，无需获取签约验证码"
    assert SmsCode.objects.count() == 0


def test_resume_codes_stay_public(platform):
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code)

    assert_ok(request_code(client, "13800138000", purpose="resume"))
    assert SmsCode.objects.get().purpose == SmsPurpose.RESUME
