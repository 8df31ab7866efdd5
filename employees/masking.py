"""
Masked personal numbers for lists and exports (SPEC §7: handlers see masked ID numbers).

``mask_phone("13800000000") == "138****0000"`` and
``mask_id_number("110105199001010010") == "110105********0010"``: the region code
and the last four stay readable so a handler can still tell people apart and match
a phone call, the birth date and the middle digits do not leave the screen or file.
"""


def mask_phone(phone: str | None) -> str:
    phone = phone or ""
    if len(phone) < 8:
        return "*" * len(phone)
    return f"{phone[:3]}{'*' * (len(phone) - 7)}{phone[-4:]}"


def mask_id_number(number: str | None) -> str:
    number = number or ""
    if len(number) < 11:
        return "*" * len(number)
    return f"{number[:6]}{'*' * (len(number) - 10)}{number[-4:]}"
