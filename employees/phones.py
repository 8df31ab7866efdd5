"""
Mainland mobile numbers (PROTOCOLS.md): the baseline pattern ``^1[3-9]\\d{9}$``,
used everywhere a phone is accepted. Shown or logged phones are masked with
``employees.masking.mask_phone``.
"""

import re

MOBILE_RE = re.compile(r"^1[3-9]\d{9}$")
MOBILE_MESSAGE = "请输入正确的手机号（11 位中国大陆手机号）"


def is_mobile(value) -> bool:
    return isinstance(value, str) and MOBILE_RE.fullmatch(value) is not None
