"""
Deletion requests (SPEC §13, PIPL art. 47): ``POST``/``GET /api/me/deletion``, the back office's
删除申请 (scoped like applications; 执行删除 / 拒绝删除 through the review framework), what an
execution deletes and what the law keeps (``CONTRACT_RETENTION_YEARS``), the outcome notified.
"""

import datetime

import pytest
from django.contrib.admin.models import CHANGE, LogEntry
from django.contrib.contenttypes.models import ContentType
from django.core.files.storage import default_storage
from django.utils import timezone

from employees.models import (
    Consent,
    Employee,
    EmployeeEducation,
    RealnameVerification,
    SessionToken,
    Upload,
    WechatUser,
    WorkExperience,
)
from shanqian import outbox
from shanqian.errors import Conflict, InvalidInput, NotFound
from shanqian.models import BulkJob, BulkJobItem, OutboxMessage
from signing.ledger.models import ContractStatus, EmploymentContract
from signing.models import SignApplication, SignedDocument, SignEvent, SignStatus
from signing.privacy import services
from signing.privacy.models import DeletionRequest, DeletionStatus
from tests.envelope import assert_error, assert_ok
from tests.factories import (
    CLIENT,
    EmploymentContractFactory,
    HandlerFactory,
    SignApplicationFactory,
    SignedDocumentFactory,
    UploadFactory,
    WechatUserFactory,
    logged_in_client,
    make_person,
)
from tests.support.admin import action_post, client_for, messages_of
from tests.support.sms import sent_sms

URL = "/api/me/deletion"
ADMIN = "/admin/signing/deletionrequest/"
PHONE = "13822223333"


@pytest.fixture(autouse=True)
def _file_sms(settings):
    settings.SMS_BACKEND = "file"
    settings.NOTIFY_SMS_FALLBACK = True


def applicant(world, *, status=SignStatus.REJECTED, phone=PHONE, name="孙小美"):
    """``make_person`` (contact 孙父) with an upload nothing refers to and one application in ``status``."""
    user, employee = make_person(world, name=name, phone=phone, contact=("孙父", "13900001111"))
    UploadFactory(owner=user)
    application = SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, status=status)
    SignEvent.objects.create(application=application, to_status=status, actor_user=user, note="事件")
    return user, employee, application


def with_contract(world, employee, **contract):
    application = SignApplicationFactory(
        em=employee, company=world.company, ad_user=world.handler, status=SignStatus.SIGNED
    )
    SignEvent.objects.create(application=application, to_status=SignStatus.SIGNED, actor_user=employee.user)
    signature = UploadFactory(owner=employee.user)
    document = SignedDocumentFactory(application=application, signature=signature)
    return EmploymentContractFactory(application=application, document=document, **contract)


def request_of(user, reason="") -> DeletionRequest:
    return services.deletion_request_create(user=user, reason=reason, client=CLIENT)


def deliver_all() -> list[str]:
    rows = OutboxMessage.objects.filter(state=OutboxMessage.State.PENDING).order_by("pk")
    return [outbox.deliver(pk) for pk in rows.values_list("pk", flat=True)]


def delivered_after_commit() -> int:
    """The commit queued the outbox rows' delivery, which ran (tasks run eagerly without a broker)."""
    states = set(OutboxMessage.objects.values_list("state", flat=True))
    assert states == {OutboxMessage.State.DELIVERED}, states
    return OutboxMessage.objects.count()


# --- the API ----------------------------------------------------------------------------------------------


def test_a_request_is_recorded_and_shown(platform):
    user = WechatUserFactory(platform=platform)
    client = logged_in_client(user, REMOTE_ADDR="198.51.100.20")
    assert assert_ok(client.get(URL)) is None

    data = assert_ok(client.post(URL, {"reason": "已找到其他工作"}, format="json"))

    deletion = DeletionRequest.objects.get()
    assert data["id"] == deletion.pk and data["status"] == "pending" and data["status_label"] == "待处理"
    assert (deletion.user, deletion.platform, deletion.reason) == (user, platform, "已找到其他工作")
    assert deletion.ip == "198.51.100.20"
    assert assert_ok(client.get(URL)) == data


def test_the_reason_is_optional_and_forms_work_too(platform):
    client = logged_in_client(WechatUserFactory(platform=platform))

    data = assert_ok(client.post(URL, {}))

    assert data["reason"] == "" and DeletionRequest.objects.count() == 1


def test_a_second_open_request_is_409(platform):
    client = logged_in_client(WechatUserFactory(platform=platform))
    assert_ok(client.post(URL, {"reason": "第一次"}, format="json"))

    body = assert_error(client.post(URL, {"reason": "第二次"}, format="json"), 409, 40900)

    assert body["msg"] == services.ALREADY_OPEN
    assert list(DeletionRequest.objects.values_list("reason", flat=True)) == ["第一次"]


def test_a_request_that_loses_the_race_to_the_index_is_409(platform, monkeypatch):
    user = WechatUserFactory(platform=platform)
    request_of(user, "先到")
    # The pre-check sees nothing (as a request committed meanwhile on another connection would not be seen).
    monkeypatch.setattr(services, "OPEN_STATUSES", ())

    with pytest.raises(Conflict):
        request_of(user, "后到")

    assert DeletionRequest.objects.count() == 1


def test_after_a_refusal_a_new_request_may_be_made(world, platform):
    user = WechatUserFactory(platform=platform)
    services.deletion_refuse(
        deletion=request_of(user), staff=HandlerFactory(is_superuser=True), reason="合同纠纷处理中"
    )

    assert assert_ok(logged_in_client(user).post(URL, {}, format="json"))["status"] == "pending"
    assert DeletionRequest.objects.count() == 2


@pytest.mark.parametrize(
    ("payload", "message"),
    [
        ({"reason": "长" * 501}, "申请原因不能超过 500 个字符。"),
        ({"reason": "正常\u202e文字"}, "申请原因包含无效字符。"),
        ({"reason": "空\x00字符"}, "申请原因包含无效字符。"),
        ({"reason": ["列表"]}, "请输入有效的文本。"),
        ({"reason": {"a": 1}}, "请输入有效的文本。"),
        ({"reason": True}, "请输入有效的文本。"),
    ],
)
def test_bad_input_is_the_envelope_and_writes_nothing(platform, payload, message):
    client = logged_in_client(WechatUserFactory(platform=platform))

    body = assert_error(client.post(URL, payload, format="json"), 400, 40000)

    assert body["data"]["errors"]["reason"] == [message]
    assert not DeletionRequest.objects.exists()


def test_anonymous_is_401(api):
    assert_error(api.post(URL, {}), 401, 40100)
    assert_error(api.get(URL), 401, 40100)


def test_the_schema_documents_the_endpoints(db):
    from rest_framework.test import APIClient

    schema = APIClient().get("/api/schema", {"format": "json"}).json()
    paths = schema["paths"]

    assert paths["/api/me/deletion"]["post"]["operationId"] == "me_deletion_create"
    assert set(schema["components"]["schemas"]["DeletionInRequest"]["properties"]) == {"reason"}
    assert paths["/api/me/deletion"]["get"]["operationId"] == "me_deletion_retrieve"


# --- execution: what goes and what stays ---------------------------------------------------------------


def test_without_a_retained_contract_everything_goes_and_the_person_is_told(world, django_capture_on_commit_callbacks):
    user, employee, application = applicant(world)
    files = list(Upload.objects.filter(owner=user).values_list("file", flat=True))
    assert all(default_storage.exists(name) for name in files)
    deletion = request_of(user, "不再求职")
    LogEntry.objects.log_actions(world.handler.pk, [employee], CHANGE, change_message="查看", single_object=True)
    job = BulkJob.objects.create(
        action="signing.signapplication.reject", label="驳回", created_by=world.handler, total=2
    )
    BulkJobItem.objects.create(job=job, object_id=application.pk, label=f"{employee.real_name}（#{application.pk}）")
    kept = BulkJobItem.objects.create(job=job, object_id=application.pk + 1000, label="别人（#1000）")

    with django_capture_on_commit_callbacks(execute=True):
        done = services.deletion_execute(deletion=deletion, staff=world.handler, client=CLIENT)

    assert done.status == DeletionStatus.DONE and done.user is None and done.decided_by == world.handler
    assert not WechatUser.objects.filter(pk=user.pk).exists()
    assert not Employee.objects.exists() and not SignApplication.objects.exists() and not SignEvent.objects.exists()
    assert not EmployeeEducation.objects.exists() and not WorkExperience.objects.exists()
    assert not Upload.objects.exists() and not RealnameVerification.objects.exists()
    assert not Consent.objects.exists() and not SessionToken.objects.exists()
    assert not any(default_storage.exists(name) for name in files)
    assert done.deleted["applications"] == 1 and done.deleted["uploads"] == 3 and done.deleted["account"] == 1
    assert done.outcome.startswith("已删除：签约申请 1 条") and "依法保留" not in done.outcome
    for value in (employee.real_name, employee.phone, employee.id_number):
        assert value not in done.outcome
    entry = LogEntry.objects.get(content_type=ContentType.objects.get_for_model(Employee))
    assert entry.object_repr == services.ERASED_REPR and entry.change_message == ""
    assert set(BulkJobItem.objects.values_list("label", flat=True)) == {services.ERASED_REPR, kept.label}
    # The outcome reaches the phone the resume had, which the request keeps only until it is sent.
    assert done.notice_phone == PHONE
    assert delivered_after_commit() == 1
    assert sent_sms()[-1]["phone"] == PHONE and "个人信息已删除" in sent_sms()[-1]["text"]
    done.refresh_from_db()
    assert done.notice_phone == ""


def test_a_contract_in_force_keeps_its_evidence_and_the_rest_goes(world, django_capture_on_commit_callbacks):
    user, employee, rejected = applicant(world)
    contract = with_contract(world, employee)
    deletion = request_of(user)

    with django_capture_on_commit_callbacks(execute=True):
        done = services.deletion_execute(deletion=deletion, staff=world.handler, client=CLIENT)

    assert done.status == DeletionStatus.PARTIAL and done.user == user and done.retained_until is None
    assert not SignApplication.objects.filter(pk=rejected.pk).exists()
    assert EmploymentContract.objects.filter(pk=contract.pk).exists()
    assert SignApplication.objects.filter(pk=contract.application_id).exists()
    assert SignedDocument.objects.filter(application_id=contract.application_id).exists()
    assert SignEvent.objects.filter(application_id=contract.application_id).count() == 1
    employee.refresh_from_db()
    assert (employee.em_contact_name, employee.em_contact_phone) == ("", "")
    assert employee.id_card_front_id and employee.id_card_back_id
    assert not EmployeeEducation.objects.exists() and not WorkExperience.objects.exists()
    assert RealnameVerification.objects.filter(user=user).count() == 1
    # The stray upload goes; the ID photos and the signature the document holds stay.
    assert Upload.objects.filter(owner=user).count() == 3 and done.deleted["uploads"] == 1
    assert WechatUser.objects.filter(pk=user.pk).exists() and Consent.objects.filter(user=user).exists()
    assert "依法保留" in done.outcome and "合同履行期间一直保存" in done.outcome
    assert done.notice_phone == ""
    assert delivered_after_commit() == 1
    assert sent_sms()[-1]["phone"] == PHONE and "依法保留" in sent_sms()[-1]["text"]
    # The person still reads their contract.
    assert assert_ok(logged_in_client(user).get("/api/contracts"))["count"] == 1
    assert assert_ok(logged_in_client(user).get(URL))["status"] == "partial"


def test_an_ended_contract_is_kept_until_its_retention_runs_out(world, settings):
    settings.CONTRACT_RETENTION_YEARS = 3
    user, employee, _ = applicant(world)
    ended = timezone.localdate() - datetime.timedelta(days=100)
    with_contract(world, employee, status=ContractStatus.TERMINATED, ended_on=ended)

    done = services.deletion_execute(deletion=request_of(user), staff=world.handler)

    assert done.status == DeletionStatus.PARTIAL
    assert done.retained_until == ended.replace(year=ended.year + 3)
    assert f"最早于 {done.retained_until:%Y-%m-%d} 删除" in done.outcome
    assert EmploymentContract.objects.count() == 1


def test_a_contract_past_its_retention_goes_with_everything_else(world, django_capture_on_commit_callbacks):
    user, employee, _ = applicant(world)
    ended = timezone.localdate() - datetime.timedelta(days=3 * 366)
    contract = with_contract(world, employee, status=ContractStatus.TERMINATED, ended_on=ended)
    document_file = contract.document.file.name

    with django_capture_on_commit_callbacks(execute=True):
        done = services.deletion_execute(deletion=request_of(user), staff=world.handler)

    assert done.status == DeletionStatus.DONE
    assert not EmploymentContract.objects.exists() and not SignedDocument.objects.exists()
    assert not SignApplication.objects.exists() and not Upload.objects.exists()
    assert not default_storage.exists(document_file)
    assert done.deleted["contracts"] == 1 and done.deleted["documents"] == 1


@pytest.mark.parametrize("status", [SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE])
def test_an_application_in_progress_blocks_execution_and_nothing_changes(world, status):
    user, _, _ = applicant(world, status=status)
    deletion = request_of(user)

    with pytest.raises(Conflict, match="进行中的签约申请"):
        services.deletion_execute(deletion=deletion, staff=world.handler)

    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.PENDING
    assert Employee.objects.count() == 1 and EmployeeEducation.objects.count() == 1
    assert not OutboxMessage.objects.exists()


def test_a_protected_row_turns_the_run_into_a_409_and_nothing_is_half_deleted(world, monkeypatch):
    from django.db.models import ProtectedError

    user, _, _ = applicant(world)
    deletion = request_of(user)
    original = services._Erasure.uploads

    def protected(self, uploads):
        original(self, uploads)
        raise ProtectedError("referenced", set())

    monkeypatch.setattr(services._Erasure, "uploads", protected)

    with pytest.raises(Conflict, match="未作任何修改"):
        services.deletion_execute(deletion=deletion, staff=world.handler)

    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.PENDING
    assert SignApplication.objects.count() == 1 and Employee.objects.count() == 1 and Upload.objects.count() == 3


def test_refusal_keeps_everything_and_tells_the_reason(world):
    user, _, _ = applicant(world)
    deletion = request_of(user)

    refused = services.deletion_refuse(deletion=deletion, staff=world.handler, reason="劳动争议仲裁中")

    assert refused.status == DeletionStatus.REFUSED and refused.refusal_reason == "劳动争议仲裁中"
    assert Employee.objects.count() == 1
    assert deliver_all() == ["delivered"]
    assert sent_sms()[-1]["phone"] == PHONE and "劳动争议仲裁中" in sent_sms()[-1]["text"]


@pytest.mark.parametrize("reason", ["", "  ", "有\u202e控制符", "长" * 257, ["x"]])
def test_a_bad_refusal_reason_is_refused_and_changes_nothing(world, reason):
    user, _, _ = applicant(world)
    deletion = request_of(user)

    with pytest.raises(InvalidInput):
        services.deletion_refuse(deletion=deletion, staff=world.handler, reason=reason)

    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.PENDING and not OutboxMessage.objects.exists()


@pytest.mark.parametrize("first", ["execute", "refuse"])
def test_a_decided_request_cannot_be_decided_again(world, first):
    user, _, _ = applicant(world)
    deletion = request_of(user)
    if first == "execute":
        services.deletion_execute(deletion=deletion, staff=world.handler)
    else:
        services.deletion_refuse(deletion=deletion, staff=world.handler, reason="不符合条件")

    with pytest.raises(Conflict, match="已处理"):
        services.deletion_refuse(deletion=deletion, staff=world.handler, reason="再次")


def test_a_handler_cannot_act_on_someone_elses_person(world):
    user, _, _ = applicant(world)
    deletion = request_of(user)

    with pytest.raises(NotFound):
        services.deletion_execute(deletion=deletion, staff=world.handler2)

    assert Employee.objects.count() == 1


def test_nothing_personal_is_logged(world, caplog):
    import logging

    user, employee, _ = applicant(world)
    with caplog.at_level(logging.DEBUG):
        services.deletion_execute(deletion=request_of(user, "原因"), staff=world.handler)
        deliver_all()

    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "deletion request" in logged
    for value in (employee.real_name, employee.phone, employee.id_number, "孙父", "13900001111"):
        assert value not in logged


# --- the back office --------------------------------------------------------------------------------------


def test_handlers_see_the_requests_of_their_people_only(world):
    mine, _, _ = applicant(world)
    other_user, _, _ = applicant(world, phone="13700007777", name="周其他")
    SignApplication.objects.filter(em__user=other_user).update(ad_user=world.handler2)
    request_of(mine)
    theirs = request_of(other_user)

    page = client_for(world.handler).get(ADMIN)

    assert page.status_code == 200
    text = page.content.decode()
    assert "孙小美" in text and "周其他" not in text
    assert "138****3333" in text and PHONE not in text
    assert client_for(world.handler).get(f"{ADMIN}{theirs.pk}/change/").status_code == 302  # 不存在


@pytest.mark.parametrize("rows", [3, 15])
def test_the_list_is_a_fixed_number_of_queries(world, rows, django_assert_max_num_queries):
    for i in range(rows):
        user, _, _ = applicant(world, phone=f"1370000{i:04d}", name=f"申请人{i}")
        request_of(user)
    client = client_for(world.handler)
    client.get(ADMIN)

    # session, user, permissions, the scoped count and the page (people joined, the handled-users
    # subquery inside): 7 measured, at 3 rows and at 15
    with django_assert_max_num_queries(7):
        page = client.get(ADMIN)

    assert page.content.decode().count("sq-deletion-pending") == rows


def test_execute_from_the_request_page(world):
    user, _, _ = applicant(world)
    deletion = request_of(user)
    client = client_for(world.handler)
    assert f"{ADMIN}{deletion.pk}/review/execute/" in client.get(f"{ADMIN}{deletion.pk}/change/").content.decode()

    response = client.post(f"{ADMIN}{deletion.pk}/review/execute/", {}, follow=True)

    assert any("已执行删除" in m for m in messages_of(response, "success"))
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.DONE and not Employee.objects.exists()


def test_refuse_in_bulk_with_a_reason_and_a_bad_reason_is_a_form_error(world):
    first, _, _ = applicant(world)
    second, _, _ = applicant(world, phone="13700009999", name="吴第二")
    ids = [request_of(first).pk, request_of(second).pk]
    client = client_for(world.handler)

    bad = action_post(client, "refuse_selected", ids, url=ADMIN, confirm=True, reason="原因\u202e")
    assert bad.status_code == 200 and "拒绝原因包含无效字符" in bad.content.decode()
    assert DeletionRequest.objects.filter(status=DeletionStatus.PENDING).count() == 2

    response = action_post(client, "refuse_selected", ids, url=ADMIN, confirm=True, reason="在职员工，请走离职流程")

    assert response.status_code == 302
    assert set(DeletionRequest.objects.values_list("status", flat=True)) == {DeletionStatus.REFUSED}
    assert OutboxMessage.objects.count() == 2


def test_a_blocked_execution_in_the_admin_is_a_message_and_changes_nothing(world):
    user, _, _ = applicant(world, status=SignStatus.APPLIED)
    deletion = request_of(user)

    response = client_for(world.handler).post(f"{ADMIN}{deletion.pk}/review/execute/", {}, follow=True)

    assert any("进行中的签约申请" in m for m in messages_of(response, "error"))
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.PENDING


@pytest.mark.parametrize("rows", [3, 12])
def test_the_bulk_confirmation_page_is_a_fixed_number_of_queries(world, rows, django_assert_max_num_queries):
    ids = []
    for i in range(rows):
        user, _, _ = applicant(world, phone=f"1360000{i:04d}", name=f"确认{i}")
        ids.append(request_of(user).pk)
    client = client_for(world.handler)
    client.get(ADMIN)

    # session, user, permissions, the selected rows with their people (one join, the scope subquery
    # inside): 7 measured, at 3 rows and at 12
    with django_assert_max_num_queries(7):
        page = action_post(client, "refuse_selected", ids, url=ADMIN)

    assert page.status_code == 200
    assert page.content.decode().count("136****") == rows
