"""
The last line of defence for SPEC §13's rule "no phone, ID number, name, token or bearer link in
any log line": ``RedactingFormatter`` formats a record as usual (message, traceback and all) and
then masks what can be recognised in the finished text —

* mainland mobile numbers ``1[3-9]xxxxxxxxx`` → ``138****0000``;
* 18-character ID numbers → ``110105********0010``;
* bearer links: ``/files/<token>`` → ``/files/[已隐去]``, and the signature of presigned S3 URLs;
* ``X-auth-token``/``session_token`` values and ``Authorization`` headers.

Names cannot be recognised in free text, so the code must not log them; tests grep a full flow's
log for every personal value it used (tests/test_privacy_logs.py). ``settings.LOGGING`` uses this
formatter for every handler, runserver's request log (``django.server``) included, whose lines
carry the admin search's query string.
"""

from __future__ import annotations

import re

from .logs import BoundedFormatter

HIDDEN = "[已隐去]"

_RULES: list[tuple[re.Pattern, object]] = [
    (re.compile(r"(/files/)[A-Za-z0-9_:.\-]+"), rf"\1{HIDDEN}"),
    (re.compile(r"(?i)(X-Amz-(?:Signature|Credential|Security-Token)=)[^&\s\"']+"), rf"\1{HIDDEN}"),
    (
        re.compile(r"(?i)((?:x-auth-token|session_token|authorization)[\"']?\s*[:=]\s*[\"']?)[^\s\"',&}]+"),
        rf"\1{HIDDEN}",
    ),
    (re.compile(r"(?<![0-9A-Za-z])(\d{6})\d{8}(\d{3}[\dXx])(?![0-9A-Za-z])"), r"\1********\2"),
    (re.compile(r"(?<!\d)(1[3-9]\d)\d{4}(\d{4})(?!\d)"), r"\1****\2"),
]


def redact(text: str) -> str:
    for pattern, replacement in _RULES:
        text = pattern.sub(replacement, text)
    return text


class RedactingFormatter(BoundedFormatter):
    """``shanqian.logs.BoundedFormatter``'s line, then masked."""

    def format(self, record) -> str:
        return redact(super().format(record))
