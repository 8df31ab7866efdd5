"""
Abandoned uploads (SPEC §13, data minimisation): the daily purge deletes an image of
``POST /api/image`` that nothing refers to once ``UPLOAD_UNUSED_RETENTION_DAYS`` calendar days have
passed, row and file; it never deletes one a resume, a real-name check or a signed document refers
to, nor one of an owner whose application is in progress. Time travel to both sides of the boundary.
"""

import datetime
import zoneinfo

import pytest
import time_machine
from django.core.management import call_command

from employees.models import Employee, RealnameVerification, Upload, VerifyStatus
from signing import tasks
from signing.models import SignStatus
from signing.privacy import retention
from signing.privacy.retention import upload_purge
from tests.factories import (
    EmployeeFactory,
    SignApplicationFactory,
    SignedDocumentFactory,
    UploadFactory,
    WechatUserFactory,
)

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
UPLOADED_AT = datetime.datetime(2027, 1, 10, 9, 0, tzinfo=SHANGHAI)
STORAGE = Upload._meta.get_field("file").storage


def at(moment):
    return time_machine.travel(moment, tick=False)


def days_after_upload(days, **more):
    return at(UPLOADED_AT + datetime.timedelta(days=days, **more))


def uploaded(owner=None, n=1):
    with at(UPLOADED_AT):
        return [UploadFactory(**({"owner": owner} if owner else {})) for _ in range(n)]


def gone(upload) -> bool:
    return not Upload.objects.filter(pk=upload.pk).exists()


# --- the boundary -------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("moment", "purged"),
    [
        (datetime.timedelta(0), False),
        (datetime.timedelta(days=6), False),
        (datetime.timedelta(days=6, hours=14, minutes=59), False),  # 23:59 on day 6
        (datetime.timedelta(days=6, hours=18, minutes=30), True),  # 03:30 on day 7, the daily run
        (datetime.timedelta(days=8), True),
        (datetime.timedelta(days=400), True),
    ],
)
def test_the_purge_boundary(moment, purged, django_capture_on_commit_callbacks):
    """Uploaded at 09:00 on day 0: kept through day 6, gone in day 7's run."""
    (upload,) = uploaded()

    with at(UPLOADED_AT + moment), django_capture_on_commit_callbacks(execute=True):
        counts = upload_purge()

    assert gone(upload) is purged
    assert STORAGE.exists(upload.file.name) is not purged
    assert counts == {"uploads": int(purged), "files": int(purged)}


def test_the_days_follow_the_setting(settings):
    settings.UPLOAD_UNUSED_RETENTION_DAYS = 30
    (upload,) = uploaded()

    with days_after_upload(29):
        upload_purge()
    assert not gone(upload)
    with days_after_upload(30):
        upload_purge()
    assert gone(upload)


# --- what is referenced stays ------------------------------------------------------------------------------


def ended_applicant(world, status=SignStatus.REJECTED):
    user = WechatUserFactory()
    employee = EmployeeFactory(user=user)
    application = SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, status=status)
    return user, employee, application


def test_an_upload_only_a_resume_refers_to_stays(world):
    user, employee, _ = ended_applicant(world)
    front, back, loose = uploaded(user, 3)
    Employee.objects.filter(pk=employee.pk).update(id_card_front=front, id_card_back=back)

    with days_after_upload(30):
        counts = upload_purge()

    assert counts["uploads"] == 1 and gone(loose)
    assert not gone(front) and not gone(back)
    assert STORAGE.exists(front.file.name) and STORAGE.exists(back.file.name)


def test_an_upload_only_a_realname_check_refers_to_stays(world):
    # The resume since got new photos; the check keeps the ones it was decided on.
    user, employee, _ = ended_applicant(world)
    front, back, loose = uploaded(user, 3)
    RealnameVerification.objects.create(
        user=user,
        real_name=employee.real_name,
        id_number=employee.id_number,
        id_card_front=front,
        id_card_back=back,
        backend="manual",
        status=VerifyStatus.FAILED,
    )

    with days_after_upload(30):
        upload_purge()

    assert gone(loose) and not gone(front) and not gone(back)
    assert RealnameVerification.objects.get(user=user).id_card_front_id == front.pk


def test_a_signature_only_a_signed_document_refers_to_stays(world):
    user, _, application = ended_applicant(world, status=SignStatus.SIGNED)
    signature, loose = uploaded(user, 2)
    SignedDocumentFactory(application=application, signature=signature)

    with days_after_upload(400):
        upload_purge()

    assert gone(loose) and not gone(signature) and STORAGE.exists(signature.file.name)


@pytest.mark.parametrize("status", [SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE])
def test_the_uploads_of_an_application_in_progress_stay(world, status):
    """The signature of 待签约 is an upload nothing refers to until the moment it is signed."""
    user, _, _ = ended_applicant(world, status=status)
    (pending,) = uploaded(user)
    (abandoned,) = uploaded()

    with days_after_upload(30):
        counts = upload_purge()

    assert counts["uploads"] == 1 and gone(abandoned) and not gone(pending)


def test_every_foreign_key_to_an_upload_is_honoured():
    """A reference added later is kept without touching the purge: it reads Upload's relations."""
    references = {(model._meta.label, name) for model, name in retention._upload_references()}
    assert references == {
        ("employees.Employee", "id_card_front"),
        ("employees.Employee", "id_card_back"),
        ("employees.RealnameVerification", "id_card_front"),
        ("employees.RealnameVerification", "id_card_back"),
        ("signing.SignedDocument", "signature"),
    }


# --- files, idempotence, a race ---------------------------------------------------------------------------


def test_a_file_already_missing_does_not_stop_the_purge(django_capture_on_commit_callbacks):
    missing, present = uploaded(n=2)
    STORAGE.delete(missing.file.name)

    with days_after_upload(7), django_capture_on_commit_callbacks(execute=True):
        counts = upload_purge()

    assert counts["uploads"] == 2 and gone(missing) and gone(present)
    assert not STORAGE.exists(present.file.name)


def test_a_second_run_finds_nothing(django_capture_on_commit_callbacks):
    uploads = uploaded(n=3)

    with days_after_upload(7), django_capture_on_commit_callbacks(execute=True):
        assert upload_purge() == {"uploads": 3, "files": 3}
        assert upload_purge() == {"uploads": 0, "files": 0}

    assert all(gone(u) for u in uploads)


def test_a_resume_that_takes_an_upload_meanwhile_rolls_the_batch_back(world, monkeypatch):
    user, employee, _ = ended_applicant(world)
    taken, other = uploaded(user, 2)
    original = retention._locked_unused_uploads

    def resume_meanwhile(ids, **kwargs):
        # After the batch's re-read under lock, before its delete: the resume is saved with the photo.
        rows = original(ids, **kwargs)
        Employee.objects.filter(pk=employee.pk).update(id_card_front=taken)
        return rows

    monkeypatch.setattr(retention, "_locked_unused_uploads", resume_meanwhile)
    with days_after_upload(7):
        counts = upload_purge()

    assert counts == {"uploads": 0, "files": 0, "skipped": 2}
    assert not gone(taken) and not gone(other)
    monkeypatch.undo()
    Employee.objects.filter(pk=employee.pk).update(id_card_front=taken)  # the resume as it was saved
    with days_after_upload(7):
        assert upload_purge()["uploads"] == 1
    assert gone(other) and Employee.objects.get(pk=employee.pk).id_card_front_id == taken.pk


# --- queries ------------------------------------------------------------------------------------------------

LISTING = 1  # the candidates of the next batch
BATCH = 8  # savepoint, re-read under lock, delete, 3 reference checks (one per model), in-progress check, release


def _many(world, n):
    # Half of them beside a referenced resume photo of the same owner: the references are read, not looped.
    for i in range(n):
        user = WechatUserFactory()
        if i % 2:
            front, _ = uploaded(user, 2)
            EmployeeFactory(user=user, id_card_front=front)
        else:
            uploaded(user)


@pytest.mark.parametrize("n", [4, 40])
def test_a_batch_is_a_fixed_number_of_queries(world, n, django_assert_max_num_queries):
    _many(world, n)

    with days_after_upload(7), django_assert_max_num_queries(LISTING + BATCH + LISTING):
        counts = upload_purge(batch_size=100)

    assert counts["uploads"] == n and Upload.objects.count() == n // 2


def test_queries_grow_with_batches_not_with_rows(world, django_assert_max_num_queries):
    _many(world, 40)

    with days_after_upload(7), django_assert_max_num_queries(4 * (LISTING + BATCH) + LISTING):
        counts = upload_purge(batch_size=10)

    assert counts["uploads"] == 40


# --- the periodic task, the log line, the command ------------------------------------------------------------


def test_the_task_runs_eagerly_through_celery(settings, django_capture_on_commit_callbacks):
    assert settings.CELERY_BEAT_SCHEDULE["purge-expired"]["task"] == tasks.purge_expired.name
    (upload,) = uploaded()

    with days_after_upload(7), django_capture_on_commit_callbacks(execute=True):
        result = tasks.purge_expired.delay()

    assert result.successful()
    assert result.result["uploads"] == {"uploads": 1, "files": 1}
    assert gone(upload) and not STORAGE.exists(upload.file.name)


def test_the_log_line_counts_without_personal_data(caplog):
    (upload,) = uploaded()

    with days_after_upload(7), caplog.at_level("INFO", logger="signing.privacy"):
        upload_purge()

    line = next(r.getMessage() for r in caplog.records if r.getMessage().startswith("upload purge"))
    assert line == "upload purge (7 days): uploads 1, files 1"
    for value in (upload.file.name, upload.sha256, upload.owner.openid):
        assert value not in caplog.text


def test_the_command_reports_the_count(capsys):
    uploaded(n=2)

    with days_after_upload(7):
        call_command("purge_expired")

    assert "未被引用的上传图片（超过 7 天）：删除 2 张。" in capsys.readouterr().out
