"""
Phone numbers, the one pattern of each: a mainland mobile number (PROTOCOLS.md: ``1[3-9]\\d{9}``),
used everywhere a phone is accepted, and an emergency contact's number, which may also be a
landline (0 + area code, optional hyphen, 7–8 digits, optional extension). Shown or logged phones
are masked with ``employees.masking.mask_phone``.
"""

import re

MOBILE = r"1[3-9]\d{9}"
LANDLINE = r"0\d{2,3}-?\d{7,8}(?:-\d{1,6})?"

MOBILE_RE = re.compile(MOBILE)
CONTACT_PHONE_RE = re.compile(f"{MOBILE}|{LANDLINE}")
MOBILE_MESSAGE = "请输入正确的手机号（11 位中国大陆手机号）"


def is_mobile(value) -> bool:
    return isinstance(value, str) and MOBILE_RE.fullmatch(value) is not None


def is_contact_phone(value) -> bool:
    return isinstance(value, str) and CONTACT_PHONE_RE.fullmatch(value) is not None
