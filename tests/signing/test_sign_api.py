"""
The signing endpoints (SPEC §4.15–4.19): GET /api/sign/contract, POST /api/sign,
GET /api/sign/document, POST /api/sign/cancel, GET /api/sign/history.
"""

import datetime
import hashlib
import io
from decimal import Decimal
from pathlib import Path

import pytest
from django.conf import settings
from django.core.files.storage import default_storage
from django.db import IntegrityError
from django.utils import timezone
from pypdf import PdfReader

from contracts.services import contract_save_file
from employees.models import SmsCode, SmsPurpose, VerifyStatus
from employees.otp import sms_code_create
from employees.uploads import upload_url
from shanqian.throttling import SignThrottle
from signing.models import SignApplication, SignedDocument, SignEvent, SignStatus
from signing.sealing.verification import verify_document
from signing.services import contract_signing as sign_services
from tests.envelope import assert_error, assert_ok
from tests.factories import (
    AdminUserFactory,
    EmployeeFactory,
    SignApplicationFactory,
    UploadFactory,
    WechatUserFactory,
    logged_in_client,
    make_signer,
    pdf_bytes,
    sign_code,
    signature_url,
)
from tests.support.storage import sealed_files

pytestmark = pytest.mark.django_db

CONTRACT = "/api/sign/contract"
SIGN = "/api/sign"
DOCUMENT = "/api/sign/document"
CANCEL = "/api/sign/cancel"
HISTORY = "/api/sign/history"


def state(signer) -> dict:
    """Everything a refused signing request must leave untouched."""
    application = SignApplication.objects.get(pk=signer.application.pk)
    return {
        "status": application.status,
        "documents": SignedDocument.objects.count(),
        "signed_events": SignEvent.objects.filter(to_status=SignStatus.SIGNED).count(),
        "used_codes": SmsCode.objects.filter(used_at__isnull=False).count(),
        "files": sealed_files(),
    }


def view_contract(signer) -> dict:
    return assert_ok(signer.client.get(CONTRACT))


def sign(signer, *, code=None, signature=None, **extra):
    body = {
        "sms_code": sign_code(signer.employee.phone) if code is None else code,
        "signature": signature_url(signer.user) if signature is None else signature,
        **extra,
    }
    return signer.client.post(SIGN, body, format="json")


# --- GET /api/sign/contract --------------------------------------------------------------------------


def test_contract_shows_the_approved_terms_and_a_working_file_link(signer, world):
    data = view_contract(signer)

    contract = world.contract
    assert data == {
        "application_id": signer.application.pk,
        "contract_name": contract.contract_name,
        "contract_body": contract.contract_body,
        "sign_year": 3,
        "company": {"id": world.company.pk, "company_name": "闪签测试科技有限公司"},
        "work_pos": "前台",
        "entry_date": (timezone.localdate() + datetime.timedelta(days=7)).isoformat(),
        "salary": "7000.50",
        "file_url": data["file_url"],
        "sha256": SignApplication.objects.get(pk=signer.application.pk).contract_document_sha256,
        "status": 2,
    }
    assert data["sha256"] != contract.sha256  # the personalised contract, not the blank template
    response = signer.client.get(data["file_url"])
    assert response.status_code == 200 and response["Content-Type"] == "application/pdf"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == data["sha256"]


def test_opening_the_contract_records_who_read_which_file_when_and_where(signer, world):
    view_contract(signer)

    event = SignEvent.objects.get(application=signer.application, kind=SignEvent.Kind.VIEWED)
    assert event.actor_user == signer.user
    assert (event.from_status, event.to_status) == (None, None)
    sha256 = SignApplication.objects.get(pk=signer.application.pk).contract_document_sha256
    assert event.document_sha256 == sha256
    assert event.note == f"合同文件 SHA-256：{sha256}"
    assert (event.ip, event.city, event.lng, event.lat) == (
        "127.0.0.1",
        "北京",
        Decimal("116.397128"),
        Decimal("39.916527"),
    )
    assert SignApplication.objects.get(pk=signer.application.pk).status == SignStatus.AWAITING_SIGNATURE


def test_rereading_within_ten_minutes_is_one_reading_later_a_new_one(signer):
    view_contract(signer)
    view_contract(signer)
    assert SignEvent.objects.filter(kind=SignEvent.Kind.VIEWED).count() == 1

    eleven_minutes_ago = timezone.now() - datetime.timedelta(minutes=11)
    SignEvent.objects.filter(kind=SignEvent.Kind.VIEWED).update(created_at=eleven_minutes_ago)
    view_contract(signer)

    assert SignEvent.objects.filter(kind=SignEvent.Kind.VIEWED).count() == 2


def test_contract_without_a_registered_digest_reports_the_digest_of_the_stored_bytes(signer, world):
    type(world.contract).objects.filter(pk=world.contract.pk).update(sha256="")

    data = view_contract(signer)

    # The inputs changed (the template's digest is one of them): the contract was generated again.
    application = SignApplication.objects.get(pk=signer.application.pk)
    with default_storage.open(application.contract_document.name, "rb") as handle:
        assert data["sha256"] == hashlib.sha256(handle.read()).hexdigest() == application.contract_document_sha256


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (SignStatus.APPLIED, "签约申请正在审核中，审核通过后才能查看合同"),
        (SignStatus.REJECTED, "签约申请已驳回，不能查看合同"),
        (SignStatus.CANCELLED, "签约申请已取消，不能查看合同"),
    ],
)
def test_contract_outside_status_2_and_3_is_409_and_records_nothing(world, platform, status, message):
    signer = make_signer(world, status=status)

    body = assert_error(signer.client.get(CONTRACT), 409, 40900)

    assert body["msg"] == message
    assert not SignEvent.objects.filter(kind=SignEvent.Kind.VIEWED).exists()


def test_contract_without_a_resume_or_an_application_is_404(user_api):
    assert assert_error(user_api.get(CONTRACT), 404, 40400)["msg"] == "您还没有提交简历"

    EmployeeFactory(user=user_api.user)
    assert assert_error(user_api.get(CONTRACT), 404, 40400)["msg"] == "您还没有签约申请"


def test_another_users_contract_is_not_shown(signer, user_api):
    assert_error(user_api.get(CONTRACT), 404, 40400)
    assert not SignEvent.objects.filter(kind=SignEvent.Kind.VIEWED).exists()


def test_contract_needs_a_login(api):
    assert_error(api.get(CONTRACT), 401, 40100)


def test_signed_contract_is_shown_with_the_digest_that_was_sealed_and_no_new_reading(signer):
    view_contract(signer)
    assert_ok(sign(signer))
    readings = SignEvent.objects.filter(kind=SignEvent.Kind.VIEWED).count()

    data = view_contract(signer)

    assert data["status"] == 3
    assert data["sha256"] == SignedDocument.objects.get().contract_sha256
    assert SignEvent.objects.filter(kind=SignEvent.Kind.VIEWED).count() == readings


# --- POST /api/sign: success -------------------------------------------------------------------------


def test_signing_seals_stores_and_records_everything(signer, world):
    view_contract(signer)
    code = sign_code(signer.employee.phone)
    upload = UploadFactory(owner=signer.user, width=300, height=120)

    data = assert_ok(sign(signer, code=code, signature=upload_url(upload)))

    application = signer.refresh()
    document = SignedDocument.objects.get(application=application)
    assert application.status == SignStatus.SIGNED
    assert data == {"document_url": data["document_url"], "sha256": document.sha256}
    with default_storage.open(document.file.name, "rb") as handle:
        pdf = handle.read()
    assert hashlib.sha256(pdf).hexdigest() == document.sha256 and len(pdf) == document.size
    assert document.file.name.startswith("signed/")
    assert (document.contract_sha256, document.signature, document.signature_sha256) == (
        application.contract_document_sha256,
        upload,
        upload.sha256,
    )
    result = verify_document(pdf)
    assert result.ok and result.application_id == application.pk
    assert len(result.contract_sha256) == 64  # the contract pages as sealed, with signature and seal drawn
    assert SmsCode.objects.get(purpose=SmsPurpose.SIGN).used_at is not None
    signed = SignEvent.objects.get(application=application, to_status=SignStatus.SIGNED)
    assert (signed.from_status, signed.actor_user, signed.city) == (2, signer.user, "北京")
    assert signed.note == f"短信验证码确认签署意愿；签名图片 SHA-256：{upload.sha256}"
    downloaded = signer.client.get(data["document_url"])
    assert b"".join(downloaded.streaming_content) == pdf


def test_the_certificate_shows_the_signing_time_of_the_audit_event(signer):
    view_contract(signer)
    assert_ok(sign(signer))

    # 签署时间 is the instant the intent code was accepted (the audit row of that act, to the
    # microsecond); the status move is written a moment later inside the lock, never before it —
    # under load that moment can fall in the next second, so it is not the one compared.
    accepted = SignEvent.objects.get(kind=SignEvent.Kind.INTENT_ACCEPTED)
    move = SignEvent.objects.get(kind=SignEvent.Kind.TRANSITION, to_status=SignStatus.SIGNED)
    assert accepted.created_at <= move.created_at
    with default_storage.open(SignedDocument.objects.get().file.name, "rb") as handle:
        reader = PdfReader(io.BytesIO(handle.read()))
    certificate = "".join(page.extract_text() for page in reader.pages[1:]).replace(" ", "").replace("\n", "")
    assert timezone.localtime(accepted.created_at).strftime("%Y-%m-%d%H:%M:%S+08:00") in certificate
    assert "李小雷" in certificate and "139****5678" in certificate


def test_signing_is_allowed_without_real_name_when_the_setting_is_off(world, platform, settings):
    settings.SIGN_REQUIRE_REALNAME = False
    signer = make_signer(world, verify_status=VerifyStatus.PENDING)
    view_contract(signer)

    assert_ok(sign(signer))

    assert signer.refresh().status == SignStatus.SIGNED


def test_a_second_sign_after_success_is_a_clear_409(signer):
    view_contract(signer)
    assert_ok(sign(signer))
    before = state(signer)

    body = assert_error(sign(signer), 409, 40900)

    assert body["msg"] == "合同已签署，请勿重复签署"
    assert state(signer) == before


def test_form_encoded_body_is_accepted(signer):
    view_contract(signer)

    response = signer.client.post(
        SIGN, {"sms_code": sign_code(signer.employee.phone), "signature": signature_url(signer.user)}
    )

    assert_ok(response)


# --- POST /api/sign: refusals, each leaving the database as it was -------------------------------------


@pytest.mark.parametrize(
    ("status", "message"),
    [
        (SignStatus.APPLIED, "签约申请正在审核中，审核通过后才能签署"),
        (SignStatus.SIGNED, "合同已签署，请勿重复签署"),
        (SignStatus.REJECTED, "签约申请已驳回，不能签署"),
        (SignStatus.CANCELLED, "签约申请已取消，不能签署"),
    ],
)
def test_signing_in_the_wrong_status_is_409(world, platform, status, message):
    signer = make_signer(world, status=status)
    code = sign_code(signer.employee.phone)
    before = state(signer)

    body = assert_error(sign(signer, code=code), 409, 40900)

    assert body["msg"] == message
    assert state(signer) == before
    assert SmsCode.objects.get().failed_tries == 0


@pytest.mark.parametrize("verify_status", [VerifyStatus.PENDING, VerifyStatus.VERIFYING, VerifyStatus.FAILED])
def test_signing_before_real_name_is_409(world, platform, verify_status):
    signer = make_signer(world, verify_status=verify_status)
    view_contract(signer)
    before = state(signer)

    body = assert_error(sign(signer), 409, 40900)

    assert body["msg"] == "请先完成实名认证再签约"
    assert state(signer) == before


def test_signing_before_reading_the_contract_is_409(signer):
    before = state(signer)

    body = assert_error(sign(signer), 409, 40900)

    assert body["msg"] == "请先阅读合同再签署"
    assert state(signer) == before


def test_a_reading_by_staff_does_not_count_as_the_employees(signer, world):
    sign_services.application_record_event(
        application=signer.application,
        kind=SignEvent.Kind.VIEWED,
        actor_staff=world.handler,
        note=sign_services.viewed_note(world.contract.sha256),
        document_sha256=world.contract.sha256,
    )

    assert_error(sign(signer), 409, 40900)


def test_a_template_replaced_after_reading_must_be_read_again(signer, world):
    view_contract(signer)
    contract_save_file(contract=world.contract, file=pdf_bytes("劳动合同（修订版）", pages=2))
    before = state(signer)

    body = assert_error(sign(signer), 409, 40900)

    assert body["msg"] == "合同文件已更新，请重新阅读合同后再签署"
    assert state(signer) == before
    data = view_contract(signer)
    assert_ok(sign(signer))
    assert SignedDocument.objects.get().contract_sha256 == data["sha256"]


def test_a_code_sent_for_the_resume_is_42201(signer):
    view_contract(signer)
    resume_code = sms_code_create(phone=signer.employee.phone, purpose=SmsPurpose.RESUME)[1]
    before = state(signer)

    assert_error(sign(signer, code=resume_code), 422, 42201)

    assert state(signer) == before
    assert SmsCode.objects.get().used_at is None


def test_a_wrong_code_is_42201_and_counts_a_try(signer):
    view_contract(signer)
    right = sign_code(signer.employee.phone)
    wrong = "000000" if right != "000000" else "111111"
    before = state(signer)

    body = assert_error(sign(signer, code=wrong), 422, 42201)

    assert "还可尝试 4 次" in body["msg"]
    assert SmsCode.objects.get().failed_tries == 1
    assert state(signer) == before
    assert_ok(sign(signer, code=right))


def test_an_expired_code_is_42201(signer):
    view_contract(signer)
    code = sign_code(signer.employee.phone)
    SmsCode.objects.update(expires_at=timezone.now() - datetime.timedelta(seconds=1))
    before = state(signer)

    body = assert_error(sign(signer, code=code), 422, 42201)

    assert body["msg"] == "短信验证码已失效，请重新获取"
    assert state(signer) == before


def test_a_code_sent_to_another_phone_is_42201(signer):
    view_contract(signer)
    code = sign_code("13700000000")
    before = state(signer)

    assert_error(sign(signer, code=code), 422, 42201)

    assert state(signer) == before


def test_too_many_wrong_tries_spend_the_code(signer, settings):
    view_contract(signer)
    right = sign_code(signer.employee.phone)
    wrong = "000000" if right != "000000" else "111111"
    for _ in range(settings.SMS_CODE_MAX_TRIES):
        assert_error(sign(signer, code=wrong), 422, 42201)

    body = assert_error(sign(signer, code=right), 422, 42201)

    assert body["msg"] == "验证码错误次数过多，请重新获取"
    assert signer.refresh().status == SignStatus.AWAITING_SIGNATURE


def test_someone_elses_signature_upload_is_40000(signer):
    view_contract(signer)
    code = sign_code(signer.employee.phone)
    theirs = upload_url(UploadFactory(owner=WechatUserFactory()))
    before = state(signer)

    body = assert_error(sign(signer, code=code, signature=theirs), 400, 40000)

    assert body["data"]["errors"] == {"signature": ["签名图片无效，请重新签名并上传。"]}
    assert state(signer) == before
    assert SmsCode.objects.get().failed_tries == 0


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/files/abc.png",
        "not a url at all",
        "/files/forged-token",
        "http://testserver/files/" + "A" * 3000,
    ],
)
def test_a_foreign_or_garbage_signature_url_is_40000(signer, url):
    view_contract(signer)
    before = state(signer)

    body = assert_error(sign(signer, signature=url), 400, 40000)

    assert "signature" in body["data"]["errors"]
    assert state(signer) == before


def test_a_signed_link_to_a_file_that_is_not_an_image_upload_is_40000(signer):
    """Our own signed link to the contract PDF: a real, fresh link, but not an uploaded image."""
    file_url = view_contract(signer)["file_url"]
    before = state(signer)

    body = assert_error(sign(signer, signature=file_url), 400, 40000)

    assert body["data"]["errors"] == {"signature": ["签名图片无效，请重新签名并上传。"]}
    assert state(signer) == before


def test_the_id_card_photo_is_not_a_signature(signer):
    view_contract(signer)
    photo = UploadFactory(owner=signer.user)
    type(signer.employee).objects.filter(pk=signer.employee.pk).update(id_card_front=photo)
    before = state(signer)

    body = assert_error(sign(signer, signature=upload_url(photo)), 400, 40000)

    assert body["data"]["errors"] == {"signature": ["这是身份证照片，请上传手写签名图片。"]}
    assert state(signer) == before


def test_a_signature_file_changed_on_disk_is_40000(signer):
    view_contract(signer)
    upload = UploadFactory(owner=signer.user)
    Path(settings.MEDIA_ROOT, upload.file.name).write_bytes(b"\x89PNG garbage")
    before = state(signer)

    body = assert_error(sign(signer, signature=upload_url(upload)), 400, 40000)

    assert body["data"]["errors"] == {"signature": ["签名图片已损坏，请重新签名并上传。"]}
    assert state(signer) == before


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({}, {"sms_code", "signature"}),
        ({"sms_code": "", "signature": ""}, {"sms_code", "signature"}),
        ({"sms_code": "123456"}, {"signature"}),
        ({"signature": "x"}, {"sms_code"}),
        ({"sms_code": ["123456"], "signature": {"a": 1}}, {"sms_code", "signature"}),
        ({"sms_code": "12\x0056", "signature": "x"}, {"sms_code"}),
        ({"sms_code": "1" * 17, "signature": "x"}, {"sms_code"}),
        ({"sms_code": "123456", "signature": "x" * 2049}, {"signature"}),
    ],
)
def test_missing_or_malformed_fields_are_40000(signer, body, fields):
    view_contract(signer)
    sign_code(signer.employee.phone)
    before = state(signer)

    response = signer.client.post(SIGN, body, format="json")

    assert set(assert_error(response, 400, 40000)["data"]["errors"]) == fields
    assert state(signer) == before


def test_a_non_numeric_code_is_42201_without_counting_a_try(signer):
    view_contract(signer)
    signature = signature_url(signer.user)
    sign_code(signer.employee.phone)

    assert_error(sign(signer, code="abcdef", signature=signature), 422, 42201)

    assert SmsCode.objects.get().failed_tries == 0


def test_signing_without_a_login_is_401(api):
    assert_error(api.post(SIGN, {"sms_code": "123456", "signature": "x"}, format="json"), 401, 40100)


def test_signing_is_throttled_per_user(signer, monkeypatch):
    monkeypatch.setattr(SignThrottle, "THROTTLE_RATES", {"sign": "2/hour"})
    for _ in range(2):
        assert_error(sign(signer), 409, 40900)  # not viewed yet

    body = assert_error(sign(signer), 429, 42900)

    assert body["data"]["retry_after"] > 0


# --- a contract file that cannot be sealed ------------------------------------------------------------


def corrupt(contract) -> None:
    Path(settings.MEDIA_ROOT, contract.file.name).write_bytes(b"%PDF-1.4 garbage, not a PDF at all \x00\xff" * 20)


def stored_document(signer):
    return Path(settings.MEDIA_ROOT, SignApplication.objects.get(pk=signer.application.pk).contract_document.name)


def test_a_corrupt_personalised_contract_is_409_and_leaves_nothing_behind(signer, world):
    view_contract(signer)
    stored_document(signer).write_bytes(b"%PDF-1.4 garbage, not a PDF at all \x00\xff" * 20)
    code = sign_code(signer.employee.phone)
    before = state(signer)

    body = assert_error(sign(signer, code=code), 409, 40900)

    assert body["msg"] == "个性化合同文件与登记的文件不一致，无法签署，请联系人事处理"
    assert state(signer) == before
    assert sealed_files() == []
    assert SmsCode.objects.get(purpose=SmsPurpose.SIGN).used_at is None


def test_a_template_that_cannot_be_personalised_is_refused_when_read(signer, world):
    """Without a registered digest the inputs change and the contract is drawn again: from garbage it cannot be."""
    type(world.contract).objects.filter(pk=world.contract.pk).update(sha256="")
    corrupt(world.contract)
    before = state(signer)

    body = assert_error(signer.client.get(CONTRACT), 409, 40900)

    assert body["msg"] == "合同模板无法生成个性化合同，请联系管理员检查模板文件"
    assert state(signer) == before
    assert not SignEvent.objects.filter(kind=SignEvent.Kind.VIEWED).exists()


def test_a_missing_personalised_contract_file_is_409(signer, world):
    view_contract(signer)
    stored_document(signer).unlink()
    before = state(signer)

    body = assert_error(sign(signer), 409, 40900)

    assert body["msg"] == "个性化合同文件不存在，请联系人事处理"
    assert state(signer) == before


def test_a_failure_after_the_file_is_stored_deletes_it(signer, monkeypatch):
    """The sealed PDF is written before the SignedDocument row; a failing insert must not leave it behind."""
    view_contract(signer)
    code = sign_code(signer.employee.phone)
    before = state(signer)

    def broken_create(**kwargs):
        assert sealed_files(), "the sealed PDF should be stored by now"
        raise IntegrityError("simulated")

    monkeypatch.setattr(SignedDocument.objects, "create", broken_create)

    response = sign(signer, code=code)

    assert_error(response, 500, 50000)
    assert state(signer) == before
    assert sealed_files() == []


def test_a_failure_after_the_callback_still_deletes_the_stored_file(signer, monkeypatch):
    """Even when the seal succeeded, a rollback later in the transaction (here: the on_commit hook) cleans up."""
    view_contract(signer)
    code = sign_code(signer.employee.phone)
    before = state(signer)
    from shanqian.errors import Conflict

    def fail(*args, **kwargs):
        raise Conflict("simulated late failure")

    monkeypatch.setattr("signing.services.applications._on_commit_status_changed", fail)

    assert_error(sign(signer, code=code), 409, 40900)

    assert state(signer) == before
    assert sealed_files() == []
    assert SmsCode.objects.get(purpose=SmsPurpose.SIGN).used_at is None


def test_application_sign_with_seal_refuses_an_upload_of_another_user(signer):
    from shanqian.errors import InvalidInput

    view_contract(signer)
    row = sms_code_create(phone=signer.employee.phone, purpose=SmsPurpose.SIGN)[0]

    with pytest.raises(InvalidInput):
        sign_services.application_sign_with_seal(
            application=signer.application,
            user=signer.user,
            sms_code_row=row,
            signature_upload=UploadFactory(owner=WechatUserFactory()),
        )
    assert signer.refresh().status == SignStatus.AWAITING_SIGNATURE


# --- GET /api/sign/document --------------------------------------------------------------------------


def test_document_after_signing(signer):
    view_contract(signer)
    signed = assert_ok(sign(signer))

    data = assert_ok(signer.client.get(DOCUMENT))

    document = SignedDocument.objects.get()
    signed_event = SignEvent.objects.get(application=signer.application, to_status=SignStatus.SIGNED)
    assert data == {
        "document_url": data["document_url"],
        "sha256": signed["sha256"],
        # The time printed on the certificate page: the SIGNED event's, not the file row's.
        "signed_at": timezone.localtime(signed_event.created_at).isoformat(),
        "size": document.size,
    }
    pdf = b"".join(signer.client.get(data["document_url"]).streaming_content)
    assert hashlib.sha256(pdf).hexdigest() == document.sha256


def test_document_download_streams_the_pdf_itself(signer):
    view_contract(signer)
    assert_ok(sign(signer))

    response = signer.client.get(DOCUMENT, {"download": "1"})

    document = SignedDocument.objects.get()
    assert response.status_code == 200
    assert response["Content-Type"] == "application/pdf"
    assert response["Content-Disposition"] == f'attachment; filename="signed-contract-{document.application_id}.pdf"'
    assert response["Cache-Control"] == "no-store"
    assert hashlib.sha256(b"".join(response.streaming_content)).hexdigest() == document.sha256


def test_document_download_of_a_vanished_file_is_404(signer):
    view_contract(signer)
    assert_ok(sign(signer))
    default_storage.delete(SignedDocument.objects.get().file.name)

    assert_error(signer.client.get(DOCUMENT, {"download": "1"}), 404, 40400)


def test_document_before_signing_is_404(signer, user_api):
    assert assert_error(signer.client.get(DOCUMENT), 404, 40400)["msg"] == "您还没有已签署的合同"
    assert_error(user_api.get(DOCUMENT), 404, 40400)


def test_another_users_document_is_not_shown(signer, user_api):
    view_contract(signer)
    assert_ok(sign(signer))

    assert_error(user_api.get(DOCUMENT), 404, 40400)


# --- POST /api/sign/cancel -----------------------------------------------------------------------------


@pytest.mark.parametrize("status", [SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE])
def test_cancel_withdraws_an_open_application(world, platform, status):
    signer = make_signer(world, status=status)

    data = assert_ok(signer.client.post(CANCEL, {"reason": "已找到其他工作"}, format="json"))

    assert data == {"id": signer.application.pk, "status": 5, "status_label": "已取消"}
    assert signer.refresh().status == SignStatus.CANCELLED
    event = SignEvent.objects.get(to_status=SignStatus.CANCELLED)
    assert (event.from_status, event.actor_user, event.note) == (status, signer.user, "已找到其他工作")
    assert event.city == "北京"


def test_cancel_without_a_reason(signer):
    assert_ok(signer.client.post(CANCEL))

    assert SignEvent.objects.get(to_status=SignStatus.CANCELLED).note == ""


@pytest.mark.parametrize("status", [SignStatus.SIGNED, SignStatus.REJECTED, SignStatus.CANCELLED])
def test_cancelling_a_final_application_is_409(world, platform, status):
    signer = make_signer(world, status=status)
    events = SignEvent.objects.count()

    assert_error(signer.client.post(CANCEL, {"reason": "想取消"}), 409, 40900)

    assert signer.refresh().status == status
    assert SignEvent.objects.count() == events


def test_cancelling_a_signed_application_is_409(signer):
    view_contract(signer)
    assert_ok(sign(signer))

    body = assert_error(signer.client.post(CANCEL), 409, 40900)

    assert body["msg"] == "该申请当前为「已签约」，不能取消"
    assert signer.refresh().status == SignStatus.SIGNED


@pytest.mark.parametrize("reason", ["长" * 257, "bad\x00reason", ["list"]])
def test_a_bad_cancel_reason_is_40000(signer, reason):
    body = assert_error(signer.client.post(CANCEL, {"reason": reason}, format="json"), 400, 40000)

    assert set(body["data"]["errors"]) == {"reason"}
    assert signer.refresh().status == SignStatus.AWAITING_SIGNATURE


def test_cancel_without_an_application_is_404(user_api):
    assert_error(user_api.post(CANCEL), 404, 40400)


# --- GET /api/sign/history ---------------------------------------------------------------------------


def test_history_lists_applications_newest_first_with_their_events(signer, world):
    view_contract(signer)
    assert_ok(sign(signer))
    older = SignApplicationFactory(
        em=signer.employee,
        company=world.company2,
        work_pos="司机",
        status=SignStatus.REJECTED,
        reason="学历证明缺失",
    )
    SignApplication.objects.filter(pk=older.pk).update(apply_time=timezone.now() - datetime.timedelta(days=30))
    SignEvent.objects.create(application=older, kind=SignEvent.Kind.TRANSITION, to_status=1, actor_user=signer.user)
    SignEvent.objects.create(application=older, kind=SignEvent.Kind.NOTE, note="系统自动备注")

    data = assert_ok(signer.client.get(HISTORY))

    assert (data["page"], data["pageSize"], data["total"], data["count"]) == (1, 10, 1, 2)
    newest, oldest = data["list"]
    assert newest["id"] == signer.application.pk
    assert {k: newest[k] for k in ("status", "status_label", "company", "work_pos", "salary", "contract_name")} == {
        "status": 3,
        "status_label": "已签约",
        "company": {"id": world.company.pk, "company_name": "闪签测试科技有限公司"},
        "work_pos": "前台",
        "salary": "7000.50",
        "contract_name": "劳动合同",
    }
    assert newest["entry_date"] == signer.application.entry_date.isoformat()
    assert [(e["kind"], e["from_status"], e["to_status"], e["actor"]) for e in newest["events"]] == [
        ("transition", 1, 2, "后台：李专员"),
        ("viewed", None, None, "员工本人"),
        ("intent_sent", None, None, "系统"),
        ("intent_ok", None, None, "员工本人"),
        ("signature", None, None, "员工本人"),
        ("event_cert", None, None, "系统"),
        ("seal_applied", None, None, "系统"),
        ("transition", 2, 3, "员工本人"),
        ("timestamp", None, None, "系统"),
        ("timestamp", None, None, "系统"),
        ("timestamp", None, None, "系统"),
        ("sealed", None, None, "系统"),
    ]
    assert newest["events"][1]["city"] == "北京"
    assert set(newest["events"][0]) == {
        "kind",
        "kind_label",
        "from_status",
        "to_status",
        "created_at",
        "actor",
        "note",
        "city",
    }
    assert (oldest["status"], oldest["reason"], oldest["contract_name"], oldest["entry_date"]) == (
        4,
        "学历证明缺失",
        "",
        None,
    )
    assert [e["actor"] for e in oldest["events"]] == ["员工本人", "系统"]


def test_history_paginates(signer, world):
    for _ in range(4):
        SignApplicationFactory(em=signer.employee, company=world.company, status=SignStatus.CANCELLED)

    data = assert_ok(signer.client.get(HISTORY, {"pageSize": 2, "page": 3}))

    assert (data["page"], data["pageSize"], data["total"], data["count"], len(data["list"])) == (3, 2, 3, 5, 1)
    assert_error(signer.client.get(HISTORY, {"page": 9}), 404, 40400)


def test_history_of_a_user_without_a_resume_is_empty(user_api, signer):
    data = assert_ok(user_api.get(HISTORY))

    assert (data["list"], data["count"]) == ([], 0)


@pytest.mark.parametrize("applications", [1, 20])
def test_history_query_count_is_constant(world, platform, applications, django_assert_max_num_queries):
    user = WechatUserFactory()
    employee = EmployeeFactory(user=user)
    staff = AdminUserFactory(name="审核员")
    for _ in range(applications):
        application = SignApplicationFactory(em=employee, company=world.company, contract=world.contract)
        for n in range(5):
            SignEvent.objects.create(
                application=application,
                kind=SignEvent.Kind.TRANSITION,
                to_status=1,
                actor_staff=staff if n % 2 else None,
                actor_user=None if n % 2 else user,
            )
    client = logged_in_client(user)

    # token + user, platform, count, page (company, contract joined), events (actor staff joined)
    with django_assert_max_num_queries(5):
        data = assert_ok(client.get(HISTORY, {"page_size": 100}))

    assert data["count"] == applications
    assert all(len(item["events"]) == 5 for item in data["list"])
    assert data["list"][0]["events"][1]["actor"] == "后台：审核员"


def test_contract_and_document_query_counts_are_small(signer, django_assert_max_num_queries):
    # The application, the personalised contract's inputs (template placements), the reading's event.
    with django_assert_max_num_queries(7):
        view_contract(signer)
    assert_ok(sign(signer))
    with django_assert_max_num_queries(3):
        assert_ok(signer.client.get(DOCUMENT))


@pytest.mark.parametrize(
    ("content_type", "payload", "http", "status"),
    [
        ("application/x-www-form-urlencoded", b"sms_code=12%FF%FE56&signature=%C3%28", 400, 40000),
        ("application/json", b'{"sms_code": "123456", "signature": ', 400, 40000),
        ("application/json", b'["123456", "x"]', 400, 40000),
        ("application/json", b"null", 400, 40000),
        ("application/xml", b"<sign><sms_code>123456</sms_code></sign>", 415, 41500),
    ],
)
def test_hostile_sign_bodies_get_the_envelope_and_change_nothing(signer, content_type, payload, http, status):
    view_contract(signer)
    sign_code(signer.employee.phone)
    before = state(signer)

    response = signer.client.generic("POST", SIGN, payload, content_type=content_type)

    assert_error(response, http, status)
    assert state(signer) == before
    assert SmsCode.objects.get().failed_tries == 0
