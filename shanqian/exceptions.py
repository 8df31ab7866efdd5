"""
The API's exception handler: every error under ``/api`` leaves through here.

It wraps DRF's own handler: Django's exceptions are converted to API errors, DRF's
``exception_handler`` answers them (``WWW-Authenticate`` on 401, ``Retry-After`` on 429, the
rollback), and the answer leaves as SPEC §3's envelope ``{"status", "msg", "data", "error_code"}``
with the honest HTTP status and those headers. Unhandled exceptions are logged with their
traceback and answered with 50000 and a generic message: nothing internal reaches the client.
"""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation, TooManyFieldsSent
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404, JsonResponse
from rest_framework import exceptions as drf
from rest_framework.serializers import as_serializer_error
from rest_framework.views import exception_handler as drf_exception_handler
from rest_framework.views import set_rollback

from .envelope import error_response
from .errors import ApiError, Code

logger = logging.getLogger("shanqian.api")


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


def _as_drf_exception(exc: Exception) -> Exception:
    """
    The Django exceptions DRF's handler does not know, as the API errors they mean; everything else
    as it came (DRF's handler turns ``Http404`` and Django's ``PermissionDenied`` itself).
    A throttle's wait becomes a whole number of seconds, at least 1, so the ``Retry-After`` DRF
    writes and the envelope's ``retry_after`` are the same number.
    """
    if isinstance(exc, DjangoValidationError):
        return ApiError(data={"errors": as_serializer_error(exc)}, code=Code.INVALID)
    if isinstance(exc, RequestDataTooBig):
        return ApiError(code=Code.TOO_LARGE)
    if isinstance(exc, TooManyFieldsSent):
        return ApiError("提交的字段过多", code=Code.TOO_LARGE)
    if isinstance(exc, SuspiciousOperation):
        return ApiError("请求无效", code=Code.INVALID)
    if isinstance(exc, drf.Throttled):
        exc.wait = max(1, int(exc.wait or 1))
    return exc


def _as_api_error(exc: Exception) -> ApiError | None:
    """Map a (converted) exception onto our codes; None when it is unexpected."""
    exc = _as_drf_exception(exc)
    if isinstance(exc, ApiError):
        return exc
    if isinstance(exc, (Http404, drf.NotFound)):
        return ApiError(code=Code.NOT_FOUND)
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
        return ApiError(data={"retry_after": exc.wait}, code=Code.RATE_LIMITED)
    return None


def _retry_after(error: ApiError) -> dict:
    if error.code == Code.RATE_LIMITED and error.data and "retry_after" in error.data:
        return {"Retry-After": str(error.data["retry_after"])}
    return {}


def api_error_response(exc: Exception, *, log_context: str = "") -> JsonResponse:
    """The envelope for an exception raised outside DRF (plain Django views under /api)."""
    error = _as_api_error(exc)
    if error is None:
        logger.exception("Unhandled error %s", log_context, exc_info=exc)
        return error_response(Code.INTERNAL)
    return error_response(error.code, error.msg, error.data, _retry_after(error))


# What DRF's handler puts on its response that the envelope keeps: the challenge of a 401
# (``X-auth-token``, from the authentication class) and the wait of a 429.
KEPT_HEADERS = ("WWW-Authenticate", "Retry-After")


def exception_handler(exc, context):
    """
    DRF's EXCEPTION_HANDLER, wrapping DRF's own: Django's exceptions are converted, DRF's
    ``exception_handler`` answers (headers, rollback of the atomic block), and its answer leaves
    in the envelope with the headers above. An exception neither knows is logged and answered 50000.
    """
    exc = _as_drf_exception(exc)
    drf_response = drf_exception_handler(exc, context)
    error = _as_api_error(exc) if drf_response is not None else None
    if error is None:
        view = context.get("view")
        request = context.get("request")
        where = f"in {type(view).__name__} {getattr(request, 'method', '')} {getattr(request, 'path', '')}"
        logger.exception("Unhandled error %s", where, exc_info=exc)
        # DRF rolls back the atomic block itself only for the exceptions it answers.
        set_rollback()
        return error_response(Code.INTERNAL)
    headers = {name: drf_response[name] for name in KEPT_HEADERS if drf_response.has_header(name)}
    return error_response(error.code, error.msg, error.data, {**headers, **_retry_after(error)})
