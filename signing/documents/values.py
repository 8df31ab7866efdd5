"""
The values an application gives its contract (the vocabulary of ``contracts.placements``), as text.

``contract_values(application)`` reads the employer, the worker's resume and the terms agreed at
审核通过; the ID number is in full (the contract body names the worker; only the certificate page
masks it). ``sign_date`` is not here: it is filled at signing. ``rmb_upper`` writes an amount the way
Chinese contracts and cheques do (人民币大写).
"""

from __future__ import annotations

import datetime
from decimal import ROUND_HALF_UP, Decimal

from contracts.terms import TermType, WorkingHours
from employees.resume_display import acct_address, current_address, emergency_contact

DIGITS = "零壹贰叁肆伍陆柒捌玖"
SMALL_UNITS = ("", "拾", "佰", "仟")
BIG_UNITS = ("", "万", "亿", "万亿")


def _four(group: int) -> str:
    """0–9999 in capitals, with 零 for inner gaps (no leading or trailing 零)."""
    text, zero = "", False
    for position in range(3, -1, -1):
        digit = group // 10**position % 10
        if digit == 0:
            zero = bool(text)
            continue
        if zero:
            text += "零"
            zero = False
        text += DIGITS[digit] + SMALL_UNITS[position]
    return text


def rmb_upper(amount: Decimal | int | str) -> str:
    """人民币大写: 8500.50 → 捌仟伍佰元伍角; 10000 → 壹万元整; 1005.07 → 壹仟零伍元零柒分."""
    value = Decimal(str(amount)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)
    if value < 0:
        raise ValueError("negative amount")
    cents = int(value * 100)
    yuan, jiao, fen = cents // 100, cents // 10 % 10, cents % 10
    groups = []
    while yuan:
        groups.append(yuan % 10000)
        yuan //= 10000
    if len(groups) > len(BIG_UNITS):
        raise ValueError("amount too large")
    text = ""
    for index in range(len(groups) - 1, -1, -1):
        group = groups[index]
        if group == 0:
            if text and not text.endswith("零"):
                text += "零"
            continue
        if text and group < 1000 and not text.endswith("零"):
            text += "零"
        text += _four(group) + BIG_UNITS[index]
    text = text.rstrip("零")
    if not text:
        text = "零" if (jiao or fen) == 0 else ""
    out = f"{text}元" if text else ""
    if jiao == 0 and fen == 0:
        return (out or "零元") + "整"
    if jiao:
        out += DIGITS[jiao] + "角"
    elif text:
        out += "零"
    if fen:
        out += DIGITS[fen] + "分"
    return out


def format_date(value: datetime.date | None) -> str:
    return f"{value.year}年{value.month}月{value.day}日" if value else ""


def contract_values(application) -> dict[str, str]:
    """``application`` with ``company``, ``contract`` and ``em`` loaded (one query with select_related)."""
    company = application.company
    employee = application.em
    contract = application.contract
    open_ended = application.term_type == TermType.OPEN_ENDED
    task = application.term_type == TermType.TASK
    if open_ended:
        end = "无固定期限"
    elif task:
        end = (
            f"以完成工作任务为期限（预计{format_date(application.end_date)}）"
            if application.end_date
            else "以完成工作任务为期限"
        )
    else:
        end = format_date(application.end_date)
    salary = application.salary
    return {
        "company_name": company.company_name,
        "credit_code": company.credit_code,
        "company_address": company.company_address,
        "legal_representative": company.legal_representative,
        "real_name": employee.real_name,
        "id_number": employee.id_number,
        "gender": employee.get_gender_display() if employee.gender in (1, 2) else "",
        "phone": employee.phone,
        "acct_address": acct_address(employee),
        "address": current_address(employee),
        "em_contact": emergency_contact(employee),
        "work_pos": application.work_pos,
        "work_location": application.work_location,
        "entry_date": format_date(application.entry_date),
        "end_date": end,
        "sign_year": "无固定期限" if open_ended else (str(contract.sign_year) if contract and not task else ""),
        "probation_months": str(application.probation_months) if application.probation_months else "无",
        "probation_end": format_date(application.probation_end) if application.probation_end else "无",
        "salary": f"{salary:.2f}",
        "salary_upper": rmb_upper(salary) if salary else "",
        "working_hours": WorkingHours(application.working_hours).label if application.working_hours else "",
    }
