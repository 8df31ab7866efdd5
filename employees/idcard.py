"""
Resident identity numbers (GB 11643-1999), see PROTOCOLS.md.

18 characters: 6-digit address code, birth date YYYYMMDD, 3-digit sequence
(odd = male, even = female), ISO 7064 MOD 11-2 check character. Lower-case
``x`` is accepted and stored upper-case. Legacy 15-digit numbers are refused:
every card in circulation since 2013 carries 18 digits, and a resume that
signs a contract should carry the number printed on the current card.
The address code is not checked against the region table: real people hold
retired codes.
"""

import datetime
import re
from dataclasses import dataclass

WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)
CHECK_CHARS = "10X98765432"
ID_NUMBER_SHAPE = re.compile(r"^\d{17}[\dX]$")


class IdNumberError(ValueError):
    """Raised with a Chinese message saying what is wrong with the number."""


@dataclass(frozen=True)
class IdNumber:
    number: str
    birth_date: datetime.date
    gender: int  # 1 男, 2 女 (employees.models.Gender)

    def age_on(self, day: datetime.date) -> int:
        before_birthday = (day.month, day.day) < (self.birth_date.month, self.birth_date.day)
        return day.year - self.birth_date.year - before_birthday


def check_char(first17: str) -> str:
    return CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def parse_id_number(raw: str, *, today: datetime.date | None = None) -> IdNumber:
    number = (raw or "").strip().upper()
    if not ID_NUMBER_SHAPE.match(number):
        raise IdNumberError("身份证号应为 18 位，前 17 位为数字，最后一位为数字或 X。")
    if check_char(number[:17]) != number[17]:
        raise IdNumberError("身份证号校验位不正确，请核对。")
    try:
        birth = datetime.date(int(number[6:10]), int(number[10:12]), int(number[12:14]))
    except ValueError:
        raise IdNumberError("身份证号中的出生日期无效。") from None
    today = today or datetime.date.today()
    if birth > today:
        raise IdNumberError("身份证号中的出生日期无效。")
    return IdNumber(number=number, birth_date=birth, gender=1 if int(number[16]) % 2 else 2)


def make_id_number(address: str = "110105", birth: datetime.date = datetime.date(1990, 1, 1), sequence: int = 1) -> str:
    """A valid number for fixtures and demo data."""
    first17 = f"{address}{birth:%Y%m%d}{sequence:03d}"
    return first17 + check_char(first17)
