"""
Deletion requests (SPEC §13, PIPL art. 47). Keyword-only, atomic; the person's row or the request's
row locked so a double tap or two staff members act once.

* ``deletion_request_create(*, user, reason, client) -> DeletionRequest`` — ``POST /api/me/deletion``.
  One open request per person: a second is 409 (the user row is locked first; the unique
  ``open_for`` column catches what a lock cannot). ``reason`` is optional text (``shanqian.text``).
* ``deletion_latest(*, user) -> DeletionRequest | None`` — ``GET /api/me/deletion``.
* ``deletion_execute(*, deletion, staff, client) -> DeletionRequest`` — staff carry it out:

  - refused (409) while the person has an application in progress (签约申请 / 待签约): staff
    reject or cancel it first, so nothing is deleted under a running review or signature;
  - **nothing retained** (no contract in force or within ``CONTRACT_RETENTION_YEARS`` of its
    end: ``signing.ledger.selectors.retained_contracts``): everything goes — contracts past
    retention and their files and certificates, applications with their events and documents, the
    resume, uploads, real-name checks, consents, sessions, subscriptions, SMS codes of the phone,
    and the WeChat account; status 已删除;
  - **a contract retained**: what the law requires stays — the contracts, their applications,
    events, documents and certificates, the resume, uploads and real-name checks they rest on
    (``employees.retention``'s rule) and the account, so the person can still read their
    contracts; what it does not require goes — other applications, education and work history,
    the emergency contact, uploads nothing refers to, subscriptions; status 已删除（依法保留部分）
    with the date the retained data may go (``retained_until``; none while a contract is in force).

  The admin log's and bulk jobs' descriptions of deleted rows are replaced, files are deleted after
  commit, and the outcome is notified (``signing.notifications.services.deletion_outcome``) in the same
  transaction. A row the database still protects turns the whole run into a 409: nothing is half
  deleted.
* ``deletion_refuse(*, deletion, staff, reason, client) -> DeletionRequest`` — with the reason the
  person is told.

Log lines carry ids and counts only.
"""

from __future__ import annotations

import datetime
import logging
from typing import TYPE_CHECKING

from django.contrib.admin.models import LogEntry
from django.contrib.contenttypes.models import ContentType
from django.db import IntegrityError, transaction
from django.db.models import ProtectedError
from django.utils import timezone

from employees.assignment import handles_user
from employees.models import (
    Consent,
    Employee,
    EmployeeEducation,
    RealnameVerification,
    SessionToken,
    SmsCode,
    Upload,
    WechatUser,
    WorkExperience,
)
from shanqian.errors import Conflict, NotFound
from shanqian.models import BulkJobItem
from shanqian.roles import sees_everything
from shanqian.text import clean_text

from ..ledger.models import EmploymentContract
from ..ledger.selectors import retained_contracts, retained_until, retention_years
from ..models import SignApplication, SignedDocument, SignStatus, SubscribeAcceptance
from ..notifications import services as notify
from ..notifications.catalog import WorkerNotice
from ..pki.models import PkiCertificate
from .models import OPEN_STATUSES, DeletionRequest, DeletionStatus
from .serializers import REASON_MAX_LENGTH

if TYPE_CHECKING:
    from shanqian.client import ClientContext
    from shanqian.models import AdminUser

logger = logging.getLogger("signing.privacy")

ALREADY_OPEN = "您已提交删除申请，正在处理中，请等待处理结果"
IN_PROGRESS = "该用户有进行中的签约申请（签约申请或待签约），请先驳回或取消后再执行删除"
REFUSAL_MAX_LENGTH = 256
IN_PROGRESS_STATUSES = (SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE)
ERASED_REPR = "（已按本人申请删除）"

LABELS = {
    "applications": ("签约申请", "条"),
    "events": ("签约记录", "条"),
    "documents": ("签署文件", "份"),
    "contracts": ("劳动合同", "份"),
    "certificates": ("签署证书", "张"),
    "resume": ("简历", "份"),
    "educations": ("教育经历", "条"),
    "works": ("工作经历", "条"),
    "emergency_contact": ("紧急联系人", "项"),
    "uploads": ("上传图片", "张"),
    "verifications": ("实名认证记录", "条"),
    "consents": ("授权记录", "条"),
    "sessions": ("登录会话", "个"),
    "subscriptions": ("订阅授权", "条"),
    "sms_codes": ("短信验证码记录", "条"),
    "account": ("小程序账号", "个"),
}


# --- the person -----------------------------------------------------------------------------------------


def deletion_request_create(*, user: WechatUser, reason="", client: ClientContext | None = None) -> DeletionRequest:
    reason = clean_text(reason, field="reason", label="申请原因", max_length=REASON_MAX_LENGTH, required=False)
    try:
        with transaction.atomic():
            WechatUser.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
            if DeletionRequest.objects.filter(user_id=user.pk, status__in=OPEN_STATUSES).exists():
                raise Conflict(ALREADY_OPEN)
            deletion = _open(user=user, reason=reason, client=client)
    except IntegrityError:
        # Two requests that both passed the check (SQLite has no row lock): the unique column decides.
        raise Conflict(ALREADY_OPEN) from None
    logger.info("deletion request %s opened: user %s", deletion.pk, user.pk)
    return deletion


def _open(*, user: WechatUser, reason: str, client: ClientContext | None) -> DeletionRequest:
    return DeletionRequest.objects.create(
        user=user,
        open_for=user,
        platform_id=user.platform_id,
        reason=reason,
        ip=client.ip if client else None,
        user_agent=(client.user_agent if client else "")[:512],
    )


def deletion_latest(*, user: WechatUser) -> DeletionRequest | None:
    return DeletionRequest.objects.filter(user_id=user.pk).order_by("-requested_at", "-id").first()


# --- staff ------------------------------------------------------------------------------------------------


def _locked(deletion: DeletionRequest, staff: AdminUser) -> DeletionRequest:
    locked = DeletionRequest.objects.select_for_update().filter(pk=deletion.pk).first()
    if locked is None:
        raise NotFound("删除申请不存在")
    if not locked.is_open:
        raise Conflict(f"该删除申请已处理（{locked.get_status_display()}）")
    if locked.user_id is None or not (sees_everything(staff) or handles_user(staff, locked.user_id)):
        raise NotFound("删除申请不存在")
    return locked


def _scrub_admin_log(model, ids) -> None:
    """
    The admin history and the bulk jobs' rows keep that something happened, not whose it was:
    their texts name people (``LogEntry.object_repr``, ``BulkJobItem.label``).
    """
    ids = list(ids)
    if ids:
        LogEntry.objects.filter(
            content_type=ContentType.objects.get_for_model(model), object_id__in=[str(pk) for pk in ids]
        ).update(object_repr=ERASED_REPR, change_message="")
        # A review job's action is "<app_label>.<model_name>.<move>" (shanqian.admin_reviews).
        BulkJobItem.objects.filter(job__action__startswith=f"{model._meta.label_lower}.", object_id__in=ids).update(
            label=ERASED_REPR
        )


class _Erasure:
    """What one execution deletes, counted, with the files to remove once the transaction commits."""

    def __init__(self):
        self.counts: dict[str, int] = {}
        self.files: list = []  # (storage, name)

    def count(self, key: str, n: int) -> None:
        if n:
            self.counts[key] = self.counts.get(key, 0) + n

    def file(self, field_file) -> None:
        if field_file:
            self.files.append((field_file.storage, field_file.name))

    def delete_files_on_commit(self) -> None:
        files = list(self.files)

        def remove():
            for storage, name in files:
                try:
                    storage.delete(name)
                except OSError:
                    logger.warning("deletion: a stored file could not be removed (left for the storage's cleanup)")

        transaction.on_commit(remove)

    def applications(self, applications) -> None:
        applications = list(applications)
        if not applications:
            return
        ids = [a.pk for a in applications]
        for application in applications:
            self.file(application.contract_document)
        documents = list(SignedDocument.objects.filter(application_id__in=ids))
        for document in documents:
            self.file(document.file)
        self.count("certificates", PkiCertificate.objects.filter(application_id__in=ids).delete()[0])
        self.count("documents", SignedDocument.objects.filter(pk__in=[d.pk for d in documents]).delete()[0])
        _, per_model = SignApplication.objects.filter(pk__in=ids).delete()
        self.count("applications", per_model.get(SignApplication._meta.label, 0))
        self.count("events", per_model.get("signing.SignEvent", 0))
        _scrub_admin_log(SignApplication, ids)
        # The signatures the documents held, now referenced by nothing.
        signature_ids = [d.signature_id for d in documents if d.signature_id]
        self.uploads(Upload.objects.filter(pk__in=signature_ids))

    def uploads(self, uploads) -> None:
        uploads = list(uploads)
        for upload in uploads:
            self.file(upload.file)
        self.count("uploads", Upload.objects.filter(pk__in=[u.pk for u in uploads]).delete()[0])


def _in_progress(employee: Employee | None) -> bool:
    return (
        employee is not None and SignApplication.objects.filter(em=employee, status__in=IN_PROGRESS_STATUSES).exists()
    )


def _erase_everything(user: WechatUser, employee: Employee | None, erasure: _Erasure) -> None:
    if employee is not None:
        contracts = list(EmploymentContract.objects.filter(employee=employee))
        for contract in contracts:
            erasure.file(contract.proof_file)
        EmploymentContract.objects.filter(pk__in=[c.pk for c in contracts]).update(
            previous=None, renewal_application=None
        )
        erasure.count("contracts", EmploymentContract.objects.filter(pk__in=[c.pk for c in contracts]).delete()[0])
        _scrub_admin_log(EmploymentContract, [c.pk for c in contracts])
        erasure.applications(SignApplication.objects.filter(em=employee))
        erasure.count("sms_codes", SmsCode.objects.filter(phone=employee.phone).delete()[0])
        erasure.count("educations", EmployeeEducation.objects.filter(employee=employee).delete()[0])
        erasure.count("works", WorkExperience.objects.filter(employee=employee).delete()[0])
        _scrub_admin_log(Employee, [employee.pk])
        erasure.count("resume", Employee.objects.filter(pk=employee.pk).delete()[0])
    verifications = list(RealnameVerification.objects.filter(user=user).values_list("pk", flat=True))
    erasure.count("verifications", RealnameVerification.objects.filter(pk__in=verifications).delete()[0])
    _scrub_admin_log(RealnameVerification, verifications)
    erasure.uploads(Upload.objects.filter(owner=user))
    erasure.count("consents", Consent.objects.filter(user=user).delete()[0])
    erasure.count("sessions", SessionToken.objects.filter(user=user).delete()[0])
    erasure.count("subscriptions", SubscribeAcceptance.objects.filter(user=user).delete()[0])
    DeletionRequest.objects.filter(user=user).update(user=None)
    erasure.count("account", WechatUser.objects.filter(pk=user.pk).delete()[1].get(WechatUser._meta.label, 0))


def _erase_what_is_not_retained(user: WechatUser, employee: Employee, erasure: _Erasure) -> None:
    kept = SignApplication.objects.filter(em=employee, employment_contract__isnull=False)
    renewals = EmploymentContract.objects.filter(employee=employee, renewal_application__isnull=False)
    other = (
        SignApplication.objects.filter(em=employee)
        .exclude(pk__in=kept.values("pk"))
        .exclude(pk__in=renewals.values("renewal_application_id"))
    )
    erasure.applications(other.exclude(document__isnull=False))
    erasure.count("educations", EmployeeEducation.objects.filter(employee=employee).delete()[0])
    erasure.count("works", WorkExperience.objects.filter(employee=employee).delete()[0])
    if employee.em_contact_name or employee.em_contact_phone or employee.em_contact_relationship:
        Employee.objects.filter(pk=employee.pk).update(
            em_contact_name="", em_contact_phone="", em_contact_relationship=""
        )
        erasure.count("emergency_contact", 1)
    referenced = {employee.id_card_front_id, employee.id_card_back_id}
    for front, back in RealnameVerification.objects.filter(user=user).values_list(
        "id_card_front_id", "id_card_back_id"
    ):
        referenced |= {front, back}
    referenced |= set(
        SignedDocument.objects.filter(application__em=employee, signature__isnull=False).values_list(
            "signature_id", flat=True
        )
    )
    erasure.uploads(Upload.objects.filter(owner=user).exclude(pk__in=[pk for pk in referenced if pk]))
    erasure.count("subscriptions", SubscribeAcceptance.objects.filter(user=user).delete()[0])


def _kept_until(contracts) -> datetime.date | None:
    """The first day everything retained may go; None while a contract is in force."""
    days = [retained_until(contract) for contract in contracts]
    if not days or any(day is None for day in days):
        return None
    return max(days)


def counts_text(counts: dict[str, int]) -> str:
    """``签约申请 1 条、简历 1 份…``: what was deleted, in words (no personal data)."""
    return "、".join(f"{LABELS[key][0]} {n} {LABELS[key][1]}" for key, n in counts.items() if key in LABELS)


def _outcome(counts: dict[str, int], *, retained: int, until: datetime.date | None) -> str:
    done = counts_text(counts)
    text = f"已删除：{done}。" if done else "没有可删除的个人信息。"
    if retained:
        when = (
            f"最早于 {until:%Y-%m-%d} 删除" if until else f"合同履行期间一直保存，终止后至少保存 {retention_years()} 年"
        )
        text += (
            f"依法保留（《劳动合同法》第五十条）：劳动合同 {retained} 份及其签约申请、签约记录、签署文件，"
            f"以及它们所依据的简历、身份证照片和实名认证资料（{when}）。"
        )
    return text


def deletion_execute(
    *, deletion: DeletionRequest, staff: AdminUser, client: ClientContext | None = None
) -> DeletionRequest:
    erasure = _Erasure()
    try:
        with transaction.atomic():
            deletion = _locked(deletion, staff)
            user = WechatUser.objects.select_for_update().get(pk=deletion.user_id)
            employee = Employee.objects.filter(user=user).first()
            if _in_progress(employee):
                raise Conflict(IN_PROGRESS)
            retained = list(retained_contracts().filter(employee=employee)) if employee else []
            phone = employee.phone if employee else ""
            if retained:
                _erase_what_is_not_retained(user, employee, erasure)
                deletion.status = DeletionStatus.PARTIAL
                deletion.retained_until = _kept_until(retained)
                deletion.notice_phone = ""
                kind, notice_employee = WorkerNotice.DELETION_PARTIAL, employee.pk
            else:
                _erase_everything(user, employee, erasure)
                deletion.status = DeletionStatus.DONE
                deletion.notice_phone = phone
                kind, notice_employee = WorkerNotice.DELETION_DONE, None
            deletion.user = user if retained else None
            deletion.open_for = None
            deletion.decided_at = timezone.now()
            deletion.decided_by = staff
            deletion.deleted = erasure.counts
            deletion.outcome = _outcome(erasure.counts, retained=len(retained), until=deletion.retained_until)
            deletion.save()
            _scrub_admin_log(DeletionRequest, [deletion.pk])
            notify.deletion_outcome(deletion=deletion, kind=kind, employee_id=notice_employee)
            erasure.delete_files_on_commit()
    except ProtectedError:
        raise Conflict("该用户的部分数据仍被其他记录引用，无法删除；未作任何修改") from None
    logger.info(
        "deletion request %s executed by staff %s: %s (%s)",
        deletion.pk,
        staff.pk,
        deletion.status,
        ", ".join(f"{key} {n}" for key, n in erasure.counts.items()),
    )
    return deletion


def deletion_refuse(
    *, deletion: DeletionRequest, staff: AdminUser, reason, client: ClientContext | None = None
) -> DeletionRequest:
    reason = clean_text(reason, field="reason", label="拒绝原因", max_length=REFUSAL_MAX_LENGTH)
    with transaction.atomic():
        deletion = _locked(deletion, staff)
        deletion.status = DeletionStatus.REFUSED
        deletion.refusal_reason = reason
        deletion.decided_at = timezone.now()
        deletion.decided_by = staff
        deletion.outcome = f"未删除：{reason}"
        deletion.open_for = None
        deletion.save(update_fields=["status", "refusal_reason", "decided_at", "decided_by", "outcome", "open_for"])
        employee_id = Employee.objects.filter(user_id=deletion.user_id).values_list("pk", flat=True).first()
        notify.deletion_outcome(
            deletion=deletion, kind=WorkerNotice.DELETION_REFUSED, employee_id=employee_id, values={"reason": reason}
        )
    logger.info("deletion request %s refused by staff %s", deletion.pk, staff.pk)
    return deletion
