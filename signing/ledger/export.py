"""
Excel export of the contract ledger: the rows of the admin's filtered, scoped queryset, read with
one ``values()`` query in chunks into ``shanqian.xlsx.write_xlsx``; phones and ID numbers masked
with ``mask=True`` (everybody but superusers). More than ``BULK_INLINE_LIMIT`` rows (the list's
``export/`` or the selected rows): the ``signing.ledger.export`` bulk job writes the file in a worker.
"""

from __future__ import annotations

from collections.abc import Iterable

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import QuerySet

from employees.masking import mask_id_number, mask_phone
from shanqian import bulk, xlsx
from shanqian.models import BulkJobItem
from shanqian.roles import sees_everything
from shanqian.xlsx import CONTENT_TYPE, local_naive

from .models import ContractStatus, EmploymentContract, EndGround, TermType
from .selectors import contracts_visible_to

__all__ = ["CONTENT_TYPE", "HEADERS", "contracts_xlsx", "export_filename", "export_rows"]

CHUNK_SIZE = 2000
SHEET_TITLE = "劳动合同台账"
COLUMNS = (
    ("合同编号", 10),
    ("签约申请编号", 12),
    ("姓名", 12),
    ("手机号", 15),
    ("身份证号", 21),
    ("用人单位", 28),
    ("岗位", 14),
    ("工作地点", 24),
    ("处理人", 10),
    ("期限类型", 14),
    ("起始日", 12),
    ("终止日", 12),
    ("试用期截止日", 12),
    ("薪资（元）", 12),
    ("合同状态", 10),
    ("终止/解除日期", 12),
    ("终止/解除事由", 30),
    ("签署时间", 18),
)
HEADERS = tuple(header for header, _ in COLUMNS)
_FIELDS = (
    "id",
    "application_id",
    "employee__real_name",
    "employee__phone",
    "employee__id_number",
    "company__company_name",
    "work_pos",
    "work_location",
    "ad_user__name",
    "ad_user__first_name",
    "ad_user__last_name",
    "ad_user__username",
    "term_type",
    "start_date",
    "end_date",
    "probation_end",
    "salary",
    "status",
    "ended_on",
    "end_ground",
    "created_at",
)
_STATUS = dict(ContractStatus.choices)
_TERM = dict(TermType.choices)
_GROUND = dict(EndGround.choices)


def export_filename(now=None) -> str:
    return xlsx.export_filename("劳动合同台账", now)


def _handler_name(row: dict) -> str:
    full_name = f"{row['ad_user__first_name']} {row['ad_user__last_name']}".strip()
    return row["ad_user__name"] or full_name or row["ad_user__username"] or ""


def export_rows(queryset: QuerySet, *, mask: bool) -> Iterable[tuple]:
    for row in queryset.values(*_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        phone, id_number = row["employee__phone"] or "", row["employee__id_number"] or ""
        yield (
            row["id"],
            row["application_id"],
            row["employee__real_name"] or "",
            mask_phone(phone) if mask else phone,
            mask_id_number(id_number) if mask else id_number,
            row["company__company_name"] or "",
            row["work_pos"] or "",
            row["work_location"] or "",
            _handler_name(row),
            _TERM.get(row["term_type"], row["term_type"]),
            row["start_date"],
            row["end_date"],
            row["probation_end"],
            row["salary"],
            _STATUS.get(row["status"], str(row["status"])),
            row["ended_on"],
            _GROUND.get(row["end_ground"], row["end_ground"] or ""),
            local_naive(row["created_at"]),
        )


def contracts_xlsx(queryset: QuerySet, *, mask: bool):
    return xlsx.write_xlsx(title=SHEET_TITLE, columns=COLUMNS, rows=export_rows(queryset, mask=mask))


# --- more than BULK_INLINE_LIMIT rows: a background job (shanqian.bulk) -------------------------------

EXPORT_JOB = "signing.ledger.export"


def export_job_row(object_id: int, params: dict, staff) -> str:
    """Nothing to do per row: the file is written once, at the end, from the records still visible."""
    return "已导出"


def export_job_finish(job, done_ids: list[int]) -> str:
    """Write the workbook of the job's records to storage; returns its name (the progress page links it)."""
    staff = job.created_by
    # The scope as of now: a handler who lost a record meanwhile does not get it. Masked unless a
    # superuser asked for the full export (its access record was written when the job started).
    rows = job.items.filter(state=BulkJobItem.State.DONE).values("object_id")
    queryset = contracts_visible_to(staff=staff, queryset=EmploymentContract.objects.filter(pk__in=rows))
    full = bool(job.params.get("full")) and sees_everything(staff)
    output = contracts_xlsx(queryset.order_by("-id"), mask=not full)
    with output:
        return default_storage.save(f"exports/{job.pk}/{export_filename()}", File(output))


def register_export_job() -> None:
    bulk.register(
        bulk.BulkAction(name=EXPORT_JOB, label="导出劳动合同台账", perform=export_job_row, finish=export_job_finish)
    )
