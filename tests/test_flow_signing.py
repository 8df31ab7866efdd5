"""
End to end through the real URL configuration, from WeChat login to a sealed
contract that verifies: login (code2Session mocked at the HTTP layer) → the
personal-information consents (SPEC §13: nothing sensitive is taken before) → SMS
code for the resume → resume → the handler approves → real name passed →
read the contract → upload a handwritten signature → SMS code for signing
(only to the resume phone) → sign → fetch the sealed PDF through its link →
it is ours, intact, for this application, and its certificate page names the
signer (masked ID) and the whole audit trail.
"""

import datetime
import hashlib
import io
import re

import pytest
import responses
from captcha.models import CaptchaStore
from django.core.files.uploadedfile import SimpleUploadedFile
from django.utils import timezone
from pypdf import PdfReader
from rest_framework.test import APIClient

from employees.masking import mask_id_number
from employees.models import Employee, SmsCode, VerifyStatus, WechatUser
from employees.services.identity import captcha_create
from signing.models import SignApplication, SignedDocument, SignEvent
from signing.sealing import archived_document
from signing.sealing.verification import verify_document
from signing.services import applications as services
from tests.envelope import assert_error, assert_ok
from tests.factories import (
    ID_NUMBER,
    consent_through_api,
    handwritten_signature,
    make_world,
    resume_payload,
    signing_ready,
)
from tests.support.sms import sent_sms

pytestmark = pytest.mark.django_db

CODE2SESSION = "https://api.weixin.qq.com/sns/jscode2session"
PHONE = "13800138000"
HEADERS = {"HTTP_X_LOCATION": "120.155070-30.274084", "HTTP_X_CITY": "%E6%9D%AD%E5%B7%9E"}  # 杭州


@pytest.fixture(autouse=True)
def _gateways(settings):
    settings.WECHAT_BACKEND = "wechat"
    settings.SMS_BACKEND = "file"
    # Two codes go to the same phone within a minute (resume, then signing).
    settings.SMS_PHONE_INTERVAL = 0


def request_sms_code(client, *, phone: str, purpose: str) -> str:
    """Answer a fresh captcha, ask for a code, read it from the SMS file (SMS_BACKEND=file)."""
    key = captcha_create()
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert_ok(
        client.post(
            "/api/verifycode",
            {"phone": phone, "captcha_code": answer, "purpose": purpose},
            **{"HTTP_X_UNIQUE_KEY": key},
        )
    )
    message = sent_sms()[-1]
    assert message["phone"] == phone
    return message["code"]


def squash(text: str) -> str:
    return re.sub(r"\s+", "", text)


@responses.activate
def test_from_wechat_login_to_a_verified_sealed_contract(platform):
    world = make_world()
    signing_ready(world.company)
    responses.get(CODE2SESSION, json={"openid": "o-flow-signer", "session_key": "c2Vzc2lvbi1rZXktZmxvdw=="})
    anonymous = APIClient()
    anonymous.credentials(HTTP_X_PLATFORM_CODE=platform.code, **HEADERS)

    # Login.
    login = assert_ok(anonymous.post("/api/weixin/login", {"code": "0a3FlowCode"}))
    assert login["em_id"] == 0
    user = WechatUser.objects.get(openid="o-flow-signer")
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=login["session_token"], **HEADERS)

    # Consent first: the resume (ID number, photos) is refused until the current rules are agreed to.
    payload = resume_payload(world, user, phone=PHONE, with_code=False)
    assert_error(client.post("/api/employee", payload, format="json"), 403, 40302)
    consents = consent_through_api(client, platform)
    assert {g["scope"] for g in consents["given"]} == {"privacy_policy", "sensitive_pi"}

    # Resume, proven by an SMS code sent to the phone.
    payload["sms_code"] = request_sms_code(anonymous, phone=PHONE, purpose="resume")
    assert_ok(client.post("/api/employee", payload, format="json"))
    application = SignApplication.objects.get(em__user=user)
    assert_error(client.get("/api/sign/contract"), 409, 40900)  # not approved yet

    # The handler approves; the real-name check passes (the realname endpoint is another branch's).
    services.application_approve(
        application=application,
        staff=world.handler,
        contract=world.contract,
        entry_date=timezone.localdate() + datetime.timedelta(days=14),
        salary="8800",
    )
    WechatUser.objects.filter(pk=user.pk).update(verify_status=VerifyStatus.VERIFIED)
    assert assert_ok(client.get("/api/em_status"))["status"] == 2

    # Read the contract; the link serves exactly the file whose digest is shown.
    contract = assert_ok(client.get("/api/sign/contract"))
    assert (contract["application_id"], contract["salary"], contract["status"]) == (application.pk, "8800.00", 2)
    served = b"".join(client.get(contract["file_url"]).streaming_content)
    application.refresh_from_db()
    # The personalised contract generated at approval, not the blank template.
    assert hashlib.sha256(served).hexdigest() == contract["sha256"] == application.contract_document_sha256
    assert contract["sha256"] != world.contract.sha256

    # Draw and upload the handwritten signature.
    signature = assert_ok(
        client.post(
            "/api/image",
            {"file": SimpleUploadedFile("sign.png", handwritten_signature(), "image/png")},
            format="multipart",
        )
    )["url"]

    # The signing code goes only to the resume phone.
    refused = anonymous.post("/api/verifycode", {"phone": PHONE, "captcha_code": "x", "purpose": "sign"})
    assert_error(refused, 401, 40100)
    sms_code = request_sms_code(client, phone=PHONE, purpose="sign")

    # Sign.
    signed = assert_ok(client.post("/api/sign", {"sms_code": sms_code, "signature": signature}, format="json"))
    assert assert_ok(client.get("/api/em_status"))["status"] == 3
    assert_error(client.post("/api/sign", {"sms_code": sms_code, "signature": signature}), 409, 40900)

    # Fetch the sealed PDF through its link and verify it.
    document = assert_ok(client.get("/api/sign/document"))
    assert document["sha256"] == signed["sha256"]
    pdf = b"".join(client.get(document["document_url"]).streaming_content)
    assert hashlib.sha256(pdf).hexdigest() == document["sha256"] and len(pdf) == document["size"]
    result = verify_document(pdf)
    assert result.is_ours and result.intact, result.message
    assert result.application_id == application.pk
    assert SignedDocument.objects.get().contract_sha256 == contract["sha256"]  # the document read
    assert archived_document(result).matches

    # The certificate page: the signer, masked identity, environment and the whole audit trail.
    reader = PdfReader(io.BytesIO(pdf))
    contract_pages = len(PdfReader(io.BytesIO(served)).pages)
    certificate = squash("".join(page.extract_text() for page in reader.pages[contract_pages:]))
    employee = Employee.objects.get(user=user)
    assert "电子签约存证证书" in certificate
    assert employee.real_name in certificate
    assert mask_id_number(ID_NUMBER) in certificate and ID_NUMBER not in certificate
    assert "138****8000" in certificate and PHONE not in certificate
    assert "闪签测试科技有限公司" in certificate and "8,800.00元" in certificate
    assert "杭州" in certificate and "127.0.0.1" in certificate
    assert result.contract_sha256 in certificate  # the contract pages as sealed (with the marks)
    assert SignedDocument.objects.get().signature_sha256 in certificate
    for fragment in ("签约申请", "签约申请→待签约", "后台：李专员", "查看合同", "待签约→已签约", "员工本人"):
        assert fragment in certificate, fragment
    events = list(SignEvent.objects.filter(application=application).values_list("kind", "to_status"))
    assert events == [
        ("transition", 1),
        ("transition", 2),
        ("viewed", None),
        ("intent_sent", None),
        ("intent_ok", None),
        ("signature", None),
        ("event_cert", None),
        ("seal_applied", None),
        ("transition", 3),
        ("timestamp", None),
        ("timestamp", None),
        ("timestamp", None),
        ("sealed", None),
    ]
    assert SmsCode.objects.filter(used_at__isnull=True).count() == 0

    # History shows it with its events; the employee can no longer withdraw.
    history = assert_ok(client.get("/api/sign/history"))
    assert [item["status"] for item in history["list"]] == [3]
    assert [event["kind"] for event in history["list"][0]["events"]] == [kind for kind, _ in events]
    assert_error(client.post("/api/sign/cancel"), 409, 40900)
