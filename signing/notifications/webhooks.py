"""
Signed webhooks for downstream HR systems (SPEC §11; receiver's guide: docs/webhooks.md).

An event is one JSON body ``{"id", "event", "created_at", "data"}`` per endpoint that wants it,
written to the outbox with the change (``body_for``) and POSTed by the ``webhook`` channel with::

    Content-Type: application/json
    X-Shanqian-Event: application.status_changed
    X-Shanqian-Delivery: <the outbox row's idempotency key, the same on every retry>
    X-Shanqian-Timestamp: <unix seconds of this attempt>
    X-Shanqian-Signature: sha256=<hex HMAC-SHA256(secret, timestamp + "." + body)>

A 2xx answer delivers; anything else, a refused address, a timeout or a connection error is
retried with backoff for ``WEBHOOK_RETRY_HOURS`` (24). Every attempt is logged with its response
code and time (``OutboxAttempt``). ``data`` holds ids and statuses; ``personal`` (name, phone) is
added only for endpoints that opted in. The SSRF guard and the deadline are ``shanqian.outbound``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import time

from django.conf import settings

from shanqian import outbound
from shanqian.outbox import Delivered, Fail, Retry

from .models import WebhookEndpoint

USER_AGENT = "Shanqian-Webhook/1"


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """``sha256=<hex>`` of HMAC-SHA256(secret, timestamp + "." + body)."""
    mac = hmac.new(secret.encode("utf-8"), timestamp.encode("ascii") + b"." + body, hashlib.sha256)
    return f"sha256={mac.hexdigest()}"


def body_for(*, event_id: str, event: str, created_at: str, data: dict) -> str:
    return json.dumps(
        {"id": event_id, "event": event, "created_at": created_at, "data": data},
        ensure_ascii=False,
        separators=(",", ":"),
    )


def deliver(message) -> Delivered:
    payload = message.payload
    endpoint = WebhookEndpoint.objects.filter(pk=payload.get("endpoint_id")).first()
    if endpoint is None:
        raise Fail("Webhook 已删除")
    if not endpoint.enabled:
        raise Fail("Webhook 已停用")
    body = payload["body"].encode("utf-8")
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json; charset=utf-8",
        "User-Agent": USER_AGENT,
        "X-Shanqian-Event": payload["event"],
        "X-Shanqian-Delivery": str(message.key),
        "X-Shanqian-Timestamp": timestamp,
        "X-Shanqian-Signature": signature(endpoint.secret, timestamp, body),
    }
    try:
        response = outbound.post(
            endpoint.url,
            body=body,
            headers=headers,
            connect_timeout=settings.WEBHOOK_CONNECT_TIMEOUT,
            deadline=settings.WEBHOOK_TIMEOUT,
            allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES,
        )
    except outbound.UnsafeUrl as exc:
        raise Retry(str(exc)) from None
    except outbound.DeliveryError as exc:
        raise Retry(str(exc)) from None
    if 200 <= response.status < 300:
        return Delivered(note="", response_code=response.status)
    excerpt = " ".join(response.body.split())[:200]
    raise Retry(
        f"HTTP {response.status}：{excerpt}" if excerpt else f"HTTP {response.status}", response_code=response.status
    )
