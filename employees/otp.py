"""
One-time SMS codes (SPEC §4.12, §8): 6 digits from a CSPRNG, stored as an
HMAC keyed with SECRET_KEY (a bare SHA-256 of six digits is reversible),
bound to a phone and a purpose, valid ``SMS_CODE_TTL`` seconds, at most
``SMS_CODE_MAX_TRIES`` wrong answers, single use.

Two steps so a wrong answer is always counted while a right one is spent only
if the caller's write succeeds:

* ``sms_code_check`` — call it *outside* your transaction. A wrong code bumps
  the try counter (committed at once) and raises ``SmsCodeInvalid``.
* ``sms_code_consume`` — call it *inside* your ``transaction.atomic`` block;
  it marks the code used, so a rollback leaves it usable, and a concurrent
  second use is refused.

Sending (rate limits, gateways) lives in ``employees.sms`` / the verifycode service.
"""

import hashlib
import hmac
import secrets
from datetime import timedelta

from django.conf import settings
from django.db.models import F
from django.db.models.functions import Greatest
from django.utils import timezone

from shanqian.errors import SmsCodeInvalid

from .models import SmsCode, SmsPurpose

CODE_DIGITS = 6


def generate_code() -> str:
    return f"{secrets.randbelow(10**CODE_DIGITS):0{CODE_DIGITS}d}"


def hash_code(*, phone: str, purpose: str, code: str) -> str:
    message = f"{purpose}:{phone}:{code}".encode()
    return hmac.new(settings.SECRET_KEY.encode(), message, hashlib.sha256).hexdigest()


def sms_code_create(*, phone: str, purpose: SmsPurpose | str, ip: str | None = None) -> tuple[SmsCode, str]:
    """Store a fresh code for ``phone``/``purpose`` and return the row and the raw code (to send, never to log)."""
    code = generate_code()
    row = SmsCode.objects.create(
        phone=phone,
        purpose=purpose,
        code_hash=hash_code(phone=phone, purpose=purpose, code=code),
        expires_at=timezone.now() + timedelta(seconds=settings.SMS_CODE_TTL),
        ip=ip,
    )
    return row, code


def sms_code_check(*, phone: str, purpose: SmsPurpose | str, code) -> SmsCode:
    """The live code row matching ``code``; raises ``SmsCodeInvalid`` (42201) otherwise."""
    if not isinstance(code, str) or not code.isdigit() or len(code) != CODE_DIGITS:
        raise SmsCodeInvalid("短信验证码应为 6 位数字")
    row = (
        SmsCode.objects.filter(phone=phone, purpose=purpose, used_at__isnull=True, expires_at__gt=timezone.now())
        .order_by("-created_at", "-id")
        .first()
    )
    if row is None:
        raise SmsCodeInvalid("短信验证码已失效，请重新获取")
    limit = settings.SMS_CODE_MAX_TRIES
    # Every answer first claims a try with a conditional increment in the database
    # (``UPDATE … SET failed_tries = failed_tries + 1 WHERE failed_tries < limit``), so parallel
    # guesses can never push the counter past the limit, and no guess is even compared once the
    # tries are used up: 60 parallel guesses against 5 tries get at most 5 comparisons that count
    # (issue 15, finding 3; SPEC §8). A right answer gives its claim back when it is spent
    # (``sms_code_consume``); if the caller's write fails, that answer cost one try.
    claimed = SmsCode.objects.filter(pk=row.pk, failed_tries__lt=limit).update(failed_tries=F("failed_tries") + 1)
    if not claimed:
        raise SmsCodeInvalid("验证码错误次数过多，请重新获取")
    if hmac.compare_digest(row.code_hash, hash_code(phone=phone, purpose=purpose, code=code)):
        return row
    tries = SmsCode.objects.filter(pk=row.pk).values_list("failed_tries", flat=True).first()
    left = limit - (limit if tries is None else tries)
    raise SmsCodeInvalid(f"短信验证码错误，还可尝试 {left} 次" if left > 0 else "验证码错误次数过多，请重新获取")


def sms_code_consume(row: SmsCode) -> None:
    """Spend a checked code inside the caller's transaction; refuses a code spent meanwhile."""
    spent = SmsCode.objects.filter(pk=row.pk, used_at__isnull=True).update(
        used_at=timezone.now(), failed_tries=Greatest(F("failed_tries") - 1, 0)
    )
    if not spent:
        raise SmsCodeInvalid("短信验证码已被使用，请重新获取")
