"""
The API's exception handler: every error under ``/api`` leaves through here.

It turns whatever Django, DRF or our domain code raised into SPEC §3's
envelope ``{"status", "msg", "data", "error_code"}`` with the honest HTTP
status. Unhandled exceptions are logged with their traceback and answered
with 50000 and a generic message: nothing internal reaches the client.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.serializers import as_serializer_error

from .errors import CODE_HTTP, ApiError, Code

logger = logging.getLogger("shanqian.api")

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


def _error_paths(detail):
    """
    DRF reports failing list items as ``{index: errors}``; SPEC §3 wants the
    array shape ``[{}, {"school": [...]}]`` so the client can line errors up with items.
    """
    if isinstance(detail, dict):
        if detail and all(isinstance(key, int) for key in detail):
            items = [{} for _ in range(max(detail) + 1)]
            for index, errors in detail.items():
                items[index] = _error_paths(errors)
            return items
        return {key: _error_paths(value) for key, value in detail.items()}
    if isinstance(detail, list):
        return [_error_paths(item) for item in detail]
    return detail


def _as_api_error(exc: Exception) -> ApiError | None:
    """Map a framework exception onto our codes; None when it is unexpected."""
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, (Http404, drf.NotFound)):
        return ApiError(code=Code.NOT_FOUND)
    if isinstance(exc, DjangoValidationError):
        return ApiError(data={"errors": as_serializer_error(exc)}, code=Code.INVALID)
    if isinstance(exc, drf.ValidationError):
        detail = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
        return ApiError(data={"errors": _error_paths(detail)}, code=Code.INVALID)
    if isinstance(exc, drf.ParseError):
        return ApiError("请求体格式错误，无法解析", code=Code.INVALID)
    if isinstance(exc, (drf.NotAuthenticated, drf.AuthenticationFailed)):
        return ApiError(code=Code.UNAUTHENTICATED)
    if isinstance(exc, (drf.PermissionDenied, DjangoPermissionDenied)):
        return ApiError(code=Code.FORBIDDEN)
    if isinstance(exc, drf.MethodNotAllowed):
        return ApiError(code=Code.METHOD_NOT_ALLOWED)
    if isinstance(exc, drf.UnsupportedMediaType):
        return ApiError("不支持的内容类型，请使用 JSON、表单或 multipart 格式", code=Code.UNSUPPORTED_MEDIA)
    if isinstance(exc, drf.NotAcceptable):
        return ApiError("无法按要求的格式返回，请接受 application/json", code=Code.INVALID)
    if isinstance(exc, drf.Throttled):
        retry_after = max(1, int(exc.wait or 1))
        return ApiError(data={"retry_after": retry_after}, code=Code.RATE_LIMITED)
    if isinstance(exc, RequestDataTooBig):
        return ApiError(code=Code.TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        return ApiError("提交的字段过多", code=Code.TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return ApiError("请求无效", code=Code.INVALID)
    return None


def api_error_response(exc: Exception, *, log_context: str = "") -> JsonResponse:
    error = _as_api_error(exc)
    if error is None:
        logger.exception("Unhandled error %s", log_context, exc_info=exc)
        return error_response(Code.INTERNAL)
    headers = {}
    if error.code == Code.RATE_LIMITED:
        headers["Retry-After"] = str(error.data["retry_after"])
    return error_response(error.code, error.msg, error.data, headers)


def exception_handler(exc, context):
    """DRF's EXCEPTION_HANDLER. Returns a finished envelope response for every exception."""
    view = context.get("view")
    request = context.get("request")
    where = f"in {type(view).__name__} {getattr(request, 'method', '')} {getattr(request, 'path', '')}"
    response = api_error_response(exc, log_context=where)
    # DRF rolls back the atomic block itself only when a response comes back.
    from rest_framework.views import set_rollback

    set_rollback()
    return response
