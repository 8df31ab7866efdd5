"""
Retention (SPEC §13): what the periodic purge deletes once nothing justifies keeping it. All three
functions are idempotent — a second run finds nothing — and log counts only.

* ``applicant_purge(*, now=None, batch_size=None) -> dict[str, int]`` — applicants whose
  applications all ended 已驳回/已取消, the last of them (its ``updated_at``) on a day at least
  ``APPLICANT_RETENTION_DAYS`` days before today, and who have no contract: no signed application, no signed
  document, no ledger record, nothing ``employees.retention.exclude_retained`` keeps, no deletion
  request pending or held (已删除（依法保留部分）). Their resume (education, work history, emergency
  contact), every upload (the files too, after commit, on whichever storage holds them: ID photos
  are encrypted), real-name checks and the account's real-name status go, with the personalised
  contract files and certificates of their applications. The application rows stay for the
  statistics, de-identified: they point at the platform's anonymous applicant
  (``employees.retention.anonymous_employee_ids``) and keep company, handler, position, terms,
  status and dates; the rejection reason and the contract file's digests are emptied, and their
  events keep kind, status move, staff actor and time only (no IP, user agent, place, note,
  details or WeChat actor). The WeChat account and its consents stay (the person may apply again).
  Batches of ``batch_size`` people (``APPLICANT_PURGE_BATCH``), each one transaction with a fixed
  number of queries, so memory and queries do not grow with the table.
* ``retained_purge(*, today=None) -> dict[str, int]`` — deletion requests decided 已删除（依法保留部分）
  whose ``retained_until`` has come: what the law kept goes as a full deletion would
  (``services._erase_everything``), the request turns 已删除 with ``retained_deleted_at`` and the
  counts added to its outcome. A person who meanwhile has a contract the law keeps, or an
  application in progress, is left for a later run. One transaction per request.
* ``upload_purge(*, now=None, batch_size=None) -> dict[str, int]`` — abandoned uploads: images of
  ``POST /api/image`` uploaded on a day at least ``UPLOAD_UNUSED_RETENTION_DAYS`` days before today
  that nothing refers to (``unused_uploads``: no foreign key of any model — the resume's ID photos,
  a real-name check's photos, a signed document's signature, and any reference added later — and
  no application of the owner in progress, whose signature may come at any moment). Row and file
  (after commit) go. Batches of ``batch_size`` uploads (``UPLOAD_PURGE_BATCH``), each one
  transaction with a fixed number of queries: the candidates are re-read under lock and, after the
  delete, checked for a reference written meanwhile (the batch then rolls back whole, as does a
  foreign key the database refuses to break).
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, ProtectedError, Q, Value, When
from django.utils import timezone

from employees.models import (
    Employee,
    EmployeeEducation,
    RealnameVerification,
    SmsCode,
    Upload,
    VerifyStatus,
    WechatUser,
    WorkExperience,
)
from employees.retention import anonymous_employee_ids, exclude_retained, without_anonymous
from shanqian.models import OutboxMessage

from ..ledger.models import EmploymentContract
from ..ledger.selectors import retained_contracts
from ..models import SignApplication, SignedDocument, SignEvent, SignStatus
from ..pki.models import PkiCertificate
from .models import DeletionRequest, DeletionStatus
from .services import (
    IN_PROGRESS_STATUSES,
    _erase_everything,
    _Erasure,
    _in_progress,
    _scrub_admin_log,
    counts_text,
)

logger = logging.getLogger("signing.privacy")

ENDED = (SignStatus.REJECTED, SignStatus.CANCELLED)
HELD = (DeletionStatus.PENDING, DeletionStatus.PARTIAL)


# --- applicants ---------------------------------------------------------------------------------------------


class _Changed(Exception):
    """A batch met a change since it was read; it is rolled back whole."""


def _first_kept_instant(now: datetime.datetime | None, *, days: int) -> datetime.datetime:
    """The start (local time) of the earliest calendar day still kept when ``days`` are kept."""
    first_kept_day = timezone.localdate(now or timezone.now()) - datetime.timedelta(days=days - 1)
    return timezone.make_aware(datetime.datetime.combine(first_kept_day, datetime.time.min))


def _in_batches(candidates, purge, *, batch_size: int, what: str) -> dict[str, int]:
    """``purge(ids)`` over ``candidates`` by primary key, ``batch_size`` at a time, the counts added up.
    A batch that meets a change (``_Changed``, or a foreign key the database refuses to break) is
    rolled back whole and counted as ``skipped``."""
    totals: dict[str, int] = {}
    after = 0
    skipped = 0
    while True:
        ids = list(candidates.filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size])
        if not ids:
            break
        after = ids[-1]
        try:
            counts = purge(ids)
        except (_Changed, ProtectedError, IntegrityError) as exc:
            logger.warning("%s: a batch of %s was rolled back (%s)", what, len(ids), type(exc).__name__)
            skipped += len(ids)
            continue
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
    if skipped:
        totals["skipped"] = skipped
    return totals


def purgeable_applicants(*, now: datetime.datetime | None = None):
    """The employees ``applicant_purge`` deletes at ``now`` (a queryset; nothing is locked)."""
    # By calendar day (Asia/Shanghai): an application that ended on day 0 goes in the run of day N,
    # whatever the hour, so the privacy rules' "结束后 N 天内删除" holds with a daily run.
    cutoff = _first_kept_instant(now, days=settings.APPLICANT_RETENTION_DAYS)
    applications = SignApplication.objects.filter(em=OuterRef("pk"))
    people = (
        without_anonymous(Employee.objects.all())
        .filter(Exists(applications))
        .exclude(Exists(applications.exclude(status__in=ENDED)))
        .exclude(Exists(applications.filter(updated_at__gte=cutoff)))
        .exclude(Exists(SignedDocument.objects.filter(application__em=OuterRef("pk"))))
        .exclude(Exists(EmploymentContract.objects.filter(employee=OuterRef("pk"))))
        .exclude(Exists(DeletionRequest.objects.filter(user=OuterRef("user_id"), status__in=HELD)))
    )
    return exclude_retained(people)


def applicant_purge(*, now: datetime.datetime | None = None, batch_size: int | None = None) -> dict[str, int]:
    now = now or timezone.now()
    # Someone applied again while a batch ran: it is rolled back whole, the next run decides.
    totals = _in_batches(
        purgeable_applicants(now=now),
        lambda ids: _purge_batch(ids, now=now),
        batch_size=batch_size or settings.APPLICANT_PURGE_BATCH,
        what="applicant purge",
    )
    logger.info(
        "applicant purge (%s days): %s",
        settings.APPLICANT_RETENTION_DAYS,
        ", ".join(f"{key} {n}" for key, n in totals.items()) or "nothing to delete",
    )
    return totals


def _purge_batch(ids: list[int], *, now: datetime.datetime) -> dict[str, int]:
    erasure = _Erasure()
    with transaction.atomic():
        # Re-read under lock: what was purgeable when listed may not be any more.
        people = list(
            purgeable_applicants(now=now)
            .filter(pk__in=ids)
            .select_for_update()
            .values("pk", "user_id", "user__platform_id", "phone")
        )
        if not people:
            return {}
        employee_ids = [p["pk"] for p in people]
        user_ids = [p["user_id"] for p in people]
        anonymous = anonymous_employee_ids({p["user__platform_id"] for p in people})

        applications = list(
            SignApplication.objects.filter(em_id__in=employee_ids, status__in=ENDED).values_list(
                "pk", "contract_document"
            )
        )
        application_ids = [pk for pk, _ in applications]
        document_storage = SignApplication._meta.get_field("contract_document").storage
        erasure.files += [(document_storage, name) for _, name in applications if name]
        erasure.count("certificates", PkiCertificate.objects.filter(application_id__in=application_ids).delete()[0])
        SignEvent.objects.filter(application_id__in=application_ids).update(
            actor_user=None, ip=None, user_agent="", lng=None, lat=None, city="", note="", data={}
        )
        by_platform: dict[int, list[int]] = {}
        for person in people:
            by_platform.setdefault(person["user__platform_id"], []).append(person["pk"])
        erasure.count(
            "applications",
            SignApplication.objects.filter(pk__in=application_ids).update(
                em_id=Case(
                    *(When(em_id__in=ems, then=Value(anonymous[platform])) for platform, ems in by_platform.items()),
                    default=F("em_id"),
                    output_field=SignApplication._meta.get_field("em").target_field,
                ),
                reason="",
                contract_document="",
                contract_document_sha256="",
                contract_document_inputs="",
            ),
        )
        if SignApplication.objects.filter(em_id__in=employee_ids).exists():
            raise _Changed  # an application sent since the re-read: it keeps its person
        _scrub_admin_log(SignApplication, application_ids)
        # Sent notices keep that they were sent, not to whom (their parameters name the person).
        OutboxMessage.objects.filter(ref__in=[f"signing.signapplication:{pk}" for pk in application_ids]).exclude(
            state=OutboxMessage.State.PENDING
        ).update(payload={})

        verification_ids = list(RealnameVerification.objects.filter(user_id__in=user_ids).values_list("pk", flat=True))
        erasure.count("verifications", RealnameVerification.objects.filter(pk__in=verification_ids).delete()[0])
        _scrub_admin_log(RealnameVerification, verification_ids)
        WechatUser.objects.filter(pk__in=user_ids).update(verify_status=VerifyStatus.PENDING, verify_reason="")
        erasure.count("educations", EmployeeEducation.objects.filter(employee_id__in=employee_ids).delete()[0])
        erasure.count("works", WorkExperience.objects.filter(employee_id__in=employee_ids).delete()[0])
        erasure.count(
            "sms_codes", SmsCode.objects.filter(phone__in=[p["phone"] for p in people if p["phone"]]).delete()[0]
        )
        _scrub_admin_log(Employee, employee_ids)
        # Raw deletes: what Django's collector would look for is gone or excluded by now, and it
        # would load every row and delete in chunks of 100. The database's foreign keys still
        # refuse a row something refers to (an application sent meanwhile): the batch rolls back.
        erasure.count("resume", _raw_delete(Employee.objects.filter(pk__in=employee_ids)))

        uploads = list(Upload.objects.filter(owner_id__in=user_ids).values_list("pk", "file"))
        upload_storage = Upload._meta.get_field("file").storage
        erasure.files += [(upload_storage, name) for _, name in uploads if name]
        erasure.count("uploads", _raw_delete(Upload.objects.filter(pk__in=[pk for pk, _ in uploads])))
        erasure.count("files", len(erasure.files))
        erasure.delete_files_on_commit()
    return erasure.counts


def _raw_delete(queryset) -> int:
    return queryset._raw_delete(queryset.db)


# --- abandoned uploads ---------------------------------------------------------------------------------------


def _upload_references() -> list[tuple[type, str]]:
    """(model, field name) of every foreign key to ``Upload``, hidden ones (``related_name="+"``) included."""
    return [
        (relation.related_model, relation.field.name)
        for relation in Upload._meta.get_fields(include_hidden=True)
        if relation.is_relation and relation.auto_created and not relation.concrete
    ]


def _in_progress_of_owner():
    return SignApplication.objects.filter(em__user_id=OuterRef("owner_id"), status__in=IN_PROGRESS_STATUSES)


def unused_uploads(*, now: datetime.datetime | None = None):
    """The uploads ``upload_purge`` deletes at ``now`` (a queryset; nothing is locked)."""
    # By calendar day (Asia/Shanghai), as the applicant purge: uploaded on day 0, gone in day N's run.
    cutoff = _first_kept_instant(now, days=max(settings.UPLOAD_UNUSED_RETENTION_DAYS, 1))
    uploads = Upload.objects.filter(created_at__lt=cutoff).exclude(Exists(_in_progress_of_owner()))
    for model, name in _upload_references():
        uploads = uploads.exclude(Exists(model._base_manager.filter(**{name: OuterRef("pk")})))
    return uploads


def upload_purge(*, now: datetime.datetime | None = None, batch_size: int | None = None) -> dict[str, int]:
    now = now or timezone.now()
    # A resume, check or signature took one of them while a batch ran: the next run decides.
    totals = _in_batches(
        unused_uploads(now=now),
        lambda ids: _purge_upload_batch(ids, now=now),
        batch_size=batch_size or settings.UPLOAD_PURGE_BATCH,
        what="upload purge",
    )
    totals = {"uploads": 0, "files": 0, **totals}
    logger.info(
        "upload purge (%s days): %s",
        settings.UPLOAD_UNUSED_RETENTION_DAYS,
        ", ".join(f"{key} {n}" for key, n in totals.items()),
    )
    return totals


def _locked_unused_uploads(ids: list[int], *, now: datetime.datetime) -> list[tuple[int, int, str]]:
    """Re-read under lock: what was unused when listed may not be any more."""
    return list(unused_uploads(now=now).filter(pk__in=ids).select_for_update().values_list("pk", "owner_id", "file"))


def _purge_upload_batch(ids: list[int], *, now: datetime.datetime) -> dict[str, int]:
    erasure = _Erasure()
    with transaction.atomic():
        rows = _locked_unused_uploads(ids, now=now)
        if not rows:
            return {}
        upload_ids = [pk for pk, _, _ in rows]
        storage = Upload._meta.get_field("file").storage
        erasure.files += [(storage, name) for _, _, name in rows if name]
        erasure.count("uploads", _raw_delete(Upload.objects.filter(pk__in=upload_ids)))
        # A reference written since the re-read (the database's foreign keys refuse it too, at the
        # latest on commit): the batch rolls back whole, and no resume points at a deleted upload.
        by_model: dict[type, list[str]] = {}
        for model, name in _upload_references():
            by_model.setdefault(model, []).append(name)
        for model, names in by_model.items():
            where = Q()
            for name in names:
                where |= Q(**{f"{name}__in": upload_ids})
            if model._base_manager.filter(where).exists():
                raise _Changed
        owners = {owner for _, owner, _ in rows}
        if SignApplication.objects.filter(em__user_id__in=owners, status__in=IN_PROGRESS_STATUSES).exists():
            raise _Changed
        erasure.count("files", len(erasure.files))
        erasure.delete_files_on_commit()
    return erasure.counts


# --- data kept by a partial deletion ----------------------------------------------------------------------


def retained_purge(*, today: datetime.date | None = None) -> dict[str, int]:
    today = today or timezone.localdate()
    due = DeletionRequest.objects.filter(
        status=DeletionStatus.PARTIAL, retained_until__lte=today, retained_deleted_at__isnull=True
    )
    totals = {"requests": 0, "held": 0}
    for pk in list(due.order_by("pk").values_list("pk", flat=True)):
        try:
            counts = _purge_retained(pk, today=today)
        except ProtectedError:
            logger.warning("retained purge: deletion request %s still referenced elsewhere (left as it is)", pk)
            counts = None
        if counts is None:
            totals["held"] += 1
            continue
        totals["requests"] += 1
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
    logger.info("retained purge: %s", ", ".join(f"{key} {n}" for key, n in totals.items()))
    return totals


def _purge_retained(pk: int, *, today: datetime.date) -> dict[str, int] | None:
    """Delete what request ``pk`` kept; None when the law (or an application in progress) still keeps it."""
    erasure = _Erasure()
    with transaction.atomic():
        deletion = (
            DeletionRequest.objects.select_for_update()
            .filter(pk=pk, status=DeletionStatus.PARTIAL, retained_deleted_at__isnull=True)
            .first()
        )
        if deletion is None:
            return {}
        user = WechatUser.objects.select_for_update().filter(pk=deletion.user_id).first()
        employee = Employee.objects.filter(user=user).first() if user else None
        if employee is not None and (
            _in_progress(employee) or retained_contracts(today=today).filter(employee=employee).exists()
        ):
            return None
        if user is not None:
            _erase_everything(user, employee, erasure)
        deletion.status = DeletionStatus.DONE
        deletion.user = None
        deletion.retained_deleted_at = timezone.now()
        for key, n in erasure.counts.items():
            deletion.deleted[key] = deletion.deleted.get(key, 0) + n
        done = counts_text(erasure.counts) or "无"
        deletion.outcome += f"保留期满，{timezone.localdate():%Y-%m-%d} 已删除依法保留的数据：{done}。"
        deletion.save(update_fields=["status", "user", "retained_deleted_at", "deleted", "outcome"])
        erasure.delete_files_on_commit()
    logger.info(
        "retained purge: deletion request %s done (%s)", pk, ", ".join(f"{k} {n}" for k, n in erasure.counts.items())
    )
    return erasure.counts
