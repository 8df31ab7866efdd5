"""
The one check of free text that reaches the database: the API's ``TextField``, the services'
``clean_text`` and the back office's ``TextValidator`` all ask ``check_text`` / ``forbidden_char``.

Refused in every text:

* NUL and the other C0 control characters but tab, newline and carriage return; DEL;
* U+FFFD, what invalid UTF-8 decodes to;
* the bidirectional controls (U+061C, U+200E, U+200F, U+202A–U+202E, U+2066–U+2069): they make
  text display in another order than it is stored ("Trojan Source"), so a reason, a note or an
  address could show one thing on screen and another in the export or the contract.

Refused in names in addition (``name=True``: a person's name, a contact's name): the zero-width
characters (U+200B–U+200D, U+2060, U+FEFF). A name with one looks exactly like the name without
it, so two different stored names would print the same on a contract. They stay allowed in other
text, where they have honest uses (U+200D joins emoji sequences, U+200C shapes some scripts).
"""

import re

from django.core.exceptions import ValidationError
from django.utils.deconstruct import deconstructible

from .errors import InvalidInput

_CONTROL = r"\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ufffd"
_BIDI = r"\u061c\u200e\u200f\u202a-\u202e\u2066-\u2069"
_ZERO_WIDTH = r"\u200b-\u200d\u2060\ufeff"

FORBIDDEN_CHARS = re.compile(f"[{_CONTROL}{_BIDI}]")
NAME_FORBIDDEN_CHARS = re.compile(f"[{_CONTROL}{_BIDI}{_ZERO_WIDTH}]")

BAD_CHARS_MESSAGE = "包含无效字符。"


def forbidden_char(value: str, *, name: bool = False) -> str | None:
    """The first character ``value`` may not carry, or None."""
    match = (NAME_FORBIDDEN_CHARS if name else FORBIDDEN_CHARS).search(value)
    return match.group() if match else None


class TextRefused(ValueError):
    """Why ``check_text`` refused a value: ``message`` (Chinese, shown as is) and ``code``."""

    def __init__(self, message: str, code: str):
        super().__init__(message)
        self.message = message
        self.code = code


def check_text(value, *, label: str, max_length: int | None = None, required: bool = True, name: bool = False) -> str:
    """
    ``value`` stripped, if it is text, present when ``required``, at most ``max_length`` characters
    and free of the characters above; else ``TextRefused`` with a message that names ``label``.
    """
    if value is None:
        value = ""
    if not isinstance(value, str):
        raise TextRefused(f"{label}应为文本。", "invalid")
    value = value.strip()
    if required and not value:
        raise TextRefused(f"请填写{label}。", "required")
    if max_length is not None and len(value) > max_length:
        raise TextRefused(f"{label}不能超过 {max_length} 个字符。", "max_length")
    if forbidden_char(value, name=name) is not None:
        raise TextRefused(f"{label}{BAD_CHARS_MESSAGE}", "bad_chars")
    return value


def clean_text(
    value, *, field: str, label: str, max_length: int | None = None, required: bool = True, name: bool = False
) -> str:
    """``check_text`` for a service: a refusal is ``InvalidInput`` with ``errors[field]``."""
    try:
        return check_text(value, label=label, max_length=max_length, required=required, name=name)
    except TextRefused as refused:
        raise InvalidInput(errors={field: [refused.message]}) from None


@deconstructible
class TextValidator:
    """
    The characters half of the check, as a Django validator for form fields (which check
    ``required`` and ``max_length`` themselves, with their own messages).
    """

    def __init__(self, *, name: bool = False, message: str = BAD_CHARS_MESSAGE):
        self.name = name
        self.message = message

    def __call__(self, value) -> None:
        if isinstance(value, str) and forbidden_char(value, name=self.name) is not None:
            raise ValidationError(self.message, code="bad_chars")

    def __eq__(self, other) -> bool:
        return isinstance(other, TextValidator) and (self.name, self.message) == (other.name, other.message)

    def __hash__(self) -> int:
        return hash((self.name, self.message))


validate_text = TextValidator()
validate_name = TextValidator(name=True)
