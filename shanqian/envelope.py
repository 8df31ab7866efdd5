"""
SPEC §3's envelope ``{"status", "msg", "data", "error_code"}``: its shape, and an error envelope as
a plain Django response. The success renderer (``shanqian.renderers``) and the exception handler
(``shanqian.exceptions``) both build on it; it imports nothing of DRF's views, so the renderer that
DRF's settings load does not depend on the handler that loads DRF's views.
"""

from django.http import JsonResponse

from .errors import CODE_HTTP, Code

NO_STORE = "no-store"


def envelope(code: Code, msg: str, data=None) -> dict:
    return {"status": int(code), "msg": msg, "data": data, "error_code": int(code)}


def error_response(code: Code, msg: str | None = None, data=None, headers: dict | None = None) -> JsonResponse:
    """An error envelope as a plain Django response, for code that runs outside DRF views."""
    http_status, default = CODE_HTTP[code]
    response = JsonResponse(
        envelope(code, msg or default, data),
        status=http_status,
        json_dumps_params={"ensure_ascii": False, "separators": (",", ":")},
    )
    response["Cache-Control"] = NO_STORE
    for name, value in (headers or {}).items():
        response[name] = value
    return response
