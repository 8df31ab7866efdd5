"""
Brute-force protection of the back-office login (issue 15, finding 5), with django-axes.

* Failures are counted **per username and, separately, per client IP** (``AXES_LOCKOUT_PARAMETERS``)
  in the database (``AxesDatabaseHandler``), so every app instance sees the same count and a
  Redis outage does not open the login. After ``ADMIN_LOGIN_FAILURE_LIMIT`` failures within
  ``ADMIN_LOGIN_COOLOFF_MINUTES`` the username (or IP) is locked for that long, even with the
  right password: 429 and a Chinese page.
* Staff unlock in the back office: 登录失败记录 (axes' *access attempts*) → delete the rows of the
  username or IP (permission ``axes.delete_accessattempt``), or ``manage.py axes_reset_username``.
* The client IP is ``shanqian.client.client_ip`` (``TRUSTED_PROXY_COUNT``), the same rule as the
  API's throttles: a client cannot pick its own IP with ``X-Forwarded-For``.
* ``authenticate()`` without a request (management commands, the test client's ``login()``) is no
  HTTP login: there is nothing to count or lock, so the guard steps aside for it.
"""

from axes.backends import AxesStandaloneBackend
from django.conf import settings
from django.http import HttpResponse
from django.utils.html import escape

from .client import client_ip

LOCKED_MESSAGE = "登录失败次数过多，账号或当前网络已被暂时锁定，请 {minutes} 分钟后再试，或联系管理员解锁。"


class LockoutBackend(AxesStandaloneBackend):
    def authenticate(self, request, username=None, password=None, **kwargs):
        if request is None:
            return None
        return super().authenticate(request, username=username, password=password, **kwargs)


def lockout_message() -> str:
    return LOCKED_MESSAGE.format(minutes=settings.ADMIN_LOGIN_COOLOFF_MINUTES)


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    message = escape(lockout_message())
    response = HttpResponse(
        "<!doctype html><html lang=zh-hans><meta charset=utf-8><title>登录已锁定</title>"
        f"<h1>登录已锁定</h1><p>{message}</p><p><a href=/admin/login/>返回登录页</a></p></html>",
        status=429,
        content_type="text/html; charset=utf-8",
    )
    response["Retry-After"] = str(settings.ADMIN_LOGIN_COOLOFF_MINUTES * 60)
    response["Cache-Control"] = "no-store"
    return response


def axes_client_ip(request) -> str | None:
    # None (no address: force_login's bare request) is stored as NULL; a made-up string would not be an IP.
    return client_ip(request)
