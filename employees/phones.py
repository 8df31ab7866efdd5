"""
Mainland mobile numbers (PROTOCOLS.md): the baseline pattern ``^1[3-9]\\d{9}$``,
used everywhere a phone is accepted, and the mask used wherever one is shown
or logged (``138****0000``).
"""

import re

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
MOBILE_MESSAGE = "请输入正确的手机号（11 位中国大陆手机号）"


def is_mobile(value) -> bool:
    return isinstance(value, str) and MOBILE_RE.fullmatch(value) is not None


def mask_phone(phone: str) -> str:
    """``13812345678`` → ``138****5678``."""
    phone = (phone or "").strip()
    if len(phone) <= 7:
        return "*" * len(phone)
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:]
