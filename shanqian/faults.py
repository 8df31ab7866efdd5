"""
An unavailable dependency is a 503, never a 500 (issue 15, findings 6 and 7; SPEC §3, §8).

What counts as an outage (``is_outage``): the shared cache unreachable (``CacheUnavailable``,
raised by ``shanqian.cache``) and the database gone under a request (Django's
``OperationalError``/``InterfaceError``: a connection killed by ``pg_terminate_backend`` or a
failover, a server that does not answer, a lock wait that timed out). Nothing was written by
the failed request (its transaction is rolled back with the connection), so the honest answer
is "busy, retry": 503/50300 "服务繁忙，请稍后重试".

Three doors, because Django and DRF catch exceptions in different places:

* ``exception_handler`` — DRF's ``EXCEPTION_HANDLER``: database outages in API views become
  ``ServiceBusy`` before the project's envelope handler (``shanqian.exceptions``) sees them;
* ``OutageMiddleware.process_exception`` — plain Django views (the admin, ``/files/``, the
  captcha image): the envelope under ``/api``, a short Chinese page elsewhere;
* ``shanqian.views.server_error`` (``handler500``) — exceptions raised by middleware (the
  platform lookup, the session save) reach Django's 500 handler; it asks ``outage_response``.

A dead connection is closed at the end of the request (Django's ``close_if_unusable_or_obsolete``
with ``CONN_HEALTH_CHECKS``), so the next request reconnects.
"""

import logging

from django.db import InterfaceError, OperationalError
from django.http import HttpResponse

from .cache import BUSY_MESSAGE, CacheUnavailable
from .envelope import error_response
from .errors import Code, UpstreamBusy
from .exceptions import exception_handler as envelope_handler

logger = logging.getLogger("shanqian.faults")


class ServiceBusy(UpstreamBusy):
    def __init__(self, msg: str | None = None):
        super().__init__(msg or BUSY_MESSAGE)


def is_outage(exc: BaseException | None) -> bool:
    return isinstance(exc, (CacheUnavailable, OperationalError, InterfaceError))


def _log(exc: BaseException, where: str) -> None:
    # One short line, no traceback: an outage is expected, and its cause is the class name.
    logger.warning("dependency unavailable (%s) %s: %s", type(exc).__name__, where, str(exc)[:200])


def outage_response(request, exc: BaseException):
    """The 503 for an outage met while serving ``request``; None when ``exc`` is no outage."""
    if not is_outage(exc):
        return None
    _log(exc, f"{request.method} {request.path}")
    if request.path.startswith("/api"):
        return error_response(Code.UPSTREAM_BUSY, BUSY_MESSAGE, headers={"Retry-After": "1"})
    response = HttpResponse(
        f"<!doctype html><meta charset=utf-8><title>{BUSY_MESSAGE}</title><p>{BUSY_MESSAGE}</p>",
        status=503,
        content_type="text/html; charset=utf-8",
    )
    response["Retry-After"] = "1"
    response["Cache-Control"] = "no-store"
    return response


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER: a database outage becomes ServiceBusy, then the envelope handler."""
    if isinstance(exc, (OperationalError, InterfaceError)):
        request = context.get("request")
        _log(exc, f"{getattr(request, 'method', '')} {getattr(request, 'path', '')}")
        exc = ServiceBusy()
    response = envelope_handler(exc, context)
    if response is not None and response.status_code == 503:
        response["Retry-After"] = "1"
    return response


class OutageMiddleware:
    """Innermost middleware: its ``process_exception`` runs first for exceptions from plain views."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        return self.get_response(request)

    def process_exception(self, request, exception):
        return outage_response(request, exception)
