"""
Excel (.xlsx) writing for the back office's exports, shared by every app's admin.

``write_xlsx(title=…, columns=((header, width), …), rows=iterable of tuples)`` streams the rows
into openpyxl's write-only workbook and returns a temporary file positioned at 0 (spooled to disk
past 8 MB; the caller closes it — ``FileResponse`` does). Rows are consumed one at a time, so a
caller reading with ``values().iterator(chunk_size=…)`` keeps memory flat however long the list.

Every text cell is written as a string: a name or reason starting with ``=`` must not become a
formula in the handler's Excel. Dates, times and decimals get a display format; aware datetimes
should be converted to local naive ones by the caller (Excel has no time zones).
"""

from __future__ import annotations

import datetime
import tempfile
from collections.abc import Iterable, Sequence
from decimal import Decimal

from django.utils import timezone
from openpyxl import Workbook
from openpyxl.cell import WriteOnlyCell
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE
from openpyxl.styles import Font
from openpyxl.utils import get_column_letter

CONTENT_TYPE = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
SPOOL_MAX_BYTES = 8 * 1024 * 1024


def local_naive(moment: datetime.datetime | None) -> datetime.datetime | None:
    """An aware time as the local wall-clock time Excel can hold."""
    return timezone.localtime(moment).replace(tzinfo=None) if moment else None


def export_filename(prefix: str, now: datetime.datetime | None = None) -> str:
    return f"{prefix}_{timezone.localtime(now):%Y%m%d_%H%M%S}.xlsx"


def _cell(sheet, value):
    cell = WriteOnlyCell(sheet, value=ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value)
    if isinstance(value, str):
        cell.data_type = "s"  # never a formula or an error code, whatever the text starts with
    elif isinstance(value, datetime.datetime):
        cell.number_format = "yyyy-mm-dd hh:mm"
    elif isinstance(value, datetime.date):
        cell.number_format = "yyyy-mm-dd"
    elif isinstance(value, Decimal):
        cell.number_format = "0.00"
    return cell


def write_xlsx(*, title: str, columns: Sequence[tuple[str, int]], rows: Iterable[Sequence]):
    """A temporary file holding the workbook: a bold, frozen header row, then ``rows``."""
    workbook = Workbook(write_only=True)
    sheet = workbook.create_sheet(title)
    for index, (_, width) in enumerate(columns):
        sheet.column_dimensions[get_column_letter(index + 1)].width = width
    sheet.freeze_panes = "A2"
    bold = Font(bold=True)
    header = []
    for heading, _ in columns:
        cell = WriteOnlyCell(sheet, value=heading)
        cell.font = bold
        header.append(cell)
    sheet.append(header)
    for values in rows:
        sheet.append([_cell(sheet, value) for value in values])
    output = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)  # noqa: SIM115  (returned open)
    workbook.save(output)
    output.seek(0)
    return output
