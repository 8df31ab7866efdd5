"""
SMS gateways behind two functions: ``send_sms(phone, code, text)`` for verification codes and
``send_notice(phone, kind, text, params)`` for notices (SPEC §11: the fallback of a worker notice).

``settings.SMS_BACKEND`` picks the backend:

* ``console`` — logs the message with the phone masked. Under DEBUG the text
  (which contains the code) is logged as is, so a developer can read the code;
  with DEBUG off the code is replaced by ``******`` — codes never reach
  production logs.
* ``file`` — appends one JSON line ``{"phone", "code", "text", "sent_at"}`` to
  ``settings.SMS_FILE_PATH`` (development and end-to-end tests; the file holds
  live codes, so never point it anywhere shared).
* ``aliyun`` — Aliyun SendSms (RPC API 2017-05-25, HMAC-SHA1 signature), POSTed
  as a form to ``SMS_ALIYUN["ENDPOINT"]``.
* ``tencent`` — Tencent Cloud SendSms (API 2021-01-11, TC3-HMAC-SHA256), POSTed
  as JSON to ``SMS_TENCENT["ENDPOINT"]``.

Notices use the same backends: ``console`` logs the text under DEBUG (only its length otherwise),
``file`` writes the line with an empty ``code``, and the vendors send the template of that kind of
notice from ``SMS_NOTICE_TEMPLATES`` (Aliyun: ``TemplateParam`` is ``params`` as a JSON object;
Tencent: ``TemplateParamSet`` is its values in order). A kind with no template configured is
``NoticeNotConfigured`` (permanent: retrying cannot help).

Failures raise domain errors: the gateway's own flow control → ``RateLimited``
(42900), anything else (refusal, network, timeout, garbage) → ``UpstreamFailed``
(50200). Keys come from settings (the environment) and are never logged; nor
is the code, except by the console backend under DEBUG.
"""

import base64
import hashlib
import hmac
import json
import logging
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Protocol
from urllib.parse import quote, urlsplit

import requests
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

from shanqian.errors import RateLimited, UpstreamFailed

from .masking import mask_phone

logger = logging.getLogger("employees.sms")

GATEWAY_RETRY_AFTER = 60
_FAILED = "短信发送失败，请稍后再试"
_LIMITED = "短信发送过于频繁，请稍后再试"


class SmsBackend(Protocol):
    def send(self, *, phone: str, code: str, text: str) -> None: ...

    def send_notice(self, *, phone: str, kind: str, text: str, params: dict[str, str]) -> None: ...


class NoticeNotConfigured(Exception):
    """No SMS template is configured for this kind of notice (``SMS_NOTICE_TEMPLATES``)."""


def notice_template(kind: str) -> str:
    template = (settings.SMS_NOTICE_TEMPLATES or {}).get(kind, "")
    if not template:
        raise NoticeNotConfigured(f"SMS_NOTICE_TEMPLATES 中没有「{kind}」通知的短信模板")
    return str(template)


# --- development backends ---------------------------------------------------------


class ConsoleBackend:
    def send(self, *, phone: str, code: str, text: str) -> None:
        shown = text if settings.DEBUG else text.replace(code, "******")
        logger.info("SMS (console) to %s: %s", mask_phone(phone), shown)

    def send_notice(self, *, phone: str, kind: str, text: str, params: dict[str, str]) -> None:
        # A notice may quote what HR wrote (a rejection reason): only a developer's console shows it.
        shown = text if settings.DEBUG else f"({kind}, {len(text)} 字)"
        logger.info("SMS notice (console) to %s: %s", mask_phone(phone), shown)


class FileBackend:
    def send_notice(self, *, phone: str, kind: str, text: str, params: dict[str, str]) -> None:
        self.send(phone=phone, code="", text=text)

    def send(self, *, phone: str, code: str, text: str) -> None:
        line = json.dumps(
            {"phone": phone, "code": code, "text": text, "sent_at": datetime.now(UTC).isoformat()},
            ensure_ascii=False,
        )
        path = Path(settings.SMS_FILE_PATH)
        path.parent.mkdir(parents=True, exist_ok=True)
        # One write of one line in append mode: lines from several processes do not interleave.
        with path.open("a", encoding="utf-8") as fh:
            fh.write(line + "\n")


# --- Aliyun -------------------------------------------------------------------------------


def percent_encode(value) -> str:
    """RFC 3986 encoding as Aliyun's RPC signature wants it."""
    return quote(str(value), safe="-_.~")


def aliyun_rpc_signature(params: dict, secret: str, *, method: str = "GET") -> str:
    """Aliyun RPC signature (HMAC-SHA1) of ``params`` (without ``Signature``)."""
    query = "&".join(f"{percent_encode(k)}={percent_encode(v)}" for k, v in sorted(params.items()))
    string_to_sign = f"{method.upper()}&{percent_encode('/')}&{percent_encode(query)}"
    digest = hmac.new(f"{secret}&".encode(), string_to_sign.encode(), hashlib.sha1).digest()
    return base64.b64encode(digest).decode()


class AliyunBackend:
    ACTION = "SendSms"
    VERSION = "2017-05-25"
    LIMIT_CODES = {"isv.BUSINESS_LIMIT_CONTROL"}

    def send(self, *, phone: str, code: str, text: str) -> None:
        self._send(phone=phone, template=settings.SMS_ALIYUN["TEMPLATE_CODE"], params={"code": code})

    def send_notice(self, *, phone: str, kind: str, text: str, params: dict[str, str]) -> None:
        self._send(phone=phone, template=notice_template(kind), params=params)

    def _send(self, *, phone: str, template: str, params: dict[str, str]) -> None:
        conf = settings.SMS_ALIYUN
        query = {
            "Action": self.ACTION,
            "Version": self.VERSION,
            "Format": "JSON",
            "AccessKeyId": conf["ACCESS_KEY_ID"],
            "SignatureMethod": "HMAC-SHA1",
            "SignatureVersion": "1.0",
            "SignatureNonce": uuid.uuid4().hex,
            "Timestamp": datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "PhoneNumbers": phone,
            "SignName": conf["SIGN_NAME"],
            "TemplateCode": template,
            "TemplateParam": json.dumps(params, ensure_ascii=False),
        }
        query["Signature"] = aliyun_rpc_signature(query, conf["ACCESS_KEY_SECRET"], method="POST")
        # POST keeps the phone and the code out of URLs that proxies log.
        body = _post(conf["ENDPOINT"], data=query)
        result = body.get("Code")
        if result == "OK":
            return
        logger.warning("Aliyun SendSms to %s refused: %s", mask_phone(phone), str(result)[:64])
        if result in self.LIMIT_CODES:
            raise RateLimited(_LIMITED, retry_after=GATEWAY_RETRY_AFTER)
        raise UpstreamFailed(_FAILED)


# --- Tencent Cloud ----------------------------------------------------------------------


def _hmac_sha256(key: bytes, message: str) -> bytes:
    return hmac.new(key, message.encode("utf-8"), hashlib.sha256).digest()


def tc3_signature(secret_key: str, *, service: str, host: str, timestamp: int, payload: str) -> str:
    """TC3-HMAC-SHA256 signature of a ``POST /`` JSON request (Tencent Cloud API 3.0)."""
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    canonical_request = (
        "POST\n/\n\n"
        f"content-type:application/json; charset=utf-8\nhost:{host}\n\n"
        "content-type;host\n" + hashlib.sha256(payload.encode("utf-8")).hexdigest()
    )
    string_to_sign = (
        f"TC3-HMAC-SHA256\n{timestamp}\n{date}/{service}/tc3_request\n"
        + hashlib.sha256(canonical_request.encode("utf-8")).hexdigest()
    )
    k_date = _hmac_sha256(f"TC3{secret_key}".encode(), date)
    k_service = _hmac_sha256(k_date, service)
    k_signing = _hmac_sha256(k_service, "tc3_request")
    return hmac.new(k_signing, string_to_sign.encode("utf-8"), hashlib.sha256).hexdigest()


def tc3_authorization(secret_id: str, secret_key: str, *, service: str, host: str, timestamp: int, payload: str) -> str:
    date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
    signature = tc3_signature(secret_key, service=service, host=host, timestamp=timestamp, payload=payload)
    return (
        f"TC3-HMAC-SHA256 Credential={secret_id}/{date}/{service}/tc3_request, "
        f"SignedHeaders=content-type;host, Signature={signature}"
    )


class TencentBackend:
    SERVICE = "sms"
    ACTION = "SendSms"
    VERSION = "2021-01-11"

    def send(self, *, phone: str, code: str, text: str) -> None:
        self._send(phone=phone, template=settings.SMS_TENCENT["TEMPLATE_ID"], values=[code])

    def send_notice(self, *, phone: str, kind: str, text: str, params: dict[str, str]) -> None:
        self._send(phone=phone, template=notice_template(kind), values=[str(v) for v in params.values()])

    def _send(self, *, phone: str, template: str, values: list[str]) -> None:
        conf = settings.SMS_TENCENT
        host = urlsplit(conf["ENDPOINT"]).hostname or "sms.tencentcloudapi.com"
        payload = json.dumps(
            {
                "PhoneNumberSet": [f"+86{phone}"],
                "SmsSdkAppId": conf["SDK_APP_ID"],
                "SignName": conf["SIGN_NAME"],
                "TemplateId": template,
                "TemplateParamSet": values,
            }
        )
        timestamp = int(datetime.now(UTC).timestamp())
        headers = {
            "Authorization": tc3_authorization(
                conf["SECRET_ID"],
                conf["SECRET_KEY"],
                service=self.SERVICE,
                host=host,
                timestamp=timestamp,
                payload=payload,
            ),
            "Content-Type": "application/json; charset=utf-8",
            "Host": host,
            "X-TC-Action": self.ACTION,
            "X-TC-Version": self.VERSION,
            "X-TC-Timestamp": str(timestamp),
            "X-TC-Region": conf["REGION"],
        }
        body = _post(conf["ENDPOINT"], data=payload.encode("utf-8"), headers=headers)
        response = body.get("Response")
        if not isinstance(response, dict):
            logger.warning("Tencent SendSms to %s answered without Response", mask_phone(phone))
            raise UpstreamFailed(_FAILED)
        error = response.get("Error")
        if isinstance(error, dict):
            self._refused(phone, str(error.get("Code", ""))[:64])
        statuses = response.get("SendStatusSet")
        if not isinstance(statuses, list) or not statuses:
            logger.warning("Tencent SendSms to %s answered without SendStatusSet", mask_phone(phone))
            raise UpstreamFailed(_FAILED)
        for status in statuses:
            result = str(status.get("Code", "")) if isinstance(status, dict) else ""
            if result != "Ok":
                self._refused(phone, result[:64])

    @staticmethod
    def _refused(phone: str, result: str):
        logger.warning("Tencent SendSms to %s refused: %s", mask_phone(phone), result)
        if result.startswith("LimitExceeded"):
            raise RateLimited(_LIMITED, retry_after=GATEWAY_RETRY_AFTER)
        raise UpstreamFailed(_FAILED)


# --- shared plumbing --------------------------------------------------------------------


def _post(url: str, **kwargs) -> dict:
    """POST and decode a JSON object; every transport problem becomes ``UpstreamFailed``."""
    try:
        response = requests.post(url, timeout=settings.SMS_TIMEOUT, **kwargs)
        body = response.json()
    except requests.RequestException as exc:
        logger.warning("SMS gateway request failed: %s", type(exc).__name__)
        raise UpstreamFailed(_FAILED) from None
    except ValueError:
        logger.warning("SMS gateway answered non-JSON (HTTP %s)", response.status_code)
        raise UpstreamFailed(_FAILED) from None
    if not isinstance(body, dict):
        logger.warning("SMS gateway answered a non-object JSON (HTTP %s)", response.status_code)
        raise UpstreamFailed(_FAILED)
    return body


BACKENDS: dict[str, type] = {
    "console": ConsoleBackend,
    "file": FileBackend,
    "aliyun": AliyunBackend,
    "tencent": TencentBackend,
}


def get_backend() -> SmsBackend:
    try:
        return BACKENDS[settings.SMS_BACKEND]()
    except KeyError:
        raise ImproperlyConfigured(
            f"SMS_BACKEND={settings.SMS_BACKEND!r} 无效，可选：{', '.join(BACKENDS)}。"
        ) from None


def send_sms(phone: str, code: str, text: str) -> None:
    """Send ``text`` (which carries ``code``) to ``phone``; raises RateLimited or UpstreamFailed."""
    get_backend().send(phone=phone, code=code, text=text)


def send_notice(phone: str, *, kind: str, text: str, params: dict[str, str]) -> None:
    """
    Send a notice (no code) of ``kind``: ``text`` is what the development backends show,
    ``params`` fill the vendor template. Raises RateLimited, UpstreamFailed or NoticeNotConfigured.
    """
    get_backend().send_notice(phone=phone, kind=kind, text=text, params=params)
