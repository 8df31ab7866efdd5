"""
Identity (SPEC §4.1, §4.10–4.12): writes with business rules (STYLE.md: keyword-only,
typed, ``<entity>_<verb>``; views only parse, call and serialize).

* ``wechat_login(*, platform, code, ip, user_agent) -> LoginResult`` — code2Session
  through ``employees.wechat``, find or create the ``WechatUser`` by
  (platform, openid), keep ``session_key`` server-side, issue a session token.
* ``wechat_logout(*, token)`` — revoke the calling session token.
* ``captcha_create() -> str`` / ``captcha_check(*, key, answer)`` — one answer
  per captcha key, right or wrong; 42200 otherwise.
* ``sms_recipient_check(*, purpose, user, phone)`` — who may receive a code of a
  purpose other than ``resume``: the check the owning app installed
  (``sms_recipient_check_install``; signing installs the ``sign`` one).
* ``sms_code_send(*, phone, purpose, ip)`` — the per-phone and per-IP limits
  (database is the source of truth, so they hold across app instances), then
  a fresh code through ``employees.sms``. Call it outside a transaction: the
  reserved row must be visible to other instances at once.
* ``upload_create(*, owner, file) -> Upload`` — decode, check, re-encode
  (``employees.images``) and store an image privately.
* ``identity_purge(*, now, keep_days)`` — delete expired tokens, old SMS codes and captchas.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import time
from collections.abc import Callable
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta

from captcha.models import CaptchaStore
from django.conf import settings
from django.core.cache import cache
from django.core.exceptions import ObjectDoesNotExist
from django.core.files.base import ContentFile
from django.db import IntegrityError, transaction
from django.db.models import Count, Max, Q
from django.utils import timezone

from shanqian.errors import CaptchaInvalid, Forbidden, InvalidInput, RateLimited
from shanqian.models import Platform

from ..images import ImageTooLarge, process_image
from ..masking import mask_phone
from ..models import (
    SessionToken,
    SmsCode,
    SmsPurpose,
    Upload,
    WechatUser,
)
from ..otp import sms_code_create
from ..sms import send_sms
from ..tokens import issue_token, revoke_tokens
from ..wechat import WechatSession, get_wechat_client

logger = logging.getLogger("employees.services")

# --- identity ------------------------------------------------------------------------------


@dataclass(frozen=True)
class LoginResult:
    session_token: str = ""
    em_id: int = 0
    user: WechatUser | None = None
    created: bool = False

    def __repr__(self):  # the token must not end up in a log line by accident
        return f"LoginResult(user={self.user and self.user.pk}, em_id={self.em_id}, created={self.created})"


def _wechat_user_lookup(*, platform: Platform, openid: str) -> WechatUser | None:
    try:
        return WechatUser.objects.select_related("employee").get(platform=platform, openid=openid)
    except WechatUser.DoesNotExist:
        return None


def _wechat_user_get_or_create(*, platform: Platform, session: WechatSession, now: datetime) -> tuple[WechatUser, bool]:
    user = _wechat_user_lookup(platform=platform, openid=session.openid)
    if user is not None:
        return user, False
    try:
        with transaction.atomic():
            user = WechatUser.objects.create(
                platform=platform,
                openid=session.openid,
                unionid=session.unionid,
                session_key=session.session_key,
                last_login_at=now,
            )
        return user, True
    except IntegrityError:
        # Two first logins of one user raced; the unique (platform, openid) let one create it.
        user = _wechat_user_lookup(platform=platform, openid=session.openid)
        if user is None:
            raise
        return user, False


def wechat_login(*, platform: Platform, code: str, ip: str | None = None, user_agent: str = "") -> LoginResult:
    """Log a mini-program user in with a ``wx.login`` code; returns a new session token."""
    session = get_wechat_client().code2session(platform=platform, code=code)
    now = timezone.now()
    user, created = _wechat_user_get_or_create(platform=platform, session=session, now=now)
    with transaction.atomic():
        if not created:
            user.session_key = session.session_key
            user.last_login_at = now
            fields = ["session_key", "last_login_at", "updated_at"]
            if session.unionid and session.unionid != user.unionid:
                user.unionid = session.unionid
                fields.append("unionid")
            user.save(update_fields=fields)
        token = issue_token(user=user, ip=ip, user_agent=user_agent)
    try:
        em_id = 0 if created else user.employee.pk
    except ObjectDoesNotExist:
        em_id = 0
    logger.info("WeChat login: user %s on %s (new=%s)", user.pk, platform.code, created)
    return LoginResult(session_token=token, em_id=em_id, user=user, created=created)


def wechat_logout(*, token: SessionToken) -> None:
    """End the session of ``token`` (the calling one): every instance refuses it from the next request."""
    revoke_tokens(SessionToken.objects.filter(pk=token.pk))
    logger.info("logout: user %s, token %s", token.user_id, token.pk)


CAPTCHA_KEY_RE = re.compile(r"^[0-9a-f]{40}$")
CAPTCHA_TEST_ANSWER = "passed"


def captcha_create() -> str:
    """A fresh captcha; returns its key (the image is rendered from the key)."""
    return CaptchaStore.generate_key()


def captcha_check(*, key: str | None, answer: str) -> None:
    """
    Spend the captcha ``key``: it answers once, right or wrong, and only within
    CAPTCHA_TIMEOUT. Raises ``CaptchaInvalid`` (42200) for a wrong answer or a
    missing, malformed, unknown, expired or already used key. With DEBUG and
    CAPTCHA_TEST_MODE the answer ``PASSED`` replaces the answer check only: the
    key must still be a live one, and it is spent like any other.
    """
    key = (key or "").strip().lower()
    if not CAPTCHA_KEY_RE.fullmatch(key):
        raise CaptchaInvalid("图形验证码已失效，请重新获取")
    answer = answer.strip().lower()
    now = timezone.now()
    CaptchaStore.objects.filter(expiration__lte=now).delete()
    store = CaptchaStore.objects.filter(hashkey=key, expiration__gt=now).first()
    # The delete decides who spent the key when two answers race for it.
    spent = store is not None and CaptchaStore.objects.filter(pk=store.pk).delete()[0] == 1
    if not spent:
        raise CaptchaInvalid("图形验证码已过期，请重新获取")
    if settings.DEBUG and settings.CAPTCHA_TEST_MODE and answer == CAPTCHA_TEST_ANSWER:
        return
    if not hmac.compare_digest(store.response.encode(), answer.encode()):
        raise CaptchaInvalid("图形验证码错误，请重新获取")


SMS_TEXTS = {
    SmsPurpose.RESUME: "【闪签云】您的验证码是 {code}，用于提交简历，{minutes} 分钟内有效。如非本人操作请忽略。",
    SmsPurpose.SIGN: "【闪签云】您的验证码是 {code}，用于确认签署劳动合同，{minutes} 分钟内有效，请勿泄露。",
}
_LOCK_TTL = 10  # seconds; far longer than the few queries the lock guards
_LOCK_WAIT = 3.0
_LOCK_POLL = 0.05


@contextmanager
def _shared_lock(*keys: str):
    """
    Mutual exclusion across app instances through ``cache.add`` in the shared
    cache (Redis in production). Waits up to ``_LOCK_WAIT`` seconds, then
    refuses with 42900: another send for the same phone or IP is in flight.
    """
    token = secrets.token_hex(8)
    held: list[str] = []
    deadline = time.monotonic() + _LOCK_WAIT
    try:
        for key in keys:
            while not cache.add(key, token, _LOCK_TTL):
                if time.monotonic() >= deadline:
                    raise RateLimited("请求过于频繁，请稍后再试", retry_after=1)
                time.sleep(_LOCK_POLL)
            held.append(key)
        yield
    finally:
        for key in held:
            if cache.get(key) == token:
                cache.delete(key)


def _seconds_until(moment: datetime, now: datetime) -> int:
    return max(1, math.ceil((moment - now).total_seconds()))


def _sms_limits_check(*, phone: str, ip: str | None, now: datetime) -> None:
    """Refuse (42900 with retry_after) when a send now would break a limit; counts every row that exists."""
    day_ago = now - timedelta(days=1)
    recent = SmsCode.objects.filter(phone=phone, created_at__gt=day_ago)
    stats = recent.aggregate(count=Count("id"), last=Max("created_at"))
    interval = timedelta(seconds=settings.SMS_PHONE_INTERVAL)
    if stats["last"] is not None and stats["last"] + interval > now:
        wait = _seconds_until(stats["last"] + interval, now)
        raise RateLimited(f"验证码发送过于频繁，请 {wait} 秒后再试", retry_after=wait)
    daily = settings.SMS_PHONE_DAILY_LIMIT
    if stats["count"] >= daily:
        # The window frees when the daily-th newest send is 24 hours old.
        oldest = recent.order_by("-created_at").values_list("created_at", flat=True)[daily - 1]
        raise RateLimited(
            "该手机号 24 小时内获取验证码次数已达上限，请稍后再试",
            retry_after=_seconds_until(oldest + timedelta(days=1), now),
        )
    if ip:
        hour_ago = now - timedelta(hours=1)
        from_ip = SmsCode.objects.filter(ip=ip, created_at__gt=hour_ago)
        hourly = settings.SMS_IP_HOURLY_LIMIT
        if from_ip.count() >= hourly:
            oldest = from_ip.order_by("-created_at").values_list("created_at", flat=True)[hourly - 1]
            raise RateLimited(
                "当前网络获取验证码次数过多，请稍后再试",
                retry_after=_seconds_until(oldest + timedelta(hours=1), now),
            )


def sms_code_send(*, phone: str, purpose: SmsPurpose | str, ip: str | None) -> None:
    """
    Send a fresh one-time code to ``phone`` for ``purpose``, within the limits
    (SMS_PHONE_INTERVAL, SMS_PHONE_DAILY_LIMIT per phone; SMS_IP_HOURLY_LIMIT per IP).

    The code row is reserved (committed) under a shared lock before the gateway
    is called, so a second instance sees it and refuses; if the gateway fails the
    row is deleted, so a failure never locks the user out.
    """
    purpose = SmsPurpose(purpose)
    locks = [f"sms-send:phone:{phone}"] + ([f"sms-send:ip:{ip}"] if ip else [])
    with _shared_lock(*locks):
        _sms_limits_check(phone=phone, ip=ip, now=timezone.now())
        row, code = sms_code_create(phone=phone, purpose=purpose, ip=ip)
    text = SMS_TEXTS[purpose].format(code=code, minutes=max(1, settings.SMS_CODE_TTL // 60))
    try:
        send_sms(phone, code, text)
    except Exception:
        SmsCode.objects.filter(pk=row.pk).delete()
        logger.warning("SMS code for %s not sent; reservation released", mask_phone(phone))
        raise
    SmsCode.objects.filter(pk=row.pk).update(sent=True)


# A ``resume`` code may go to any mobile number. Every other purpose confirms something a higher
# app owns (``sign``: the intent to sign a contract), so that app installs who may receive it when
# it starts (``SigningConfig.ready``); a purpose without a check is refused, never sent to anyone.
_RECIPIENT_CHECKS: dict[str, Callable[..., None]] = {}


def sms_recipient_check_install(purpose: SmsPurpose | str, check: Callable[..., None]) -> None:
    """``check(user=…, phone=…)`` raises a domain error unless ``user`` may get a ``purpose`` code at ``phone``."""
    _RECIPIENT_CHECKS[SmsPurpose(purpose)] = check


def sms_recipient_check(*, purpose: SmsPurpose | str, user: WechatUser, phone: str) -> None:
    """Whether the logged-in ``user`` may have a code of ``purpose`` (other than ``resume``) sent to ``phone``."""
    check = _RECIPIENT_CHECKS.get(SmsPurpose(purpose))
    if check is None:
        raise Forbidden("暂不能获取该用途的验证码")
    check(user=user, phone=phone)


def upload_create(*, owner: WechatUser, file) -> Upload:
    """Store an uploaded image for ``owner`` after decoding, checking and re-encoding it."""
    limit = settings.UPLOAD_MAX_BYTES
    too_large = ImageTooLarge(f"图片不能超过 {limit / 1024 / 1024:g} MB")
    if file.size is not None and file.size > limit:
        raise too_large
    data = file.read(limit + 1)
    if len(data) > limit:
        raise too_large
    if not data:
        raise InvalidInput("上传的文件是空的", errors={"file": ["文件为空。"]})
    image = process_image(data, max_pixels=settings.UPLOAD_MAX_PIXELS)
    upload = Upload(
        owner=owner,
        format=image.format,
        size=len(image.content),
        width=image.width,
        height=image.height,
        sha256=hashlib.sha256(image.content).hexdigest(),
    )
    # upload_to picks a random name; the client's file name is never used.
    upload.file.save(f"image.{image.extension}", ContentFile(image.content), save=False)
    try:
        with transaction.atomic():
            upload.save()
    except Exception:
        upload.file.delete(save=False)
        raise
    return upload


def identity_purge(*, now: datetime | None = None, keep_days: int = 30) -> dict[str, int]:
    """
    Delete what identity no longer needs: session tokens expired or revoked more than
    ``keep_days`` ago, SMS code rows older than two days (the longest limit window is 24 h),
    and expired captcha keys. Returns the counts; run it daily (``manage.py purge_expired``).
    """
    now = now or timezone.now()
    cutoff = now - timedelta(days=keep_days)
    tokens, _ = SessionToken.objects.filter(Q(expires_at__lt=cutoff) | Q(revoked_at__lt=cutoff)).delete()
    sms_codes, _ = SmsCode.objects.filter(created_at__lt=now - timedelta(days=2)).delete()
    captchas, _ = CaptchaStore.objects.filter(expiration__lt=now).delete()
    return {"tokens": tokens, "sms_codes": sms_codes, "captchas": captchas}
