"""
Issue 15, finding 1: no input reaches a RecursionError, and an error log record is bounded.

Deep bracket keys (form and multipart) and deep JSON are 400/40000 with a Chinese message,
before anything walks the data; the log stays quiet for them, and any record (traceback
included) is cut to LOG_MAX_RECORD_CHARS.
"""

import json
import logging
import sys

import pytest

from shanqian.logs import BoundedFormatter
from shanqian.parsers import MAX_FORM_DEPTH, MAX_JSON_DEPTH, json_depth, nest_form
from tests.envelope import assert_error

pytestmark = pytest.mark.django_db

DEEP_KEY = "a" + "[0]" * 600


def test_a_form_key_600_brackets_deep_is_a_400_not_a_recursion(api, caplog):
    """Finding 1: the reported curl (600 × "[0]" against /api/verifycode) answered 500/50000."""
    response = api.generic("POST", "/api/verifycode", f"{DEEP_KEY}=1", content_type="application/x-www-form-urlencoded")

    assert_error(response, 400, 40000)
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]


def test_bracket_nesting_is_capped_at_a_handful_of_levels(api):
    """Finding 1: the resume needs two levels; more than MAX_FORM_DEPTH is refused."""
    ok = "x" + "[a]" * MAX_FORM_DEPTH
    too_deep = "x" + "[a]" * (MAX_FORM_DEPTH + 1)

    assert nest_form_of(f"{ok}=1")["x"]["a"]
    response = api.generic("POST", "/api/verifycode", f"{too_deep}=1", content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, 40000)


def nest_form_of(body: str) -> dict:
    from django.http import QueryDict

    return nest_form(QueryDict(body))


def test_a_deep_multipart_key_is_a_400(api):
    """Finding 1: multipart goes through the same nesting."""
    body = (f'--xyz\r\nContent-Disposition: form-data; name="{DEEP_KEY}"\r\n\r\n1\r\n--xyz--\r\n').encode()
    response = api.generic("POST", "/api/verifycode", body, content_type="multipart/form-data; boundary=xyz")

    assert_error(response, 400, 40000)


@pytest.mark.parametrize("depth", [MAX_JSON_DEPTH + 1, 900, sys.getrecursionlimit() * 3])
def test_deep_json_is_a_400_at_any_depth(api, depth):
    """Finding 1: JSON just under the interpreter's limit used to parse and then recurse elsewhere."""
    body = b"[" * depth + b"]" * depth

    response = api.generic("POST", "/api/verifycode", body, content_type="application/json")

    assert_error(response, 400, 40000)


def test_json_depth_skips_brackets_inside_strings():
    text = json.dumps({"a": "[[[[[[[[[[" * 20, "b": [[1]]}).encode()

    assert json_depth(text) == 3


def test_an_error_record_with_a_huge_traceback_is_bounded(settings):
    """Finding 1: one 1.8 KB request wrote ~156 KB of traceback; a record is now LOG_MAX_RECORD_CHARS at most."""
    settings.LOG_MAX_RECORD_CHARS = 4000

    def recurse(n):
        return recurse(n + 1)

    try:
        recurse(0)
    except RecursionError:
        record = logging.LogRecord("x", logging.ERROR, __file__, 1, "boom %s", ("x" * 50_000,), sys.exc_info())
    text = BoundedFormatter("%(message)s").format(record)

    assert len(text) <= 4100
    assert text.startswith("boom xxx") and "RecursionError" in text and "characters cut" in text
