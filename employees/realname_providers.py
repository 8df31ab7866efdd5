"""
Real-name verification backends (``REALNAME_BACKEND``): what happens to a submission once it is
committed. ``manual`` leaves it to staff (the back office's 实名审核 queue); ``provider`` asks a
verification service over HTTPS. Each gets the new ``RealnameVerification`` once and returns a
``Decision``, or None for "staff will decide"; an unreachable provider raises ``UpstreamBusy`` /
``UpstreamFailed``.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from typing import Protocol

import requests
from django.conf import settings

from shanqian.errors import UpstreamBusy, UpstreamFailed
from shanqian.text import FORBIDDEN_CHARS

from .models import RealnameVerification

REASON_MAX_LENGTH = 256  # WechatUser.verify_reason / RealnameVerification.reason


@dataclass(frozen=True)
class Decision:
    approved: bool
    reason: str = ""


class RealnameBackend(Protocol):
    """Gets each new submission once, after it is committed; None means "staff will decide"."""

    name: str

    def submit(self, verification: RealnameVerification) -> Decision | None: ...


class ManualBackend:
    """Staff decide in the back office (实名审核队列)."""

    name = "manual"

    def submit(self, verification: RealnameVerification) -> Decision | None:
        return None


class ProviderBackend:
    """
    The shape a verification provider plugs into: one HTTPS call with timeouts, the
    reply mapped to a ``Decision``; busy → ``UpstreamBusy``, anything else unusable
    → ``UpstreamFailed``.

    This skeleton speaks a neutral JSON protocol (settings ``REALNAME_PROVIDER_URL``,
    ``REALNAME_PROVIDER_TOKEN``, ``REALNAME_PROVIDER_TIMEOUT``)::

        POST {url}  Authorization: Bearer {token}
        {"request_id": "<uuid>", "name": "…", "id_number": "…"}
        200 {"result": "pass"}  |  200 {"result": "fail", "reason": "姓名与身份证号不一致"}

    A real provider (e.g. Aliyun 身份证二要素/实人认证, Tencent 人脸核身) needs, on top:
    its request signing (AccessKey + HMAC, timestamps, nonces) instead of a bearer
    token; its own field names and result-code table (match / mismatch / no record /
    photo unusable…) mapped to pass/fail with user-facing Chinese reasons; the ID card
    photos or a liveness/face step when the product requires more than two factors;
    idempotency on ``request_id`` so a retried call is not billed twice; and a
    data-processing agreement — names and ID numbers leave our systems here.
    """

    name = "provider"

    def __init__(self, *, url: str | None = None, token: str | None = None, timeout=None):
        self.url = url if url is not None else settings.REALNAME_PROVIDER_URL
        self.token = token if token is not None else settings.REALNAME_PROVIDER_TOKEN
        self.timeout = timeout if timeout is not None else settings.REALNAME_PROVIDER_TIMEOUT

    def submit(self, verification: RealnameVerification) -> Decision | None:
        if not self.url:
            raise UpstreamFailed("实名核验服务未配置")
        try:
            response = requests.post(
                self.url,
                json={
                    "request_id": str(uuid.uuid4()),
                    "name": verification.real_name,
                    "id_number": verification.id_number,
                },
                headers={"Authorization": f"Bearer {self.token}"},
                timeout=self.timeout,
            )
        except requests.RequestException:
            raise UpstreamFailed("实名核验服务调用失败，请稍后重试") from None
        if response.status_code in (429, 503):
            raise UpstreamBusy("实名核验服务繁忙，请稍后重试")
        if response.status_code != 200:
            raise UpstreamFailed("实名核验服务调用失败，请稍后重试")
        try:
            body = response.json()
        except ValueError:
            raise UpstreamFailed("实名核验服务返回了无法识别的结果") from None
        result = body.get("result") if isinstance(body, dict) else None
        if result == "pass":
            return Decision(approved=True)
        if result == "fail":
            reason = body.get("reason") if isinstance(body.get("reason"), str) else ""
            reason = FORBIDDEN_CHARS.sub("", reason).strip()[:REASON_MAX_LENGTH]
            return Decision(approved=False, reason=reason or "身份信息核验未通过")
        raise UpstreamFailed("实名核验服务返回了无法识别的结果")


BACKENDS: dict[str, type] = {"manual": ManualBackend, "provider": ProviderBackend}


def get_backend(name: str | None = None) -> RealnameBackend:
    name = name or settings.REALNAME_BACKEND
    try:
        return BACKENDS[name]()
    except KeyError:
        raise UpstreamFailed("实名核验方式配置错误") from None
