"""
统一社会信用代码 (GB 32100-2015): the shape and the check character.

18 characters over ``0123456789ABCDEFGHJKLMNPQRTUWXY`` (31 symbols, no I O S V Z; values 0–30 in that
order). Positions 1–17 carry the weights 3^i mod 31; the check value is 31 − (Σ value × weight) mod 31,
31 meaning 0, and the 18th character is its symbol. Positions 3–8 are a GB/T 2260 division code.

A few early pilot codes (Fujian/Xiamen, e.g. ``91350100M0001TGQXM``) do not satisfy the check: the
admin offers an explicit "保存（校验位不符）" rather than refusing such a real company, so
``credit_code_problem`` tells the two failures apart (``shape`` always refuses, ``check`` can be
overridden).
"""

from __future__ import annotations

ALPHABET = "0123456789ABCDEFGHJKLMNPQRTUWXY"
WEIGHTS = (1, 3, 9, 27, 19, 26, 16, 17, 20, 29, 25, 13, 8, 24, 10, 30, 28)
LENGTH = 18


def normalise(value: str) -> str:
    """Upper case, surrounding and inner blanks removed (people paste ``9111 0000 …``)."""
    return "".join((value or "").split()).upper()


def check_character(first17: str) -> str:
    total = sum(ALPHABET.index(char) * weight for char, weight in zip(first17, WEIGHTS, strict=True))
    value = 31 - total % 31
    return ALPHABET[0 if value == 31 else value]


def credit_code_problem(code: str) -> tuple[str, str]:
    """``("", "")`` for a valid code, else ``(kind, Chinese message)`` with kind ``shape`` or ``check``."""
    if len(code) != LENGTH:
        return "shape", f"统一社会信用代码应为 {LENGTH} 位（现为 {len(code)} 位）。"
    bad = sorted({char for char in code if char not in ALPHABET})
    if bad:
        return "shape", f"统一社会信用代码含有不允许的字符：{'、'.join(bad)}（不使用 I、O、S、V、Z）。"
    if not code[2:8].isdigit():
        return "shape", "统一社会信用代码第 3–8 位应为行政区划代码（6 位数字）。"
    expected = check_character(code[:17])
    if code[17] != expected:
        return "check", f"统一社会信用代码校验位不符（按 GB 32100 应为 {expected}，现为 {code[17]}），请核对。"
    return "", ""
