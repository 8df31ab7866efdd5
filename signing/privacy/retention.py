"""
Retention (SPEC §13): what the periodic purge deletes once nothing justifies keeping it. Both
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
"""

from __future__ import annotations

import datetime
import logging

from django.conf import settings
from django.db import IntegrityError, transaction
from django.db.models import Case, Exists, F, OuterRef, ProtectedError, Value, When
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
from .services import _erase_everything, _Erasure, _in_progress, _scrub_admin_log, counts_text

logger = logging.getLogger("signing.privacy")

ENDED = (SignStatus.REJECTED, SignStatus.CANCELLED)
HELD = (DeletionStatus.PENDING, DeletionStatus.PARTIAL)


# --- applicants ---------------------------------------------------------------------------------------------


class _Changed(Exception):
    """A batch met a change since it was read; it is rolled back whole."""


def purgeable_applicants(*, now: datetime.datetime | None = None):
    """The employees ``applicant_purge`` deletes at ``now`` (a queryset; nothing is locked)."""
    # By calendar day (Asia/Shanghai): an application that ended on day 0 goes in the run of day N,
    # whatever the hour, so the privacy rules' "结束后 N 天内删除" holds with a daily run.
    today = timezone.localdate(now or timezone.now())
    first_kept_day = today - datetime.timedelta(days=settings.APPLICANT_RETENTION_DAYS - 1)
    cutoff = timezone.make_aware(datetime.datetime.combine(first_kept_day, datetime.time.min))
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
    batch_size = batch_size or settings.APPLICANT_PURGE_BATCH
    totals: dict[str, int] = {}
    after = 0
    skipped = 0
    while True:
        ids = list(
            purgeable_applicants(now=now).filter(pk__gt=after).order_by("pk").values_list("pk", flat=True)[:batch_size]
        )
        if not ids:
            break
        after = ids[-1]
        try:
            counts = _purge_batch(ids, now=now)
        except (_Changed, ProtectedError, IntegrityError) as exc:
            # Someone applied again while the batch ran: it is rolled back whole, the next run decides.
            logger.warning("applicant purge: a batch of %s was rolled back (%s)", len(ids), type(exc).__name__)
            skipped += len(ids)
            continue
        for key, n in counts.items():
            totals[key] = totals.get(key, 0) + n
    if skipped:
        totals["skipped"] = skipped
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
