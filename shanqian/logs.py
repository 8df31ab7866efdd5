"""
Log lines a deployment can keep (issue 15, findings 1 and 8; SPEC §8).

* ``BoundedFormatter`` — every record, traceback included, is at most ``LOG_MAX_RECORD_CHARS``
  characters: the head (where it happened) and the tail (what was raised) are kept, the middle
  is cut with a note. Tracebacks list at most ``_TRACEBACK_FRAMES`` frames. One hostile request
  can no longer write 156 KB of log.
* ``request_id`` — the id of the request being served (``X-Request-ID`` from a trusted front,
  when it is a short token, or a fresh one), set by ``RequestIdMiddleware``, returned in the
  response header, and stamped on every record by ``RequestIdFilter`` (``%(request_id)s``;
  ``-`` outside a request).

Nothing here prints a request's query string, headers or body: personal data (phone, ID
number, token, bearer link) stays out of log lines by not being handed to a logger at all.
"""

import contextvars
import logging
import re
import secrets
import traceback

from django.conf import settings
from django.core.signals import request_finished
from django.dispatch import receiver

_TRACEBACK_FRAMES = 30
_request_id: contextvars.ContextVar[str] = contextvars.ContextVar("request_id", default="-")
_CLIENT_ID = re.compile(r"^[A-Za-z0-9._:-]{8,64}$")
HEADER = "X-Request-ID"


def current_request_id() -> str:
    return _request_id.get()


def bound(text: str, limit: int) -> str:
    """``text`` cut to about ``limit`` characters, keeping its head and tail."""
    if len(text) <= limit:
        return text
    keep = max(limit // 2 - 40, 1)
    cut = len(text) - 2 * keep
    return f"{text[:keep]}\n… [{cut} characters cut] …\n{text[-keep:]}"


class BoundedFormatter(logging.Formatter):
    def formatException(self, ei):
        lines = traceback.format_exception(*ei, limit=-_TRACEBACK_FRAMES)
        return "".join(lines).rstrip("\n")

    def formatStack(self, stack_info):
        return bound(stack_info, 2000)

    def format(self, record):
        limit = getattr(settings, "LOG_MAX_RECORD_CHARS", 8000) if settings.configured else 8000
        return bound(super().format(record), limit)


class RequestIdFilter(logging.Filter):
    """Kept for handlers configured by name; the record factory below already stamps every record."""

    def filter(self, record):
        if not hasattr(record, "request_id"):
            record.request_id = _request_id.get()
        return True


_base_factory = logging.getLogRecordFactory()


def _record_with_request_id(*args, **kwargs):
    record = _base_factory(*args, **kwargs)
    record.request_id = _request_id.get()
    return record


if not getattr(_base_factory, "stamps_request_id", False):
    _record_with_request_id.stamps_request_id = True
    logging.setLogRecordFactory(_record_with_request_id)


class RequestIdMiddleware:
    """Outermost middleware: one id per request, in every log line it causes and in ``X-Request-ID``."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        offered = request.META.get("HTTP_X_REQUEST_ID", "")
        # A client-chosen id is accepted only when it cannot smuggle anything into a log line.
        rid = offered if _CLIENT_ID.fullmatch(offered) else secrets.token_hex(8)
        request.request_id = rid
        # Not reset on the way out: Django logs a 4xx/5xx after the middleware chain returns;
        # ``request_finished`` clears it.
        _request_id.set(rid)
        response = self.get_response(request)
        response[HEADER] = rid
        return response


@receiver(request_finished, dispatch_uid="request_id_clear")
def _clear_request_id(**kwargs):
    _request_id.set("-")
