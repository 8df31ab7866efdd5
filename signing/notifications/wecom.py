"""
企业微信 group robots (群机器人): ``POST https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=KEY``
with ``{"msgtype": "markdown", "markdown": {"content": "…"}}`` (content ≤ 4096 bytes of UTF-8;
a robot takes at most 20 messages a minute) → ``{"errcode": 0, "errmsg": "ok"}``.

Only that host and path are accepted for a robot URL (``clean_robot_url``), so staff cannot point
the server anywhere else. Answers: 0 → sent; 45009 (frequency limit) and -1 (busy), network
errors, timeouts → ``Retry``; 93000 (invalid key: the robot was removed) and other errcodes →
``Fail``. The key is a credential: it is never logged (errors name the robot by id).
"""

from __future__ import annotations

import logging
import re
from urllib.parse import parse_qs, urlsplit

import requests
from django.conf import settings

from shanqian.outbox import Fail, Retry

logger = logging.getLogger("signing.notifications")

HOST = "qyapi.weixin.qq.com"
PATH = "/cgi-bin/webhook/send"
KEY_PATTERN = re.compile(r"^[A-Za-z0-9-]{8,64}$")
MAX_CONTENT_BYTES = 4096
RETRYABLE = {-1, 45009}
ERRORS = {93000: "机器人 key 无效（机器人可能已被移出群聊）", 40008: "消息类型无效", 44004: "消息内容为空"}


class WecomUrlError(ValueError):
    pass


def clean_robot_url(url: str) -> str:
    url = (url or "").strip()
    parts = urlsplit(url)
    keys = parse_qs(parts.query).get("key", [])
    if parts.scheme != "https" or parts.hostname != HOST or parts.path != PATH or parts.port not in (None, 443):
        raise WecomUrlError(f"请填写企业微信群机器人的 Webhook 地址（https://{HOST}{PATH}?key=…）。")
    if len(keys) != 1 or not KEY_PATTERN.match(keys[0]):
        raise WecomUrlError("Webhook 地址中的 key 无效。")
    return f"https://{HOST}{PATH}?key={keys[0]}"


def fit(content: str) -> str:
    data = content.encode("utf-8")
    if len(data) <= MAX_CONTENT_BYTES:
        return content
    return data[: MAX_CONTENT_BYTES - 3].decode("utf-8", errors="ignore") + "…"


def send_markdown(*, robot_id: int, url: str, content: str) -> int:
    """Post one markdown message; returns the HTTP status, raises ``Retry`` / ``Fail``."""
    body = {"msgtype": "markdown", "markdown": {"content": fit(content)}}
    try:
        response = requests.post(clean_robot_url(url), json=body, timeout=settings.WECOM_TIMEOUT)
    except WecomUrlError as exc:
        raise Fail(str(exc)) from None
    except requests.RequestException as exc:
        # The class only: the URL carries the robot's key.
        logger.warning("WeCom robot #%s unreachable: %s", robot_id, type(exc).__name__)
        raise Retry(f"企业微信不可达（{type(exc).__name__}）") from None
    try:
        answer = response.json()
    except ValueError:
        raise Retry(
            f"企业微信返回了非 JSON（HTTP {response.status_code}）", response_code=response.status_code
        ) from None
    errcode = answer.get("errcode") if isinstance(answer, dict) else None
    if errcode == 0:
        return response.status_code
    errmsg = str(answer.get("errmsg", ""))[:120] if isinstance(answer, dict) else ""
    if errcode in RETRYABLE:
        raise Retry(f"企业微信繁忙或限流（{errcode}）：{errmsg}", response_code=response.status_code)
    raise Fail(
        f"{ERRORS.get(errcode, '企业微信拒绝了消息')}（{errcode}）：{errmsg}", response_code=response.status_code
    )
