"""
Excel export of signing applications (SPEC §7: "export the filtered application list").

``applications_xlsx(queryset, mask=…)`` writes the rows of ``queryset`` — already
scoped to the staff member and filtered/searched/ordered by the admin — into an
``.xlsx`` file and returns it as a temporary file positioned at 0. Labels, not codes:
the status and gender in Chinese, company, handler and contract by name, times in
Asia/Shanghai. With ``mask=True`` phones and ID numbers are masked as in the lists.

It reads with one ``values()`` query over ``iterator(chunk_size=…)`` (no model
instances, no per-row queries) into ``shanqian.xlsx.write_xlsx`` (openpyxl's write-only
workbook, spooled to disk past a few megabytes; text never becomes a formula).
"""

from __future__ import annotations

import datetime
from collections.abc import Iterable
from decimal import Decimal

from django.core.files import File
from django.core.files.storage import default_storage
from django.db.models import QuerySet

from dictionaries.reference import Gender
from employees.masking import mask_id_number, mask_phone
from shanqian import bulk, xlsx
from shanqian.models import BulkJobItem
from shanqian.roles import sees_everything
from shanqian.xlsx import CONTENT_TYPE, local_naive

from .models import SignApplication, SignStatus
from .selectors import WORK_QUEUE_ORDERING, applications_visible_to

CHUNK_SIZE = 2000
__all__ = ["CONTENT_TYPE", "HEADERS", "applications_xlsx", "export_filename", "export_rows"]
SHEET_TITLE = "签约申请"

# (header, width)
COLUMNS = (
    ("申请编号", 10),
    ("姓名", 12),
    ("性别", 6),
    ("手机号", 15),
    ("身份证号", 21),
    ("用人单位", 28),
    ("岗位", 14),
    ("处理人", 10),
    ("签约状态", 10),
    ("申请时间", 18),
    ("入职日期", 12),
    ("薪资（元）", 12),
    ("合同模板", 24),
    ("驳回原因", 30),
)
HEADERS = tuple(header for header, _ in COLUMNS)

_FIELDS = (
    "id",
    "em__real_name",
    "em__gender",
    "em__phone",
    "em__id_number",
    "company__company_name",
    "work_pos",
    "ad_user__name",
    "ad_user__first_name",
    "ad_user__last_name",
    "ad_user__username",
    "status",
    "apply_time",
    "entry_date",
    "salary",
    "contract__contract_name",
    "reason",
)
_STATUS = dict(SignStatus.choices)
_GENDER = dict(Gender.choices)


def export_filename(now: datetime.datetime | None = None) -> str:
    return xlsx.export_filename("签约申请", now)


def _handler_name(row: dict) -> str:
    # The same rule as AdminUser.display_name, without loading the user.
    full_name = f"{row['ad_user__first_name']} {row['ad_user__last_name']}".strip()
    return row["ad_user__name"] or full_name or row["ad_user__username"] or ""


def export_rows(queryset: QuerySet, *, mask: bool) -> Iterable[tuple]:
    """The cell values of each application, in ``HEADERS`` order."""
    for row in queryset.values(*_FIELDS).iterator(chunk_size=CHUNK_SIZE):
        phone, id_number = row["em__phone"] or "", row["em__id_number"] or ""
        salary = row["salary"]
        yield (
            row["id"],
            row["em__real_name"] or "",
            _GENDER.get(row["em__gender"], ""),
            mask_phone(phone) if mask else phone,
            mask_id_number(id_number) if mask else id_number,
            row["company__company_name"] or "",
            row["work_pos"] or "",
            _handler_name(row),
            _STATUS.get(row["status"], str(row["status"])),
            local_naive(row["apply_time"]),
            row["entry_date"],
            salary if salary and salary > Decimal("0") else None,
            row["contract__contract_name"] or "",
            row["reason"] or "",
        )


def applications_xlsx(queryset: QuerySet, *, mask: bool):
    """A temporary file holding the workbook (caller closes it; FileResponse does)."""
    return xlsx.write_xlsx(title=SHEET_TITLE, columns=COLUMNS, rows=export_rows(queryset, mask=mask))


# --- more than BULK_INLINE_LIMIT rows: a background job (shanqian.bulk) -------------------------------

EXPORT_JOB = "signing.export"


def export_job_row(object_id: int, params: dict, staff) -> str:
    """Nothing to do per row: the file is written once, at the end, from the rows still visible."""
    return "已导出"


def export_job_finish(job, done_ids: list[int]) -> str:
    """Write the workbook of the job's rows to storage; returns its name (the progress page links it)."""
    staff = job.created_by
    # The scope as of now: a handler who lost an application meanwhile does not get it. Masked unless
    # a superuser asked for the full export (its access record was written when the job started).
    rows = job.items.filter(state=BulkJobItem.State.DONE).values("object_id")
    queryset = applications_visible_to(staff=staff, queryset=SignApplication.objects.filter(pk__in=rows))
    full = bool(job.params.get("full")) and sees_everything(staff)
    output = applications_xlsx(queryset.order_by(*WORK_QUEUE_ORDERING), mask=not full)
    with output:
        return default_storage.save(f"exports/{job.pk}/{export_filename()}", File(output))


def register_export_job() -> None:
    bulk.register(
        bulk.BulkAction(name=EXPORT_JOB, label="导出 Excel", perform=export_job_row, finish=export_job_finish)
    )
