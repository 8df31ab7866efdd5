"""
Writes with business rules for the employees app (STYLE.md: keyword-only,
typed, ``<entity>_<verb>``; views only parse, call and serialize).

Identity (SPEC §4.1, §4.10–4.12):

* ``wechat_login(*, platform, code, ip, user_agent) -> LoginResult`` — code2Session
  through ``employees.wechat``, find or create the ``WechatUser`` by
  (platform, openid), keep ``session_key`` server-side, issue a session token.
* ``captcha_create() -> str`` / ``captcha_check(*, key, answer)`` — one answer
  per captcha key, right or wrong; 42200 otherwise.
* ``sms_sign_recipient_check(*, user, phone)`` — a ``purpose=sign`` code goes
  only to the logged-in user's resume phone, while a contract awaits signing.
* ``sms_code_send(*, phone, purpose, ip)`` — the per-phone and per-IP limits
  (database is the source of truth, so they hold across app instances), then
  a fresh code through ``employees.sms``. Call it outside a transaction: the
  reserved row must be visible to other instances at once.
* ``upload_create(*, owner, file) -> Upload`` — decode, check, re-encode
  (``employees.images``) and store an image privately.

Resume services (SPEC §4.3–4.4, §5.1): the business rules of submitting and
replacing a resume. Input arrives shape-checked by
``employees.serializers.ResumeInSerializer``; these functions check everything
that needs the database and then write in one transaction.

Order of refusal, so a user never burns an SMS try on a request that would
fail anyway: state (409: resume exists / locked) → every field error at once
(400: dictionaries, regions, uploads, company/position/handler, missing
``sms_code``) → ID number held by another user (409) → SMS code (42201) →
the write. The write re-checks the state under row locks and maps a lost
unique-constraint race (same ID number, double-submitted POST) to 409.

* ``employee_create`` — Employee + education/work rows + a status-1
  application (with its audit event), atomically. The user's row is locked
  first, so a double-submitted POST gives one 200 and one 409.
* ``employee_update`` — full replacement under the employee's row lock:
  refused (409) while the latest application is 2 待签约 or 3 已签约; while it
  is 1 the application follows the new company/position/handler (a NOTE audit
  event records it); after 4 or 5 a new status-1 application is opened (old
  ones are kept). Education/work rows are deleted and recreated. Any failure
  rolls everything back, the old resume stays as it was.
"""

from __future__ import annotations

import hashlib
import hmac
import logging
import math
import re
import secrets
import time
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

from shanqian.client import ClientContext
from shanqian.errors import CaptchaInvalid, Conflict, Forbidden, InvalidInput, NotFound, RateLimited
from shanqian.models import Platform
from signing import services as signing_services
from signing.models import SignStatus
from signing.selectors import application_latest

from .images import ImageTooLarge, process_image
from .masking import mask_phone
from .models import (
    Employee,
    EmployeeEducation,
    SessionToken,
    SmsCode,
    SmsPurpose,
    Upload,
    WechatUser,
    WorkExperience,
)
from .otp import sms_code_check, sms_code_consume, sms_code_create
from .sms import send_sms
from .tokens import issue_token
from .uploads import NotYourUpload, upload_from_url
from .validators import REGION_ID_FIELDS, dictionary_errors, resolve_regions
from .wechat import WechatSession, get_wechat_client

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
    CAPTCHA_TEST_MODE the answer ``PASSED`` is accepted for any well-formed key.
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
    if settings.DEBUG and settings.CAPTCHA_TEST_MODE and answer == CAPTCHA_TEST_ANSWER:
        return
    if not spent:
        raise CaptchaInvalid("图形验证码已过期，请重新获取")
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


def sms_sign_recipient_check(*, user: WechatUser, phone: str) -> None:
    """
    ``purpose=sign`` codes confirm the intent to sign, so they go only to the
    logged-in user's resume phone, and only while a contract awaits their
    signature: 40300 without a resume, 40900 with nothing to sign, 40000 (on
    ``phone``) for any other number.
    """
    employee = Employee.objects.filter(user_id=user.pk).only("id", "phone").first()
    if employee is None:
        raise Forbidden("您还没有提交简历，无法获取签约验证码")
    latest = application_latest(employee_id=employee.pk)
    if latest is None or latest.status != SignStatus.AWAITING_SIGNATURE:
        raise Conflict("当前没有待签署的合同，无需获取签约验证码")
    if phone != employee.phone:
        raise InvalidInput(
            "签约验证码只能发送到简历登记的手机号",
            errors={"phone": [f"签约验证码只能发送到简历登记的手机号（{mask_phone(employee.phone)}）。"]},
        )


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


RESUME_EXISTS = "您已提交过简历，请使用修改简历"
RESUME_MISSING = "您还没有提交简历"
RESUME_LOCKED = "简历处于待签约或已签约状态，不能修改"
ID_NUMBER_TAKEN = "该身份证号已被其他用户使用，如有疑问请联系人事专员"
LOCKED_STATUSES = frozenset({SignStatus.AWAITING_SIGNATURE, SignStatus.SIGNED})
REOPEN_STATUSES = frozenset({SignStatus.REJECTED, SignStatus.CANCELLED})

# Copied as they come from the serializer.
PLAIN_FIELDS = (
    "real_name",
    "phone",
    "id_number",
    "age",
    "gender",
    "nation",
    "marital_sts",
    "political_sts",
    "acct_type",
    "acct_addr",
    "addr",
    "em_contact_name",
    "em_contact_phone",
    "em_contact_relationship",
)
_FK_FIELDS = (
    *("user", "acct_prc", "acct_city", "acct_coy", "province", "city", "county"),
    *("id_card_front", "id_card_back"),
)


@dataclass(frozen=True)
class ResumeInput:
    fields: dict
    educations: list[dict]
    works: list[dict]
    choice: signing_services.ApplicationChoice


# --- guards (cheap, before validation; re-checked under lock) ------------------------------------


def employee_check_can_create(*, user: WechatUser) -> None:
    if Employee.objects.filter(user_id=user.pk).exists():
        raise Conflict(RESUME_EXISTS)


def employee_check_can_update(*, user: WechatUser) -> Employee:
    employee = Employee.objects.filter(user_id=user.pk).first()
    if employee is None:
        raise NotFound(RESUME_MISSING)
    latest = application_latest(employee_id=employee.pk)
    if latest is not None and latest.status in LOCKED_STATUSES:
        raise Conflict(RESUME_LOCKED)
    return employee


# --- validation against the database -------------------------------------------------------------


def _resume_clean(*, user: WechatUser, data: dict, sms_required: bool) -> ResumeInput:
    errors: dict = {}
    fields = {name: data[name] for name in PLAIN_FIELDS}
    educations = list(data["employee_edu"])
    works = list(data["work_exp"])

    errors.update(
        dictionary_errors(
            nation=data["nation"],
            relationship=data["em_contact_relationship"],
            edu_types=[item["edu_type"] for item in educations],
        )
    )

    regions, region_errors = resolve_regions({name: data.get(name) for name in REGION_ID_FIELDS})
    errors.update(region_errors)
    for name, value in regions.items():
        if isinstance(value, str):
            value = value[: Employee._meta.get_field(name).max_length]
        fields[name] = value

    for name in ("id_card_front", "id_card_back"):
        fields[name] = None
        if data[name]:
            try:
                fields[name] = upload_from_url(user=user, url=data[name])
            except NotYourUpload as exc:
                errors[name] = [str(exc)]

    if sms_required and not data.get("sms_code"):
        errors["sms_code"] = ["请填写发送到该手机号的短信验证码。"]

    choice = None
    try:
        choice = signing_services.application_choice_clean(
            company_id=data["company_id"], work_pos=data["work_pos"], ad_user_id=data["ad_user_id"]
        )
    except InvalidInput as exc:
        errors.update(exc.data["errors"])

    if errors:
        raise InvalidInput(errors=errors)
    return ResumeInput(fields=fields, educations=educations, works=works, choice=choice)


def _check_id_number_free(*, user: WechatUser, id_number: str) -> None:
    if Employee.objects.filter(id_number=id_number).exclude(user_id=user.pk).exists():
        raise Conflict(ID_NUMBER_TAKEN)


def _conflict_from_integrity_error(*, user: WechatUser, id_number: str, creating: bool) -> Conflict | None:
    """After a lost race on a unique constraint, which one did we hit?"""
    if creating and Employee.objects.filter(user_id=user.pk).exists():
        return Conflict(RESUME_EXISTS)
    if Employee.objects.filter(id_number=id_number).exclude(user_id=user.pk).exists():
        return Conflict(ID_NUMBER_TAKEN)
    return None


def _write_rows(employee: Employee, resume: ResumeInput) -> None:
    employee.full_clean(exclude=_FK_FIELDS, validate_unique=False, validate_constraints=False)
    employee.save()
    EmployeeEducation.objects.bulk_create(EmployeeEducation(employee=employee, **item) for item in resume.educations)
    WorkExperience.objects.bulk_create(WorkExperience(employee=employee, **item) for item in resume.works)


# --- services --------------------------------------------------------------------------------------


def employee_create(*, user: WechatUser, data: dict, client: ClientContext | None = None) -> Employee:
    """
    Submit the resume: the employee, their rows and a status-1 application, in one transaction.
    The caller has run ``employee_check_can_create`` (the view does, before validation, so 409 beats
    field errors); the same check is repeated under the user's row lock, which is what makes it hold.
    """
    resume = _resume_clean(user=user, data=data, sms_required=True)
    _check_id_number_free(user=user, id_number=resume.fields["id_number"])
    code = sms_code_check(phone=resume.fields["phone"], purpose=SmsPurpose.RESUME, code=data["sms_code"])
    try:
        with transaction.atomic():
            # One submission per user at a time: a double-tapped submit waits here, then sees the first one's resume.
            WechatUser.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
            if Employee.objects.filter(user_id=user.pk).exists():
                raise Conflict(RESUME_EXISTS)
            employee = Employee(user=user, **resume.fields)
            _write_rows(employee, resume)
            sms_code_consume(code)
            signing_services.application_create(
                employee=employee, choice=resume.choice, actor_user=user, client=client, employee_is_new=True
            )
    except IntegrityError:
        conflict = _conflict_from_integrity_error(user=user, id_number=resume.fields["id_number"], creating=True)
        if conflict is None:
            raise
        raise conflict from None
    return employee


def employee_update(*, user: WechatUser, data: dict, client: ClientContext | None = None) -> Employee:
    """Replace the whole resume (SPEC §4.4); see the module docstring for what happens to the application."""
    current = employee_check_can_update(user=user)
    phone_changed = data["phone"] != current.phone
    resume = _resume_clean(user=user, data=data, sms_required=phone_changed)
    _check_id_number_free(user=user, id_number=resume.fields["id_number"])
    code = (
        sms_code_check(phone=resume.fields["phone"], purpose=SmsPurpose.RESUME, code=data["sms_code"])
        if phone_changed
        else None
    )
    try:
        with transaction.atomic():
            employee = Employee.objects.select_for_update().filter(pk=current.pk).first()
            if employee is None:
                raise NotFound(RESUME_MISSING)
            if code is None and employee.phone != resume.fields["phone"]:
                # The phone changed under us since the unlocked read: the new number was never proven.
                raise Conflict("简历刚刚被修改过，请刷新后重试")
            latest = application_latest(employee_id=employee.pk, lock=True)
            if latest is not None and latest.status in LOCKED_STATUSES:
                raise Conflict(RESUME_LOCKED)
            for name, value in resume.fields.items():
                setattr(employee, name, value)
            employee.educations.all().delete()
            employee.work_exps.all().delete()
            _write_rows(employee, resume)
            if code is not None:
                sms_code_consume(code)
            if latest is None or latest.status in REOPEN_STATUSES:
                signing_services.application_create(
                    employee=employee, choice=resume.choice, actor_user=user, client=client
                )
            else:
                signing_services.application_update_pending(
                    application=latest, choice=resume.choice, actor_user=user, client=client
                )
    except IntegrityError:
        conflict = _conflict_from_integrity_error(user=user, id_number=resume.fields["id_number"], creating=False)
        if conflict is None:
            raise
        raise conflict from None
    return employee
