"""
Project-level views: the /api catch-all 404, the probes and the landing redirect.

* ``/healthz`` — liveness: the process answers (no dependency is touched, so a database or
  Redis outage never gets a healthy worker restarted).
* ``/readyz`` — readiness: the database and the shared cache both answer → 200
  ``{"ok": true, "database": "ok", "cache": "ok"}``; otherwise 503 with the failing part marked
  ``"unavailable"`` (a load balancer takes the instance out of rotation).
"""

import logging
import sys

from django.core.cache import cache
from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.views import defaults
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt

from .cache import CacheUnavailable
from .envelope import error_response
from .errors import Code
from .faults import outage_response

logger = logging.getLogger("shanqian.faults")


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return error_response(Code.NOT_FOUND, "接口不存在")


@never_cache
def healthz(request):
    return JsonResponse({"ok": True})


def _database_ok() -> bool:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
        return True
    except Exception as exc:  # any failure means "not ready", never a 500
        logger.warning("readyz: database unavailable (%s)", type(exc).__name__)
        connection.close_if_unusable_or_obsolete()
        return False


def _cache_ok() -> bool:
    try:
        return bool(cache.ping()) if hasattr(cache, "ping") else True
    except CacheUnavailable:
        return False


@never_cache
def readyz(request):
    parts = {"database": _database_ok(), "cache": _cache_ok()}
    body = {"ok": all(parts.values()), **{name: "ok" if ok else "unavailable" for name, ok in parts.items()}}
    return JsonResponse(body, status=200 if body["ok"] else 503)


def home(request):
    return HttpResponseRedirect("/api/docs")


def server_error(request, *args, **kwargs):
    # Django calls this inside its ``except`` block, so the exception is at hand: an outage
    # raised in a middleware (platform lookup, session save) is a 503, not a 500.
    busy = outage_response(request, sys.exc_info()[1])
    if busy is not None:
        return busy
    if request.path.startswith("/api"):
        return error_response(Code.INTERNAL)
    return defaults.server_error(request, *args, **kwargs)


def page_not_found(request, exception=None, *args, **kwargs):
    if request.path.startswith("/api"):
        return error_response(Code.NOT_FOUND, "接口不存在")
    return defaults.page_not_found(request, exception, *args, **kwargs)
