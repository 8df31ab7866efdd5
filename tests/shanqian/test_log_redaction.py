"""The log formatter masks what it can recognise: phones, ID numbers, bearer links, tokens."""

import logging
import sys

import pytest

from shanqian.log_redaction import RedactingFormatter, redact


@pytest.mark.parametrize(
    ("line", "kept", "gone"),
    [
        ("SMS to 13812345678 sent", "138****5678", "13812345678"),
        ("id 11010519900101001X here", "110105********001X", "11010519900101001X"),
        ('"GET /admin/signing/signapplication/?q=110105199001010010 HTTP/1.1" 200', "110105********0010", "19900101"),
        ("GET /files/eyJuIjoidXBsb2Fkcy9hYi9jZC5qcGcifQ:1v2:abc HTTP/1.1", "/files/[已隐去]", "eyJuIjoi"),
        ("https://s3/b/k.jpg?X-Amz-Signature=deadbeef&X-Amz-Expires=60", "X-Amz-Expires=60", "deadbeef"),
        ("headers X-auth-token: tok_abcdef123456", "X-auth-token: [已隐去]", "tok_abcdef123456"),
        ('{"session_token": "s3cr3t-value"}', "[已隐去]", "s3cr3t-value"),
    ],
)
def test_personal_values_are_masked(line, kept, gone):
    out = redact(line)

    assert kept in out and gone not in out


@pytest.mark.parametrize(
    "line",
    [
        "application 12345 approved by staff 7",
        "sha256 9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08",
        "elapsed 1733212345678 ms",
        "order 123456789012345678901",
    ],
)
def test_other_numbers_are_left_alone(line):
    assert redact(line) == line


def test_the_traceback_is_masked_too():
    formatter = RedactingFormatter("%(message)s")
    try:
        raise ValueError("bad phone 13912345678")
    except ValueError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "failed", None, exc_info=sys.exc_info())

    assert "13912345678" not in formatter.format(record)


def test_the_project_logging_uses_the_redacting_formatter():
    handler = next(h for h in logging.getLogger().handlers if isinstance(h.formatter, RedactingFormatter))
    record = logging.LogRecord("x", logging.INFO, __file__, 1, "to %s", ("13700001111",), None)
    record.request_id = "-"

    assert handler.formatter.format(record).endswith("137****1111")
