"""
The terms of a labour contract (劳动合同法 art. 12, 17, 19) as pure arithmetic: no database, no settings.

What 审核通过 stores on the application (``signing.models.SignApplication``) and the contract
document and the ledger read back:

* ``term_type`` — ``TermType``: ``fixed`` 固定期限 / ``open_ended`` 无固定期限 /
  ``task`` 以完成一定工作任务为期限 (art. 12);
* ``entry_date`` — the first day of the term (入职日期 = 合同期限起始日);
* ``end_date`` — the last day of a fixed term (inclusive); ``None`` when open-ended; for a task
  contract the expected completion date, optional. The default for a fixed term is
  ``term_end(entry_date, sign_year)``: start + ``sign_year`` years − 1 day (SPEC §9);
* ``probation_months`` — 0–6, capped by the term (art. 19, ``probation_cap``);
* ``probation_end`` — the last day of the probation (``probation_end``), ``None`` without one;
* ``working_hours`` — ``WorkingHours``: ``standard`` 标准工时制 / ``comprehensive`` 综合计算工时制 /
  ``flexible`` 不定时工作制;
* ``work_location`` — free text (default: the company's 住所).

``validate_terms`` answers every problem at once as ``{field: [Chinese message]}``; the signing
service raises them as ``InvalidInput``.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from dateutil.relativedelta import relativedelta
from django.db import models

WORK_LOCATION_MAX_LENGTH = 128
PROBATION_MAX_MONTHS = 6


class TermType(models.TextChoices):
    FIXED = "fixed", "固定期限"
    OPEN_ENDED = "open_ended", "无固定期限"
    TASK = "task", "以完成一定工作任务为期限"


class WorkingHours(models.TextChoices):
    STANDARD = "standard", "标准工时制"
    COMPREHENSIVE = "comprehensive", "综合计算工时制"
    FLEXIBLE = "flexible", "不定时工作制"


def term_end(entry_date: datetime.date, sign_year: int) -> datetime.date | None:
    """The last day of a term of ``sign_year`` years starting on ``entry_date``; None when 0 (open-ended)."""
    if not sign_year:
        return None
    return entry_date + relativedelta(years=sign_year) - datetime.timedelta(days=1)


def default_term_type(sign_year: int) -> str:
    """A template of 0 years is an open-ended contract, any other a fixed term."""
    return TermType.OPEN_ENDED if not sign_year else TermType.FIXED


def probation_cap(term_type: str, entry_date: datetime.date, end_date: datetime.date | None) -> int:
    """
    Art. 19: the most months of probation a term allows. Task contracts and terms under three months
    allow none; three months to under a year, one; one to under three years, two; three years or
    more, or open-ended, six. A term ``[entry, end]`` lasts at least N months when the day after its
    end is on or after ``entry + N months``.
    """
    if term_type == TermType.TASK:
        return 0
    if term_type == TermType.OPEN_ENDED or end_date is None:
        return PROBATION_MAX_MONTHS
    after_end = end_date + datetime.timedelta(days=1)
    if after_end < entry_date + relativedelta(months=3):
        return 0
    if after_end < entry_date + relativedelta(years=1):
        return 1
    if after_end < entry_date + relativedelta(years=3):
        return 2
    return PROBATION_MAX_MONTHS


def probation_end(entry_date: datetime.date, probation_months: int) -> datetime.date | None:
    """The last day of a probation of ``probation_months`` months; None without probation."""
    if not probation_months:
        return None
    return entry_date + relativedelta(months=probation_months) - datetime.timedelta(days=1)


def term_label(term_type: str, end_date: datetime.date | None) -> str:
    """How the term reads in Chinese (the approval page, the audit note, the ledger)."""
    if term_type == TermType.OPEN_ENDED:
        return TermType.OPEN_ENDED.label
    if term_type == TermType.TASK:
        return TermType.TASK.label + (f"（预计 {end_date:%Y-%m-%d} 完成）" if end_date else "")
    return f"{TermType.FIXED.label}（至 {end_date:%Y-%m-%d}）" if end_date else TermType.FIXED.label


@dataclass(frozen=True)
class Terms:
    """The cleaned terms, ready to be saved on the application (field names as on the model)."""

    term_type: str
    entry_date: datetime.date
    end_date: datetime.date | None
    probation_months: int
    probation_end: datetime.date | None
    working_hours: str
    work_location: str

    def as_fields(self) -> dict:
        return {
            "term_type": self.term_type,
            "entry_date": self.entry_date,
            "end_date": self.end_date,
            "probation_months": self.probation_months,
            "probation_end": self.probation_end,
            "working_hours": self.working_hours,
            "work_location": self.work_location,
        }


def _is_date(value) -> bool:
    return isinstance(value, datetime.date) and not isinstance(value, datetime.datetime)


def validate_terms(
    *,
    entry_date,
    sign_year: int,
    term_type=None,
    end_date=None,
    probation_months=0,
    working_hours=None,
    work_location="",
    default_work_location: str = "",
    probation_used_before: bool = False,
) -> tuple[Terms | None, dict[str, list[str]]]:
    """
    Clean the terms of one approval: ``(Terms, {})`` or ``(None, errors)``. ``entry_date`` must already be a
    date (its window is the caller's rule); ``sign_year`` is the template's term in years. Blank
    ``term_type`` follows the template, a blank fixed ``end_date`` is ``term_end(entry_date, sign_year)``,
    blank ``working_hours`` is 标准工时制 and blank ``work_location`` the ``default_work_location``.
    ``probation_used_before``: this employer already agreed a probation with this worker (art. 19:
    only once).
    """
    errors: dict[str, list[str]] = {}
    if not _is_date(entry_date):
        return None, {"entry_date": ["请填写有效的入职日期。"]}

    term_type = term_type or default_term_type(sign_year)
    if term_type not in TermType.values:
        errors["term_type"] = ["请选择有效的合同期限类型。"]
    if end_date in ("", None):
        end_date = term_end(entry_date, sign_year) if term_type == TermType.FIXED else None
    if end_date is not None and not _is_date(end_date):
        errors["end_date"] = ["请填写有效的合同终止日期。"]
    elif term_type == TermType.FIXED:
        if end_date is None:
            errors["end_date"] = ["固定期限合同请填写合同终止日期（合同模板的年限为 0，即无固定期限）。"]
        elif end_date < entry_date:
            errors["end_date"] = ["合同终止日期不能早于入职日期。"]
    elif term_type == TermType.OPEN_ENDED and end_date is not None:
        errors["end_date"] = ["无固定期限合同没有终止日期，请留空。"]
    elif term_type == TermType.TASK and end_date is not None and end_date < entry_date:
        errors["end_date"] = ["预计完成日期不能早于入职日期。"]

    months = _whole_number(probation_months)
    if months is None or not 0 <= months <= PROBATION_MAX_MONTHS:
        errors["probation_months"] = ["试用期应为 0 到 6 的整数（月）。"]
        months = 0
    elif months and "term_type" not in errors and "end_date" not in errors:
        cap = probation_cap(term_type, entry_date, end_date)
        if months > cap:
            errors["probation_months"] = [_cap_message(term_type, cap, months)]
        elif probation_used_before:
            errors["probation_months"] = [
                "该用人单位与该劳动者已约定过试用期，同一用人单位只能约定一次试用期（劳动合同法第十九条）。"
            ]

    working_hours = working_hours or WorkingHours.STANDARD
    if working_hours not in WorkingHours.values:
        errors["working_hours"] = ["请选择有效的工时制度。"]

    if work_location is None:
        work_location = ""
    if not isinstance(work_location, str):
        errors["work_location"] = ["工作地点应为文本。"]
    else:
        work_location = work_location.strip() or (default_work_location or "").strip()
        if not work_location:
            errors["work_location"] = ["请填写工作地点（用人单位未登记住所，无法默认）。"]
        elif len(work_location) > WORK_LOCATION_MAX_LENGTH:
            errors["work_location"] = [f"工作地点不能超过 {WORK_LOCATION_MAX_LENGTH} 个字符。"]

    if errors:
        return None, errors
    return (
        Terms(
            term_type=term_type,
            entry_date=entry_date,
            end_date=end_date,
            probation_months=months,
            probation_end=probation_end(entry_date, months),
            working_hours=working_hours,
            work_location=work_location,
        ),
        {},
    )


def _whole_number(value) -> int | None:
    if value in ("", None):
        return 0
    if isinstance(value, bool):
        return None
    if isinstance(value, int):
        return value
    if isinstance(value, str) and value.strip().isascii() and value.strip().isdigit():
        return int(value.strip())
    return None


def _cap_message(term_type: str, cap: int, months: int) -> str:
    law = "（劳动合同法第十九条）"
    if term_type == TermType.TASK:
        return "以完成一定工作任务为期限的劳动合同不得约定试用期" + law + "。"
    if cap == 0:
        return "劳动合同期限不满三个月的，不得约定试用期" + law + "。"
    if cap == 1:
        return f"劳动合同期限三个月以上不满一年的，试用期不得超过一个月（现为 {months} 个月）" + law + "。"
    return f"劳动合同期限一年以上不满三年的，试用期不得超过二个月（现为 {months} 个月）" + law + "。"
