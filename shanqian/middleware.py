"""
Client-header middleware for ``/api`` (SPEC §3).

* ``X-platform-code`` is required on every ``/api`` request but the schema and
  docs: missing → 400/40001, unknown or disabled → 403/40301. The platform is
  attached as ``request.platform``.
* ``X-location``, ``X-city``, the client IP and user agent are parsed into
  ``request.client`` (see ``shanqian.client``) for audit events.
* Bodies larger than ``API_MAX_BODY_BYTES`` are refused (413) before they are read.
* Every ``/api`` response is ``Cache-Control: no-store``: most carry personal data.
"""

import re

from django.conf import settings

from .client import client_context
from .envelope import NO_STORE, error_response
from .errors import Code
from .exceptions import api_error_response
from .platforms import get_enabled_platform

API_PREFIX = "/api/"
_PLATFORM_EXEMPT = re.compile(r"^/api/(schema|docs)/?$")
_PLATFORM_CODE = re.compile(r"^[A-Za-z0-9_-]{1,32}$")


class ApiClientMiddleware:
    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        if not (request.path_info + "/").startswith(API_PREFIX):
            return self.get_response(request)
        request.client = client_context(request)
        refusal = self._refuse(request)
        response = refusal or self.get_response(request)
        response["Cache-Control"] = NO_STORE
        return response

    def _refuse(self, request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            return error_response(Code.INVALID, "Content-Length 无效")
        if length > settings.API_MAX_BODY_BYTES:
            return error_response(Code.TOO_LARGE)
        if _PLATFORM_EXEMPT.match(request.path_info):
            request.platform = None
            return None
        code = request.META.get("HTTP_X_PLATFORM_CODE", "").strip()
        if not code:
            return error_response(Code.PLATFORM_MISSING)
        platform = get_enabled_platform(code) if _PLATFORM_CODE.match(code) else None
        if platform is None:
            return error_response(Code.PLATFORM_UNKNOWN)
        request.platform = platform
        return None

    def process_exception(self, request, exception):
        """Exceptions from plain Django views under /api still leave in the envelope."""
        if (request.path_info + "/").startswith(API_PREFIX):
            return api_error_response(exception, log_context=f"{request.method} {request.path}")
        return None
