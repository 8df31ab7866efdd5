"""
WeChat server API calls that need the access token: the shared ``stable_token`` and subscribe
messages (PROTOCOLS.md "access_token", "WeChat subscribe messages").

**The access token** (``access_token(platform)``): ``POST {WECHAT_API_BASE}/cgi-bin/stable_token``
in normal mode, cached in the shared cache under the AppID for ``expires_in − 300`` seconds, so
every instance and worker uses one token. A miss is refreshed under a lock (``cache.add``): one
process asks WeChat, the others wait briefly for its answer (and ask themselves if it takes too
long — normal mode hands out the same token, so that is safe). When WeChat answers 40001 for a
token, ``access_token(platform, rejected=token)`` drops it and asks again in normal mode; only if
WeChat hands back the very token it just refused is ``force_refresh`` used (WeChat allows that 20
times a day, and it invalidates the token everywhere).

**Subscribe messages** (``send_subscribe_message``): ``POST
/cgi-bin/message/subscribe/send?access_token=…`` with ``touser``, ``template_id``, ``page``,
``data``, ``miniprogram_state`` and ``lang``. Answers:

=========================  ==================================================================
errcode                    raised
=========================  ==================================================================
0                          nothing (sent)
40001 (invalid token)      refreshed once and retried; a second 40001 → ``WechatUnavailable``
43101 (refused / used up)  ``SubscribeRefused`` — the user's acceptance is gone: send an SMS
40003 (bad openid)         ``SubscribeRejected`` (permanent): retrying cannot help
40037 (bad template id)    ``SubscribeRejected`` (permanent; a back-office template is wrong)
47003 (a value breaks the  ``SubscribeRejected`` (permanent; errmsg names the field)
template's rules)
41030 (bad page)           ``SubscribeRejected`` (permanent)
-1 (busy), 45009/45011     ``WechatUnavailable`` (temporary: retry later)
(quota), network, timeout,
non-JSON, cache down
anything else              ``WechatUnavailable`` with the errcode (retried, then given up)
=========================  ==================================================================

``stable_token`` errors (-1 busy, 45009 quota, 40013/40125/41004 bad AppID/AppSecret, 40164 /
89503 caller IP not allowed…) are ``WechatUnavailable`` with the errcode and a Chinese hint: the
work is retried, so fixing the platform's credentials in the back office un-sticks it.

``WECHAT_BACKEND=fake`` never talks to WeChat: subscribe messages are logged (user id and
template only) and count as sent. The AppSecret and the token are never logged: the token
travels in the URL, so request errors are logged by class only.
"""

from __future__ import annotations

import logging
import secrets
import time
from dataclasses import dataclass

import requests
from django.conf import settings
from django.core.cache import cache

from shanqian.models import Platform

from .wechat import fake_refused_reason

logger = logging.getLogger("employees.wechat")

STABLE_TOKEN_PATH = "/cgi-bin/stable_token"
SUBSCRIBE_SEND_PATH = "/cgi-bin/message/subscribe/send"
TOKEN_KEY = "wechat:stable-token:{appid}"
LOCK_KEY = "wechat:stable-token-lock:{appid}"
LOCK_SECONDS = 10
LOCK_WAIT_SECONDS = 3.0
TOKEN_EARLY_EXPIRY = 300

INVALID_TOKEN = 40001
REFUSED = 43101
PERMANENT = {
    40003: "openid 无效",
    40037: "订阅模板 ID 无效",
    47003: "模板参数不符合规则",
    41030: "跳转页面 page 无效",
}
TOKEN_HINTS = {
    -1: "微信系统繁忙",
    45009: "今日接口调用次数已达上限",
    45011: "接口调用过于频繁",
    40013: "AppID 无效",
    40125: "AppSecret 无效",
    41002: "缺少 AppID",
    41004: "缺少 AppSecret",
    40164: "调用 IP 不在小程序的 IP 白名单内",
    89503: "调用 IP 需小程序管理员确认",
    40243: "AppSecret 已被冻结",
}


class WechatApiError(Exception):
    def __init__(self, message: str, *, errcode: int | None = None):
        super().__init__(message)
        self.message = message
        self.errcode = errcode


class WechatUnavailable(WechatApiError):
    """Temporary: WeChat busy or unreachable, the token unobtainable, the shared cache down."""


class SubscribeRejected(WechatApiError):
    """Permanent: this message can never be sent as it is (bad openid, template, page or value)."""


class SubscribeRefused(SubscribeRejected):
    """43101: the user refused, or their one-time acceptance is used up."""


# --- the access token -------------------------------------------------------------------------------


def _cache_call(method: str, *args, **kwargs):
    try:
        return getattr(cache, method)(*args, **kwargs)
    except Exception as exc:  # redis-py's ConnectionError/TimeoutError, socket errors
        logger.warning("shared cache unavailable for the WeChat token: %s", type(exc).__name__)
        raise WechatUnavailable("共享缓存不可用，无法取得微信 access_token") from None


def _post_json(path: str, body: dict, *, params: dict | None = None) -> dict:
    url = settings.WECHAT_API_BASE.rstrip("/") + path
    try:
        response = requests.post(url, params=params, json=body, timeout=settings.WECHAT_TIMEOUT)
    except requests.RequestException as exc:
        # Only the class: the URL carries the access token.
        logger.warning("WeChat %s failed: %s", path, type(exc).__name__)
        raise WechatUnavailable(f"微信接口不可达（{type(exc).__name__}）") from None
    try:
        answer = response.json()
    except ValueError:
        logger.warning("WeChat %s answered non-JSON (HTTP %s)", path, response.status_code)
        raise WechatUnavailable(f"微信接口返回了非 JSON（HTTP {response.status_code}）") from None
    if not isinstance(answer, dict):
        raise WechatUnavailable("微信接口返回格式异常")
    return answer


def _fetch_stable_token(platform: Platform, *, force_refresh: bool) -> tuple[str, int]:
    if not platform.wechat_appid or not platform.wechat_secret:
        raise WechatUnavailable(f"平台 {platform.code} 未配置小程序 AppID/AppSecret")
    answer = _post_json(
        STABLE_TOKEN_PATH,
        {
            "grant_type": "client_credential",
            "appid": platform.wechat_appid,
            "secret": platform.wechat_secret,
            "force_refresh": force_refresh,
        },
    )
    errcode = answer.get("errcode") or 0
    token, expires_in = answer.get("access_token"), answer.get("expires_in")
    if errcode == 0 and isinstance(token, str) and token and isinstance(expires_in, int):
        return token, expires_in
    hint = TOKEN_HINTS.get(errcode, "未知错误")
    logger.warning("WeChat stable_token errcode=%s for platform %s", errcode, platform.code)
    raise WechatUnavailable(f"获取微信 access_token 失败：{hint}（{errcode}）", errcode=errcode or None)


def _store(platform: Platform, token: str, expires_in: int) -> None:
    ttl = max(60, expires_in - TOKEN_EARLY_EXPIRY)
    _cache_call("set", TOKEN_KEY.format(appid=platform.wechat_appid), token, ttl)


def access_token(platform: Platform, *, rejected: str | None = None) -> str:
    """The platform's current access token, shared by every process (see the module docstring)."""
    key = TOKEN_KEY.format(appid=platform.wechat_appid)
    if rejected is None:
        token = _cache_call("get", key)
        if token:
            return token
    else:
        _cache_call("delete", key)
    lock = LOCK_KEY.format(appid=platform.wechat_appid)
    owner = secrets.token_hex(8)
    if not _cache_call("add", lock, owner, LOCK_SECONDS):
        deadline = time.monotonic() + LOCK_WAIT_SECONDS
        while time.monotonic() < deadline:
            time.sleep(0.1)
            token = _cache_call("get", key)
            if token and token != rejected:
                return token
        # The holder is slow or died: normal mode is safe to call concurrently.
    try:
        token, expires_in = _fetch_stable_token(platform, force_refresh=False)
        if rejected is not None and token == rejected:
            token, expires_in = _fetch_stable_token(platform, force_refresh=True)
        _store(platform, token, expires_in)
        return token
    finally:
        if _cache_call("get", lock) == owner:
            _cache_call("delete", lock)


# --- subscribe messages -------------------------------------------------------------------------------


@dataclass(frozen=True)
class SubscribeMessage:
    openid: str
    template_id: str
    page: str
    data: dict[str, str]  # key → value, already within WeChat's limits
    miniprogram_state: str = "formal"
    lang: str = "zh_CN"

    def body(self) -> dict:
        body = {
            "touser": self.openid,
            "template_id": self.template_id,
            "data": {key: {"value": value} for key, value in self.data.items()},
            "miniprogram_state": self.miniprogram_state,
            "lang": self.lang,
        }
        if self.page:
            body["page"] = self.page
        return body


def _raise_for(answer: dict) -> None:
    errcode = answer.get("errcode") or 0
    if errcode == 0:
        return
    errmsg = str(answer.get("errmsg", ""))[:120]
    if errcode == REFUSED:
        raise SubscribeRefused("用户拒收订阅消息或一次性订阅次数已用完（43101）", errcode=errcode)
    if errcode in PERMANENT:
        raise SubscribeRejected(f"{PERMANENT[errcode]}（{errcode}）：{errmsg}", errcode=errcode)
    raise WechatUnavailable(f"微信订阅消息发送失败（{errcode}）：{errmsg}", errcode=errcode)


class HttpSubscribeClient:
    def send(self, *, platform: Platform, message: SubscribeMessage) -> None:
        token = access_token(platform)
        answer = _post_json(SUBSCRIBE_SEND_PATH, message.body(), params={"access_token": token})
        if (answer.get("errcode") or 0) == INVALID_TOKEN:
            token = access_token(platform, rejected=token)
            answer = _post_json(SUBSCRIBE_SEND_PATH, message.body(), params={"access_token": token})
            if (answer.get("errcode") or 0) == INVALID_TOKEN:
                raise WechatUnavailable("微信 access_token 刷新后仍无效（40001）", errcode=INVALID_TOKEN)
        _raise_for(answer)


class FakeSubscribeClient:
    """Development stand-in (``WECHAT_BACKEND=fake``): logs the template, sends nothing."""

    def send(self, *, platform: Platform, message: SubscribeMessage) -> None:
        logger.info("WeChat subscribe message (fake) on %s: template %s", platform.code, message.template_id)


def send_subscribe_message(*, platform: Platform, message: SubscribeMessage) -> None:
    """Send one subscribe message; raises ``SubscribeRefused``, ``SubscribeRejected`` or ``WechatUnavailable``."""
    reason = fake_refused_reason()
    if reason:
        raise WechatUnavailable(reason)
    client = FakeSubscribeClient() if settings.WECHAT_BACKEND == "fake" else HttpSubscribeClient()
    client.send(platform=platform, message=message)
