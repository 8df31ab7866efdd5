"""
Domain errors and the status codes of SPEC §3.

App code raises; the envelope is built in one place (``shanqian.exceptions``).
Every error carries the HTTP status, the numeric ``status`` of the envelope and
a Chinese message the mini-program can show as is.
"""

from enum import IntEnum

from rest_framework import status as http
from rest_framework.exceptions import APIException


class Code(IntEnum):
    OK = 0
    INVALID = 40000
    PLATFORM_MISSING = 40001
    UNAUTHENTICATED = 40100
    FORBIDDEN = 40300
    PLATFORM_UNKNOWN = 40301
    CONSENT_REQUIRED = 40302
    NOT_FOUND = 40400
    METHOD_NOT_ALLOWED = 40500
    CONFLICT = 40900
    TOO_LARGE = 41300
    UNSUPPORTED_MEDIA = 41500
    CAPTCHA_INVALID = 42200
    SMS_CODE_INVALID = 42201
    RATE_LIMITED = 42900
    INTERNAL = 50000
    UPSTREAM_FAILED = 50200
    UPSTREAM_BUSY = 50300


# The HTTP status each code travels with, and the default message.
CODE_HTTP = {
    Code.OK: (http.HTTP_200_OK, ""),
    Code.INVALID: (http.HTTP_400_BAD_REQUEST, "提交的数据有误，请检查后重试"),
    Code.PLATFORM_MISSING: (http.HTTP_400_BAD_REQUEST, "缺少平台标识（X-platform-code）"),
    Code.UNAUTHENTICATED: (http.HTTP_401_UNAUTHORIZED, "登录已失效，请重新登录"),
    Code.FORBIDDEN: (http.HTTP_403_FORBIDDEN, "没有权限执行此操作"),
    Code.PLATFORM_UNKNOWN: (http.HTTP_403_FORBIDDEN, "平台不存在或已停用"),
    Code.CONSENT_REQUIRED: (http.HTTP_403_FORBIDDEN, "请先阅读并同意《个人信息处理规则》"),
    Code.NOT_FOUND: (http.HTTP_404_NOT_FOUND, "请求的资源不存在"),
    Code.METHOD_NOT_ALLOWED: (http.HTTP_405_METHOD_NOT_ALLOWED, "不支持该请求方法"),
    Code.CONFLICT: (http.HTTP_409_CONFLICT, "当前状态不允许此操作"),
    Code.TOO_LARGE: (http.HTTP_413_REQUEST_ENTITY_TOO_LARGE, "请求内容或文件过大"),
    Code.UNSUPPORTED_MEDIA: (http.HTTP_415_UNSUPPORTED_MEDIA_TYPE, "不支持的内容类型"),
    Code.CAPTCHA_INVALID: (http.HTTP_422_UNPROCESSABLE_ENTITY, "图形验证码错误或已过期，请重新获取"),
    Code.SMS_CODE_INVALID: (http.HTTP_422_UNPROCESSABLE_ENTITY, "短信验证码错误或已失效"),
    Code.RATE_LIMITED: (http.HTTP_429_TOO_MANY_REQUESTS, "操作过于频繁，请稍后再试"),
    Code.INTERNAL: (http.HTTP_500_INTERNAL_SERVER_ERROR, "服务器开小差了，请稍后再试"),
    Code.UPSTREAM_FAILED: (http.HTTP_502_BAD_GATEWAY, "外部服务调用失败，请稍后再试"),
    Code.UPSTREAM_BUSY: (http.HTTP_503_SERVICE_UNAVAILABLE, "外部服务繁忙，请稍后再试"),
}


class ApiError(APIException):
    """
    Base of every domain error. Subclasses set ``code``; instances may pass a
    more specific Chinese message and extra ``data`` for the envelope.
    """

    code: Code = Code.INVALID

    def __init__(self, msg: str | None = None, *, data=None, code: Code | None = None):
        if code is not None:
            self.code = code
        self.status_code, default = CODE_HTTP[self.code]
        self.msg = msg or default
        self.data = data
        super().__init__(detail=self.msg, code=self.code.name.lower())


def error_text(exc: ApiError) -> str:
    """The Chinese message of a domain error; for field errors, the field messages themselves."""
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors") if isinstance(data.get("errors"), dict) else {}
    details = []
    for messages_ in errors.values():
        details.extend(str(m) for m in (messages_ if isinstance(messages_, list | tuple) else [messages_]))
    return "；".join(details) if details else exc.msg


class InvalidInput(ApiError):
    code = Code.INVALID

    def __init__(self, msg: str | None = None, *, errors: dict | None = None):
        super().__init__(msg, data={"errors": errors} if errors else None)


class NotFound(ApiError):
    code = Code.NOT_FOUND


class Forbidden(ApiError):
    code = Code.FORBIDDEN


class Conflict(ApiError):
    code = Code.CONFLICT


class ConsentRequired(ApiError):
    """The current personal-information consent is missing (SPEC §13)."""

    code = Code.CONSENT_REQUIRED


class CaptchaInvalid(ApiError):
    code = Code.CAPTCHA_INVALID


class SmsCodeInvalid(ApiError):
    code = Code.SMS_CODE_INVALID


class RateLimited(ApiError):
    code = Code.RATE_LIMITED

    def __init__(self, msg: str | None = None, *, retry_after: int):
        self.retry_after = max(1, int(retry_after))
        # ``wait`` is what DRF's exception handler reads to write ``Retry-After``.
        self.wait = self.retry_after
        super().__init__(msg, data={"retry_after": self.retry_after})


class UpstreamFailed(ApiError):
    code = Code.UPSTREAM_FAILED


class UpstreamBusy(ApiError):
    code = Code.UPSTREAM_BUSY
