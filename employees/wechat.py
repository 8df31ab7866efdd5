"""
The WeChat mini-program login gateway (SPEC §4.1, PROTOCOLS.md "code2Session").

One small interface, two backends chosen by ``settings.WECHAT_BACKEND``:

* ``wechat`` — ``GET {WECHAT_API_BASE}/sns/jscode2session`` over ``requests``
  with the platform's appid/secret and ``WECHAT_TIMEOUT``.
* ``fake`` — never talks to WeChat; any code logs in as
  ``fake-<first 16 hex of sha256(code)>`` (same code, same user) and the code
  ``invalid`` fails like WeChat's 40029. Refused unless DEBUG is on.

``code2session`` returns a ``WechatSession`` or raises a domain error:

=================================  ===============================================
WeChat answer                      our answer
=================================  ===============================================
40029 / 40163 (invalid/used code)  40000 ``InvalidInput`` (field ``code``)
45011 (per-user rate limit)        42900 ``RateLimited`` (retry after 60 s)
-1 (system busy)                   50300 ``UpstreamBusy``
40226 (high-risk user blocked)     40300 ``Forbidden`` — WeChat refuses this
                                   account; retrying cannot help, so it is a
                                   refusal, not an upstream failure
anything else, network error,      50200 ``UpstreamFailed``
timeout, non-JSON, no openid
=================================  ===============================================

The app secret and the ``session_key`` are never logged nor returned.
"""

import hashlib
import logging
import secrets
from base64 import b64encode
from dataclasses import dataclass, field
from typing import Protocol

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shanqian.errors import Forbidden, InvalidInput, RateLimited, UpstreamBusy, UpstreamFailed
from shanqian.models import Platform

logger = logging.getLogger("employees.wechat")

CODE2SESSION_PATH = "/sns/jscode2session"
INVALID_CODE_ERRCODES = {40029, 40163}
RATE_LIMIT_ERRCODE = 45011
HIGH_RISK_ERRCODE = 40226
BUSY_ERRCODE = -1
RATE_LIMIT_RETRY_AFTER = 60


@dataclass(frozen=True)
class WechatSession:
    openid: str
    # repr=False: a stray log of the dataclass must not print the key.
    session_key: str = field(repr=False)
    unionid: str = ""


class WechatClient(Protocol):
    def code2session(self, *, platform: Platform, code: str) -> WechatSession: ...


def _invalid_code() -> InvalidInput:
    return InvalidInput("登录凭证 code 无效或已使用，请重新登录", errors={"code": ["登录凭证无效或已使用。"]})


class HttpWechatClient:
    """The real code2Session call."""

    def code2session(self, *, platform: Platform, code: str) -> WechatSession:
        if not platform.wechat_appid or not platform.wechat_secret:
            logger.error("Platform %s has no WeChat appid/secret configured", platform.code)
            raise UpstreamFailed("小程序平台未配置微信登录，请联系管理员")
        params = {
            "appid": platform.wechat_appid,
            "secret": platform.wechat_secret,
            "js_code": code,
            "grant_type": "authorization_code",
        }
        url = settings.WECHAT_API_BASE.rstrip("/") + CODE2SESSION_PATH
        try:
            response = requests.get(url, params=params, timeout=settings.WECHAT_TIMEOUT)
            body = response.json()
        except requests.RequestException as exc:
            # Only the exception class: its text can carry the URL, and the URL carries the secret.
            logger.warning("WeChat code2Session failed: %s", type(exc).__name__)
            raise UpstreamFailed("微信登录服务暂时不可用，请稍后再试") from None
        except ValueError:
            logger.warning("WeChat code2Session answered non-JSON (HTTP %s)", response.status_code)
            raise UpstreamFailed("微信登录服务暂时不可用，请稍后再试") from None
        return _session_from(body, platform=platform)


def _session_from(body, *, platform: Platform) -> WechatSession:
    if not isinstance(body, dict):
        logger.warning("WeChat code2Session answered a non-object JSON")
        raise UpstreamFailed("微信登录服务暂时不可用，请稍后再试")
    errcode = body.get("errcode") or 0
    if errcode == 0:
        openid, session_key = body.get("openid"), body.get("session_key")
        if isinstance(openid, str) and 0 < len(openid) <= 64 and isinstance(session_key, str):
            unionid = body.get("unionid")
            return WechatSession(
                openid=openid,
                session_key=session_key[:128],
                unionid=unionid if isinstance(unionid, str) and len(unionid) <= 64 else "",
            )
        logger.warning("WeChat code2Session answered without a usable openid (platform %s)", platform.code)
        raise UpstreamFailed("微信登录服务返回异常，请稍后再试")
    errmsg = str(body.get("errmsg", ""))[:200]
    logger.info("WeChat code2Session errcode=%s errmsg=%s (platform %s)", errcode, errmsg, platform.code)
    if errcode in INVALID_CODE_ERRCODES:
        raise _invalid_code()
    if errcode == RATE_LIMIT_ERRCODE:
        raise RateLimited("微信登录过于频繁，请稍后再试", retry_after=RATE_LIMIT_RETRY_AFTER)
    if errcode == BUSY_ERRCODE:
        raise UpstreamBusy("微信服务繁忙，请稍后再试")
    if errcode == HIGH_RISK_ERRCODE:
        raise Forbidden("该微信账号存在风险，已被微信限制登录")
    raise UpstreamFailed("微信登录失败，请稍后再试")


class FakeWechatClient:
    """Development stand-in: deterministic openids, no network."""

    def code2session(self, *, platform: Platform, code: str) -> WechatSession:
        if code == "invalid":
            raise _invalid_code()
        digest = hashlib.sha256(code.encode("utf-8")).hexdigest()
        return WechatSession(openid=f"fake-{digest[:16]}", session_key=b64encode(secrets.token_bytes(16)).decode())


BACKENDS = {"wechat": HttpWechatClient, "fake": FakeWechatClient}


def fake_refused_reason() -> str | None:
    """Why the configured backend may not run here, or None (shared with the system check)."""
    backend = settings.WECHAT_BACKEND
    if backend not in BACKENDS:
        return f"WECHAT_BACKEND={backend!r} 无效，可选：{', '.join(BACKENDS)}。"
    if backend == "fake" and not settings.DEBUG:
        return "WECHAT_BACKEND=fake 只能在调试模式（DJANGO_DEBUG=1）下使用：它不校验微信身份，任何人都能冒充任何用户。"
    return None


def get_wechat_client() -> WechatClient:
    reason = fake_refused_reason()
    if reason:
        raise ImproperlyConfigured(reason)
    return BACKENDS[settings.WECHAT_BACKEND]()
