"""
Real-name verification (SPEC §4.14): submitting the resume's identity for checking,
and the decision.

* ``realname_submit(user=…, client=None)`` — takes the resume's name, ID number and
  both ID card photos into a new ``RealnameVerification`` (status 1 实名中) and sets
  ``WechatUser.verify_status`` to 1, in one transaction with the user's row locked.
  Refused: no resume (409), a photo missing (400 with field errors), already
  verifying (409) or already verified (409); allowed again after a failure (3).
  After the commit the configured backend (``REALNAME_BACKEND``) gets the row:
  ``manual`` returns None (staff decide in the admin's 实名审核 queue); a provider
  returns a ``Decision`` that is applied through ``realname_decide`` at once. If the
  provider cannot be reached, the row is closed as failed with that reason, the
  user's previous status is restored and the upstream error propagates (502/503):
  the user may simply submit again.
* ``realname_decide(verification=…, staff=…, approved=…, reason="")`` — only a row
  in 1 实名中, locked with ``select_for_update``; sets the row's status, reason,
  ``decided_by``/``decided_at`` and the user's ``verify_status`` (2/3) and
  ``verify_reason``. A failure needs a reason (the user sees it). ``staff=None``
  means the provider decided. Staff must be active and either a superuser or the
  handler of one of the user's applications (``staff_may_decide``).

The ``RealnameVerification`` rows are the audit trail (who, when, result, reason);
each decision is also logged. ``verifications_visible_to(staff=…)`` is the admin's
scope: all for a superuser, else the verifications of users with an application
assigned to the staff member.
"""

from __future__ import annotations

import logging
import uuid
from dataclasses import dataclass
from typing import TYPE_CHECKING, Protocol

import requests
from django.conf import settings
from django.db import transaction
from django.db.models import QuerySet
from django.utils import timezone

from shanqian.errors import Conflict, Forbidden, InvalidInput, NotFound, UpstreamBusy, UpstreamFailed
from shanqian.roles import sees_everything
from shanqian.text import FORBIDDEN_CHARS

from .assignment import handled_user_ids, handles_user
from .models import Employee, RealnameVerification, VerifyStatus, WechatUser

if TYPE_CHECKING:
    from shanqian.client import ClientContext
    from shanqian.models import AdminUser

logger = logging.getLogger("shanqian.realname")

REASON_MAX_LENGTH = 256  # WechatUser.verify_reason / RealnameVerification.reason
PROVIDER_DOWN_REASON = "实名核验服务暂时不可用，请稍后重新提交"


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


# --- scope and rules --------------------------------------------------------------------------------


def verifications_visible_to(*, staff: AdminUser, queryset: QuerySet | None = None) -> QuerySet:
    queryset = RealnameVerification.objects.all() if queryset is None else queryset
    if sees_everything(staff):
        return queryset
    return queryset.filter(user_id__in=handled_user_ids(staff))


def staff_may_decide(verification: RealnameVerification, staff: AdminUser) -> bool:
    if not (staff.is_active and staff.is_staff):
        return False
    if staff.is_superuser:
        return True
    return handles_user(staff, verification.user_id)


# --- services -------------------------------------------------------------------------------------------


def realname_submit(*, user: WechatUser, client: ClientContext | None = None) -> RealnameVerification:
    """Submit the resume's identity for verification; see the module docstring for the rules."""
    with transaction.atomic():
        # One submission at a time per user: a double tap waits here and then sees status 1.
        locked = WechatUser.objects.select_for_update().filter(pk=user.pk).first()
        if locked is None:
            raise NotFound("用户不存在")
        if locked.verify_status == VerifyStatus.VERIFYING:
            raise Conflict("实名认证审核中，请耐心等待结果")
        if locked.verify_status == VerifyStatus.VERIFIED:
            raise Conflict("您已完成实名认证，无需重复提交")
        employee = Employee.objects.filter(user_id=user.pk).first()
        if employee is None:
            raise Conflict("请先提交简历，再进行实名认证")
        errors = {}
        if employee.id_card_front_id is None:
            errors["id_card_front"] = ["请先在简历中上传身份证正面照片。"]
        if employee.id_card_back_id is None:
            errors["id_card_back"] = ["请先在简历中上传身份证反面照片。"]
        if errors:
            raise InvalidInput("请先上传身份证正反面照片", errors=errors)
        previous = (locked.verify_status, locked.verify_reason)
        backend = get_backend()
        verification = RealnameVerification.objects.create(
            user=locked,
            real_name=employee.real_name,
            id_number=employee.id_number,
            id_card_front_id=employee.id_card_front_id,
            id_card_back_id=employee.id_card_back_id,
            backend=backend.name,
            status=VerifyStatus.VERIFYING,
            ip=client.ip if client else None,
        )
        locked.verify_status = VerifyStatus.VERIFYING
        locked.verify_reason = ""
        locked.save(update_fields=["verify_status", "verify_reason", "updated_at"])
    logger.info("realname verification %s submitted by user %s (%s)", verification.pk, user.pk, backend.name)

    # Outside the transaction: no row lock is held while a provider answers.
    try:
        decision = backend.submit(verification)
    except (UpstreamFailed, UpstreamBusy):
        _close_after_provider_error(verification, previous)
        raise
    if decision is None:
        return verification
    return realname_decide(verification=verification, staff=None, approved=decision.approved, reason=decision.reason)


def _close_after_provider_error(verification: RealnameVerification, previous: tuple[int, str]) -> None:
    with transaction.atomic():
        updated = RealnameVerification.objects.filter(pk=verification.pk, status=VerifyStatus.VERIFYING).update(
            status=VerifyStatus.FAILED, reason=PROVIDER_DOWN_REASON, decided_at=timezone.now()
        )
        if updated:
            status, reason = previous
            WechatUser.objects.filter(pk=verification.user_id, verify_status=VerifyStatus.VERIFYING).update(
                verify_status=status, verify_reason=reason, updated_at=timezone.now()
            )
    logger.warning("realname verification %s: provider unavailable, closed", verification.pk)


def realname_decide(
    *, verification: RealnameVerification, staff: AdminUser | None, approved: bool, reason: str = ""
) -> RealnameVerification:
    """实名成功 / 实名失败 for a verification in 1 实名中. Returns the fresh row."""
    reason = reason if isinstance(reason, str) else ""
    reason = reason.strip()
    if not approved:
        if not reason:
            raise InvalidInput(errors={"reason": ["请填写实名失败原因（用户可见）。"]})
        if len(reason) > REASON_MAX_LENGTH:
            raise InvalidInput(errors={"reason": [f"失败原因不能超过 {REASON_MAX_LENGTH} 个字符。"]})
        if FORBIDDEN_CHARS.search(reason):
            raise InvalidInput(errors={"reason": ["失败原因包含无效字符。"]})
    else:
        reason = ""
    with transaction.atomic():
        # The lock makes two staff deciding at once give one decision and one clear refusal.
        locked = RealnameVerification.objects.select_for_update().filter(pk=verification.pk).first()
        if locked is None:
            raise NotFound("实名认证记录不存在")
        if staff is not None and not staff_may_decide(locked, staff):
            raise Forbidden("该用户的实名认证不由您处理，无权操作")
        if locked.status != VerifyStatus.VERIFYING:
            raise Conflict(f"该实名认证已处理（{locked.get_status_display()}），不能重复处理")
        status = VerifyStatus.VERIFIED if approved else VerifyStatus.FAILED
        locked.status = status
        locked.reason = reason
        locked.decided_by = staff
        locked.decided_at = timezone.now()
        locked.save(update_fields=["status", "reason", "decided_by", "decided_at"])
        WechatUser.objects.filter(pk=locked.user_id).update(
            verify_status=status, verify_reason=reason, updated_at=timezone.now()
        )
    logger.info(
        "realname verification %s decided: %s by %s",
        locked.pk,
        "verified" if approved else "failed",
        f"staff {staff.pk}" if staff is not None else locked.backend,
    )
    return locked
