"""
Retention (SPEC §13): the daily purge deletes the resume, uploads and real-name data of applicants
whose applications all ended 已驳回/已取消 more than APPLICANT_RETENTION_DAYS ago and who have no
contract, keeps their application rows de-identified for the statistics, and deletes what a
deletion request kept once its ``retained_until`` has come. Time travel to both sides of each boundary.
"""

import datetime
import json
import zoneinfo

import pytest
import time_machine
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import call_command
from django.db import models

from employees.models import (
    Consent,
    Employee,
    EmployeeEducation,
    RealnameVerification,
    Upload,
    VerifyStatus,
    WechatUser,
    WorkExperience,
)
from employees.retention import ANONYMOUS_NAME, ANONYMOUS_OPENID
from shanqian.models import OutboxMessage
from signing import tasks
from signing.ledger.models import ContractStatus
from signing.ledger.selectors import application_funnel
from signing.models import SignApplication, SignEvent, SignStatus
from signing.privacy import retention, services
from signing.privacy.models import DeletionStatus
from signing.privacy.retention import applicant_purge, retained_purge
from tests.envelope import assert_ok
from tests.factories import (
    CLIENT,
    EmploymentContractFactory,
    PlatformFactory,
    SignApplicationFactory,
    SignedDocumentFactory,
    UploadFactory,
    logged_in_client,
    make_person,
    resume_payload,
)

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ENDED_AT = datetime.datetime(2027, 1, 10, 9, 0, tzinfo=SHANGHAI)


def at(moment):
    if isinstance(moment, datetime.date) and not isinstance(moment, datetime.datetime):
        moment = datetime.datetime.combine(moment, datetime.time(9), tzinfo=SHANGHAI)
    return time_machine.travel(moment, tick=False)


def days_after_end(days):
    return at(ENDED_AT + datetime.timedelta(days=days))


def rejected_applicant(world, *, n=0, status=SignStatus.REJECTED, platform=None):
    """A full resume (photos, education, job, emergency contact, verification) and an application that ended."""
    with at(ENDED_AT):
        name, phone = f"钱小{n}", f"137{n:08d}"
        user, employee = make_person(world, name=name, phone=phone, contact=(f"钱父{n}", f"139{n:08d}"))
        if platform is not None:
            WechatUser.objects.filter(pk=user.pk).update(platform=platform)
        UploadFactory(owner=user)
        WechatUser.objects.filter(pk=user.pk).update(verify_status=VerifyStatus.VERIFIED, verify_reason="")
        application = SignApplicationFactory(
            em=employee,
            company=world.company,
            ad_user=world.handler,
            status=status,
            reason=f"{name}的身份证照片模糊，电话{phone}",
            contract_document=ContentFile(b"%PDF-1.4 personalised", name="contract.pdf"),
            contract_document_sha256="a" * 64,
        )
        SignEvent.objects.create(
            application=application,
            to_status=status,
            actor_user=user,
            ip="198.51.100.9",
            user_agent="MiniProgram",
            city="北京",
            note=f"{name}自己取消",
            data={"phone": phone},
        )
        OutboxMessage.objects.create(
            channel="sms",
            summary=f"签约申请 #{application.pk}：驳回（短信）",
            ref=f"signing.signapplication:{application.pk}",
            payload={"phone": phone, "name": name},
            state=OutboxMessage.State.DELIVERED,
            max_attempts=3,
        )
    return user, employee, application


def files_of(user, application):
    return [*Upload.objects.filter(owner=user).values_list("file", flat=True), application.contract_document.name]


# --- the boundary -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "purged"),
    [
        (datetime.timedelta(0), False),
        (datetime.timedelta(days=179), False),
        (datetime.timedelta(days=179, hours=14, minutes=59), False),  # 23:59 on day 179
        (datetime.timedelta(days=179, hours=18, minutes=30), True),  # 03:30 on day 180, the daily run
        (datetime.timedelta(days=181), True),
        (datetime.timedelta(days=400), True),
    ],
)
def test_the_purge_boundary(world, moment, purged):
    """Ended at 09:00 on day 0: kept through day 179, gone in day 180's run (the rules say "180 天内")."""
    user, employee, application = rejected_applicant(world)

    with at(ENDED_AT + moment):
        counts = applicant_purge()

    assert Employee.objects.filter(pk=employee.pk).exists() is not purged
    assert Upload.objects.filter(owner=user).exists() is not purged
    assert RealnameVerification.objects.filter(user=user).exists() is not purged
    assert counts.get("resume", 0) == (1 if purged else 0)
    # The application row itself is never deleted.
    assert SignApplication.objects.filter(pk=application.pk).exists()


def test_the_days_follow_the_setting(world, settings):
    settings.APPLICANT_RETENTION_DAYS = 30
    _, employee, _ = rejected_applicant(world)

    with days_after_end(29):
        applicant_purge()
    assert Employee.objects.filter(pk=employee.pk).exists()
    with days_after_end(31):
        applicant_purge()
    assert not Employee.objects.filter(pk=employee.pk).exists()


def test_the_last_ending_counts(world):
    _, employee, _ = rejected_applicant(world)
    with days_after_end(100):
        SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, status=SignStatus.CANCELLED)

    with days_after_end(181):
        applicant_purge()
    assert Employee.objects.filter(pk=employee.pk).exists()
    with days_after_end(281):
        applicant_purge()
    assert not Employee.objects.filter(pk=employee.pk).exists()


# --- what goes, what stays --------------------------------------------------------------------------------


def test_the_resume_uploads_files_and_verification_go(world, django_capture_on_commit_callbacks):
    user, employee, application = rejected_applicant(world, status=SignStatus.CANCELLED)
    files = files_of(user, application)
    assert len(files) == 4 and all(default_storage.exists(name) for name in files)

    with days_after_end(181), django_capture_on_commit_callbacks(execute=True):
        counts = applicant_purge()

    assert counts == {
        "applications": 1,
        "verifications": 1,
        "educations": 1,
        "works": 1,
        "resume": 1,
        "uploads": 3,
        "files": 4,
    }
    assert not any(default_storage.exists(name) for name in files)
    assert not EmployeeEducation.objects.filter(employee_id=employee.pk).exists()
    assert not WorkExperience.objects.filter(employee_id=employee.pk).exists()
    user.refresh_from_db()
    assert user.verify_status == VerifyStatus.PENDING
    # The account and its consents stay: the person may log in and apply again.
    assert Consent.objects.filter(user=user).exists()


def test_the_application_rows_keep_the_statistics_and_nothing_personal(world, superuser):
    user, employee, application = rejected_applicant(world)
    before = SignApplication.objects.values("company_id", "ad_user_id", "status", "apply_time", "work_pos").get(
        pk=application.pk
    )
    personal = [employee.real_name, employee.phone, employee.id_number, employee.em_contact_phone, user.openid]

    with days_after_end(181):
        applicant_purge()

    row = SignApplication.objects.select_related("em__user").get(pk=application.pk)
    assert {key: getattr(row, key) for key in before} == before
    assert row.em.real_name == ANONYMOUS_NAME and row.em.user.openid == ANONYMOUS_OPENID
    assert row.em.user.platform_id == user.platform_id
    assert (row.reason, row.contract_document.name, row.contract_document_sha256) == ("", "", "")
    event = SignEvent.objects.get(application=application)
    assert (event.to_status, event.actor_user_id, event.ip, event.city, event.note, event.data) == (
        SignStatus.REJECTED,
        None,
        None,
        "",
        "",
        {},
    )
    assert OutboxMessage.objects.get(ref=f"signing.signapplication:{application.pk}").payload == {}
    # Every text column of the rows kept holds none of the person's values.
    for model, rows in (
        (SignApplication, SignApplication.objects.filter(pk=application.pk)),
        (SignEvent, SignEvent.objects.filter(application=application)),
        (Employee, Employee.objects.filter(pk=row.em_id)),
        (OutboxMessage, OutboxMessage.objects.all()),
    ):
        columns = [
            f.attname
            for f in model._meta.concrete_fields
            if isinstance(f, (models.CharField, models.TextField, models.JSONField, models.FileField))
        ]
        for values in rows.values_list(*columns):
            text = " ".join(str(v) for v in values)
            assert not [value for value in personal if value and value in text], (model, text)
    # The start page's figures for that day still count it.
    funnel = application_funnel(staff=superuser, today=ENDED_AT.date())
    assert (funnel["applied"], funnel["rejected"]) == (1, 1)


def test_each_platform_has_its_own_anonymous_applicant(world):
    other = PlatformFactory(code="other", name="另一平台")
    _, _, here = rejected_applicant(world, n=1)
    _, _, there = rejected_applicant(world, n=2, platform=other)

    with days_after_end(181):
        applicant_purge()

    here.refresh_from_db()
    there.refresh_from_db()
    assert here.em_id != there.em_id
    assert there.em.user.platform == other
    assert Employee.objects.count() == 2  # the two anonymous applicants only


def test_a_second_run_finds_nothing(world, django_capture_on_commit_callbacks):
    rejected_applicant(world)
    with days_after_end(181), django_capture_on_commit_callbacks(execute=True):
        first = applicant_purge()
        rows = list(SignApplication.objects.values_list("pk", "em_id", "status", "reason"))
        second = applicant_purge()

    assert first["resume"] == 1
    assert second == {}
    assert list(SignApplication.objects.values_list("pk", "em_id", "status", "reason")) == rows


# --- what keeps a person --------------------------------------------------------------------------------


def _signed(world, employee, **contract):
    application = SignApplicationFactory(
        em=employee, company=world.company, ad_user=world.handler, status=SignStatus.SIGNED
    )
    document = SignedDocumentFactory(application=application, signature=UploadFactory(owner=employee.user))
    if contract is not None:
        EmploymentContractFactory(application=application, document=document, **contract)


@pytest.mark.parametrize(
    "hold",
    [
        "contract in force",
        "contract ended long ago",
        "signed document only",
        "application in progress",
        "deletion pending",
    ],
)
def test_a_person_with_a_contract_or_a_hold_is_never_purged(world, hold):
    user, employee, _ = rejected_applicant(world)
    with at(ENDED_AT):
        if hold == "contract in force":
            _signed(world, employee)
        elif hold == "contract ended long ago":
            _signed(
                world,
                employee,
                status=ContractStatus.TERMINATED,
                start_date=datetime.date(2020, 1, 1),
                end_date=datetime.date(2021, 1, 1),
                ended_on=datetime.date(2021, 1, 1),
            )
        elif hold == "signed document only":
            application = SignApplicationFactory(
                em=employee, company=world.company, ad_user=world.handler, status=SignStatus.CANCELLED
            )
            SignedDocumentFactory(application=application)
        elif hold == "application in progress":
            SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, status=SignStatus.APPLIED)
        else:
            services.deletion_request_create(user=user, client=CLIENT)

    with days_after_end(5000):
        counts = applicant_purge()

    assert counts == {}
    assert Employee.objects.filter(pk=employee.pk).exists()
    assert Upload.objects.filter(owner=user).count() >= 3


# --- batches and queries --------------------------------------------------------------------------------


LISTING = 1  # the next batch's ids
BATCH = 25  # one batch, in its transaction (its savepoint included)


def _many(world, n):
    for i in range(n):
        rejected_applicant(world, n=100 + i)


@pytest.fixture
def anonymous_exists(world):
    """The platform's anonymous applicant, as after the first run ever."""
    rejected_applicant(world, n=1)
    with days_after_end(181):
        applicant_purge()


# 40 people with 2 uploads besides the photos, a verification, an education, a job, an application
# with its event and sent notice each: a loop over any of them would show as dozens of queries.
@pytest.mark.parametrize("people", [4, 40])
def test_a_batch_is_a_fixed_number_of_queries(world, anonymous_exists, people, django_assert_max_num_queries):
    _many(world, people)

    with days_after_end(181), django_assert_max_num_queries(LISTING + BATCH + LISTING):
        counts = applicant_purge(batch_size=100)

    assert counts["resume"] == people and counts["uploads"] == 3 * people and counts["applications"] == people


def test_queries_grow_with_batches_not_with_rows(world, anonymous_exists, django_assert_max_num_queries):
    _many(world, 40)

    with days_after_end(181), django_assert_max_num_queries(4 * (LISTING + BATCH) + LISTING):
        counts = applicant_purge(batch_size=10)

    assert counts["resume"] == 40


def test_a_batch_that_meets_a_new_application_is_rolled_back_whole(world, monkeypatch):
    people = [rejected_applicant(world, n=i) for i in range(3)]
    original = retention.anonymous_employee_ids

    def apply_meanwhile(platform_ids):
        # After the batch's re-read under lock, before its writes: the first person applies again.
        SignApplicationFactory(em=people[0][1], company=world.company, ad_user=world.handler)
        return original(platform_ids)

    monkeypatch.setattr(retention, "anonymous_employee_ids", apply_meanwhile)
    with days_after_end(181):
        counts = applicant_purge()

    assert counts == {"skipped": 3}
    assert Employee.objects.filter(pk__in=[employee.pk for _, employee, _ in people]).count() == 3
    assert Upload.objects.count() == 9 and RealnameVerification.objects.count() == 3
    assert all(SignApplication.objects.get(pk=a.pk).em_id == e.pk for _, e, a in people)
    monkeypatch.undo()
    with days_after_end(181):
        # The next run decides afresh (here the simulated application went with the rolled-back batch).
        assert applicant_purge()["resume"] == 3


# --- the periodic task and the command -------------------------------------------------------------------


def test_the_task_runs_eagerly_through_celery(world, settings, django_capture_on_commit_callbacks):
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired"]["task"] == tasks.purge_expired.name
    user, employee, application = rejected_applicant(world)
    files = files_of(user, application)

    with days_after_end(181), django_capture_on_commit_callbacks(execute=True):
        result = tasks.purge_expired.delay()

    assert result.successful()
    assert result.result["applicants"]["resume"] == 1
    assert not Employee.objects.filter(pk=employee.pk).exists()
    assert not any(default_storage.exists(name) for name in files)


def test_the_log_line_counts_without_personal_data(world, caplog):
    user, employee, _ = rejected_applicant(world)

    with days_after_end(181), caplog.at_level("INFO", logger="signing.privacy"):
        applicant_purge()

    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("applicant purge"))
    assert "resume 1" in line and "uploads 3" in line
    for value in (employee.real_name, employee.phone, employee.id_number, user.openid):
        assert value not in caplog.text


def test_the_command_reports_the_counts(world, capsys):
    rejected_applicant(world)

    with days_after_end(181):
        call_command("purge_expired")

    out = capsys.readouterr().out
    assert "删除简历 1 份、上传图片 3 张、实名认证记录 1 条" in out and "签约申请 1 条已去标识化保留" in out


# --- data a deletion request kept ------------------------------------------------------------------------

RETAINED_ENDED = datetime.date(2027, 3, 15)
RETAINED_UNTIL = datetime.date(2029, 3, 15)  # CONTRACT_RETENTION_YEARS = 2


@pytest.fixture
def partial(world):
    """A deletion executed while an ended contract was still retained: 已删除（依法保留部分）."""
    user, employee = make_person(world, name="赵保留", phone="13655556666")
    with at(RETAINED_ENDED + datetime.timedelta(days=10)):
        _signed(
            world,
            employee,
            status=ContractStatus.TERMINATED,
            start_date=datetime.date(2025, 3, 16),
            end_date=datetime.date(2028, 3, 15),
            ended_on=RETAINED_ENDED,
        )
        deletion = services.deletion_execute(
            deletion=services.deletion_request_create(user=user, client=CLIENT), staff=world.handler
        )
    assert deletion.status == DeletionStatus.PARTIAL and deletion.retained_until == RETAINED_UNTIL
    return user, employee, deletion


@pytest.mark.parametrize(
    ("day", "purged"),
    [
        (RETAINED_UNTIL - datetime.timedelta(days=1), False),
        (RETAINED_UNTIL, True),
        (RETAINED_UNTIL + datetime.timedelta(days=1), True),
    ],
)
def test_kept_data_goes_when_retained_until_comes(partial, day, purged, django_capture_on_commit_callbacks):
    user, employee, deletion = partial
    files = list(Upload.objects.filter(owner=user).values_list("file", flat=True))
    assert files and all(default_storage.exists(name) for name in files)

    with at(day), django_capture_on_commit_callbacks(execute=True):
        counts = retained_purge()

    deletion.refresh_from_db()
    assert WechatUser.objects.filter(pk=user.pk).exists() is not purged
    assert Employee.objects.filter(pk=employee.pk).exists() is not purged
    assert any(default_storage.exists(name) for name in files) is not purged
    assert counts["requests"] == (1 if purged else 0)
    if purged:
        assert deletion.status == DeletionStatus.DONE and deletion.user is None
        assert deletion.retained_deleted_at is not None
        assert deletion.deleted["contracts"] == 1 and deletion.deleted["resume"] == 1
        assert f"保留期满，{day:%Y-%m-%d} 已删除依法保留的数据：" in deletion.outcome
        assert "劳动合同 1 份" in deletion.outcome.split("保留期满")[1]
        for value in (employee.real_name, employee.phone, employee.id_number):
            assert value not in deletion.outcome
    else:
        assert deletion.status == DeletionStatus.PARTIAL and deletion.retained_deleted_at is None


def test_the_kept_data_purge_is_idempotent(partial):
    _, _, deletion = partial
    with at(RETAINED_UNTIL):
        first = retained_purge()
        deletion.refresh_from_db()
        outcome = deletion.outcome
        second = retained_purge()

    assert first["requests"] == 1 and second == {"requests": 0, "held": 0}
    deletion.refresh_from_db()
    assert deletion.outcome == outcome


def test_a_new_contract_keeps_the_data_past_the_old_date(world, partial):
    _, employee, deletion = partial
    with at(RETAINED_UNTIL - datetime.timedelta(days=30)):
        _signed(world, employee)  # signed again, in force

    with at(RETAINED_UNTIL):
        counts = retained_purge()

    assert counts == {"requests": 0, "held": 1}
    deletion.refresh_from_db()
    assert deletion.status == DeletionStatus.PARTIAL and Employee.objects.filter(pk=employee.pk).exists()


def test_the_admin_shows_when_the_kept_data_went(partial, super_client):
    _, _, deletion = partial
    with at(RETAINED_UNTIL):
        retained_purge()

    page = super_client.get(f"/admin/signing/deletionrequest/{deletion.pk}/change/")

    assert page.status_code == 200
    text = page.content.decode()
    assert "保留数据删除时间" in text and "保留期满" in text


def test_the_applicant_purge_leaves_a_partial_deletion_to_its_date(partial):
    _, employee, _ = partial
    with at(RETAINED_UNTIL - datetime.timedelta(days=1)):
        assert applicant_purge() == {}
    assert Employee.objects.filter(pk=employee.pk).exists()


def test_the_back_office_still_lists_and_counts_purged_applications(world, super_client):
    _, employee, application = rejected_applicant(world)
    with days_after_end(181):
        applicant_purge()

    listing = super_client.get("/admin/signing/signapplication/")
    detail = super_client.get(f"/admin/signing/signapplication/{application.pk}/change/")
    start = super_client.get("/admin/")

    assert listing.status_code == detail.status_code == start.status_code == 200
    assert ANONYMOUS_NAME in listing.content.decode() and ANONYMOUS_NAME in detail.content.decode()
    for page in (listing, detail):
        assert employee.real_name not in page.content.decode() and employee.phone not in page.content.decode()


def test_after_the_purge_the_person_exports_nothing_of_it_and_may_apply_again(world, settings):
    settings.SMS_BACKEND = "file"
    user, employee, _ = rejected_applicant(world)
    with days_after_end(181):
        applicant_purge()
        client = logged_in_client(user)

        export = assert_ok(client.get("/api/me/export"))
        again = client.post("/api/employee", resume_payload(world, user, phone=employee.phone), format="json")

    text = json.dumps(export, ensure_ascii=False)
    assert employee.real_name not in text and employee.id_number not in text
    assert export["applications"] == [] and export["resume"] is None and export["uploads"] == []
    assert_ok(again)
    assert Employee.objects.get(user=user).pk != employee.pk
    assert SignApplication.objects.filter(em__user=user).count() == 1  # the new one; the old stays anonymous


def test_the_kept_data_purge_is_a_fixed_number_of_queries_per_request(world, django_assert_max_num_queries):
    requests = []
    for n in range(3):
        user, employee = make_person(world, name=f"孙保留{n}", phone=f"1360000000{n}")
        with at(RETAINED_ENDED):
            for _ in range(1 + 3 * n):  # more applications and uploads, not more queries
                rejected = SignApplicationFactory(
                    em=employee, company=world.company, ad_user=world.handler, status=SignStatus.REJECTED
                )
                SignEvent.objects.create(application=rejected, to_status=SignStatus.REJECTED, actor_user=user)
                UploadFactory(owner=user)
            _signed(
                world,
                employee,
                status=ContractStatus.TERMINATED,
                start_date=datetime.date(2025, 3, 16),
                end_date=datetime.date(2028, 3, 15),
                ended_on=RETAINED_ENDED,
            )
        with at(RETAINED_ENDED + datetime.timedelta(days=1)):
            requests.append(
                services.deletion_execute(
                    deletion=services.deletion_request_create(user=user, client=CLIENT), staff=world.handler
                )
            )
        # Applications since the deletion, kept with the contract until its date.
        with at(RETAINED_ENDED + datetime.timedelta(days=2)):
            for _ in range(n):
                SignApplicationFactory(
                    em=employee, company=world.company, ad_user=world.handler, status=SignStatus.CANCELLED
                )

    with at(RETAINED_UNTIL), django_assert_max_num_queries(1 + 3 * PER_REQUEST):
        counts = retained_purge()

    assert counts["requests"] == 3 and counts["account"] == 3


# One request's run, whatever it deletes: the same 77 queries for 1, 4 or 7 applications and uploads
# (a full deletion's statements, the admin-log scrubs, the lock and the request's save).
PER_REQUEST = 78
