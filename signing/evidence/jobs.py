"""
出证包 for more than ``BULK_INLINE_LIMIT`` applications: a background job (``shanqian.bulk``).

``evidence_job_params(client)`` is what the admin action stores on the job: the client of the
click (the audit events and the personal-data access records carry it) and a folder of its own in the storage. Per row
(``evidence_job_row``), in the row's transaction: the staff member's scope is checked again (as
of now), the package is built — which writes its ``evidence`` audit event — and stored as
``<folder>/evidence-<id>.zip`` (replacing a copy a killed runner may have left: the row's
event rolled back with it, so each row is exported, and audited, exactly once). At the end
(``evidence_job_finish``) the stored packages of the rows done are put into one zip, with a
``未导出.txt`` naming the rows that failed and why; the per-row copies are deleted and the zip's
name returned — the job's progress page links it for its creator only.
"""

from __future__ import annotations

import tempfile
import uuid
import zipfile

from django.core.files import File
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from shanqian import bulk
from shanqian.admin_reviews import client_from, client_params
from shanqian.errors import Forbidden, NotFound
from shanqian.models import BulkJobItem, PersonalDataAccess

from ..models import SignApplication
from ..selectors import applications_visible_to
from .package import evidence_package

EVIDENCE_JOB = "signing.evidence"
EVIDENCE_JOB_LABEL = "下载出证包"
FOLDER_PREFIX = "evidence-jobs"
# What an evidence package shows in full, as the access records name it (never the values).
EVIDENCE_FIELDS = ("出证包：合同文件（含身份证号）", "签署文件", "审计记录")
EVIDENCE_FIELDS_LABEL = "、".join(EVIDENCE_FIELDS)


def evidence_job_params(client, *, path: str = "") -> dict:
    return {"client": client_params(client), "folder": f"{FOLDER_PREFIX}/{uuid.uuid4().hex}", "path": path}


def _row_name(params: dict, object_id: int) -> str:
    return f"{params['folder']}/evidence-{int(object_id)}.zip"


def evidence_job_row(object_id: int, params: dict, staff) -> str:
    if not (staff.is_active and staff.is_staff):
        raise Forbidden("您已无权处理该记录")
    application = applications_visible_to(staff=staff, queryset=SignApplication.objects.filter(pk=object_id)).first()
    if application is None:
        raise NotFound("签约申请已不存在，或已不由您处理")
    client = client_from(params.get("client"))
    package = evidence_package(application, actor=staff, client=client, via="admin 批量")
    # The package holds the contract in full: recorded as an export of personal data (SPEC §13).
    PersonalDataAccess.objects.create(
        staff=staff,
        action=PersonalDataAccess.Action.EXPORT,
        target_type=SignApplication._meta.label_lower,
        target_id=str(application.pk),
        target_repr=f"{SignApplication._meta.verbose_name} #{application.pk}"[:128],
        fields=EVIDENCE_FIELDS_LABEL,
        rows=1,
        path=params.get("path", "")[:255],
        ip=client.ip if client else None,
        user_agent=(client.user_agent if client else "")[:512],
    )
    name = _row_name(params, object_id)
    if default_storage.exists(name):  # a runner killed after storing, before its commit
        default_storage.delete(name)
    default_storage.save(name, ContentFile(package.content))
    return f"已生成 {package.filename}（SHA-256 {package.sha256[:16]}…）"


def evidence_job_finish(job, done_ids: list[int]) -> str:
    params = job.params or {}
    if "folder" not in params:
        return ""
    failed = list(job.items.filter(state=BulkJobItem.State.FAILED).order_by("pk").values_list("label", "message"))
    with tempfile.TemporaryFile() as spool:
        with zipfile.ZipFile(spool, "w", compression=zipfile.ZIP_STORED) as archive:
            for object_id in done_ids:
                name = _row_name(params, object_id)
                if default_storage.exists(name):
                    with default_storage.open(name, "rb") as handle:
                        archive.writestr(f"evidence-{object_id}.zip", handle.read())
            if failed:
                archive.writestr("未导出.txt", "\n".join(f"{label}：{message}" for label, message in failed).encode())
        spool.seek(0)
        stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
        result = default_storage.save(f"exports/{job.pk}/evidence-{stamp}.zip", File(spool))
    for object_id in done_ids:
        name = _row_name(params, object_id)
        if default_storage.exists(name):
            default_storage.delete(name)
    return result


def register_evidence_job() -> None:
    bulk.register(
        bulk.BulkAction(
            name=EVIDENCE_JOB, label=EVIDENCE_JOB_LABEL, perform=evidence_job_row, finish=evidence_job_finish
        )
    )
