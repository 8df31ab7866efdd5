"""
Issue 15, finding 8: the access log held full phones and ID numbers from admin search URLs and
live ``/files/`` bearer links. gunicorn's access log (``shanqian.gunicorn_conf``) now logs the
method, the path without its query and a redacted ``/files/`` token; the referer the same way;
token, cookie and authorization headers never.
"""

import datetime
import io
import logging
from types import SimpleNamespace

from gunicorn.config import Config

from shanqian import gunicorn_conf

PHONE = "13800138000"
ID_NUMBER = "11010519491231002X"
BEARER = "eyJmIjoidXBsb2Fkcy9hYmMuanBnIn0:1vabcd:signature-part"


def _access_line(path: str, query: str, *, referer: str = "-", fmt: str | None = None) -> str:
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", fmt or gunicorn_conf.access_log_format)
    logger = gunicorn_conf.RedactingLogger(cfg)
    stream = io.StringIO()
    logger.access_log.handlers = [logging.StreamHandler(stream)]
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"{path}?{query}" if query else path,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.7",
        "HTTP_REFERER": referer,
        "HTTP_USER_AGENT": "Mozilla/5.0",
        "HTTP_X_AUTH_TOKEN": "raw-session-token-value",
    }
    response = SimpleNamespace(status="200 OK", sent=123, headers=[("X-Request-ID", "rid-12345678")])
    request = SimpleNamespace(headers=[("X-AUTH-TOKEN", "raw-session-token-value"), ("COOKIE", "sessionid=abc")])
    logger.access(response, request, environ, datetime.timedelta(milliseconds=12))
    return stream.getvalue()


def test_an_admin_search_for_a_phone_or_id_number_leaves_no_trace_in_the_access_log():
    """Finding 8: ``/admin/…/?q=13800138000`` was logged as is."""
    line = _access_line("/admin/signing/signapplication/", f"q={PHONE}&status__exact=1")
    line += _access_line("/admin/employees/employee/", f"q={ID_NUMBER}")

    assert PHONE not in line and ID_NUMBER not in line
    assert '"GET /admin/signing/signapplication/ HTTP/1.1" 200' in line
    assert "rid=rid-12345678" in line


def test_a_bearer_link_is_redacted_in_the_path_and_the_referer():
    """Finding 8: live ``/files/`` links were in the log, usable by whoever reads it."""
    line = _access_line(f"/files/{BEARER}", "download=1", referer=f"https://hr.example.com/files/{BEARER}?x={PHONE}")

    assert BEARER not in line and PHONE not in line
    assert "/files/[redacted]" in line and "https://hr.example.com/files/[redacted]" in line


def test_a_format_naming_secret_headers_prints_dashes():
    """Finding 8: even an operator's custom format cannot log the token, cookie or raw environ."""
    fmt = '%({x-auth-token}i)s %({cookie}i)s %({http_x_auth_token}e)s %({query_string}e)s "%(r)s"'
    line = _access_line("/api/employee", f"phone={PHONE}", fmt=fmt)

    assert "raw-session-token-value" not in line and "sessionid" not in line and PHONE not in line
    assert line.startswith("- - - -")
