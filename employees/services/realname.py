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
each decision is also logged. The backends (manual, provider) are gateways in
``employees.realname_providers``; the back office's scope is
``employees.selectors.verifications_visible_to``.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from django.db import transaction
from django.utils import timezone

from shanqian.errors import Conflict, Forbidden, InvalidInput, NotFound, UpstreamBusy, UpstreamFailed
from shanqian.text import clean_text, forbidden_char

from ..assignment import handles_user
from ..models import Employee, RealnameVerification, VerifyStatus, WechatUser
from ..realname_providers import REASON_MAX_LENGTH, get_backend

if TYPE_CHECKING:
    from shanqian.client import ClientContext
    from shanqian.models import AdminUser

logger = logging.getLogger("shanqian.realname")

PROVIDER_DOWN_REASON = "实名核验服务暂时不可用，请稍后重新提交"


# --- who may decide ---------------------------------------------------------------------------------


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
        if forbidden_char(employee.real_name, name=True) is not None:
            # A name stored before the check (the seed's data) never reaches a verification or a contract.
            errors["real_name"] = ["简历中的姓名包含无效字符，请先修改简历。"]
        if errors:
            photos_missing = "id_card_front" in errors or "id_card_back" in errors
            raise InvalidInput("请先上传身份证正反面照片" if photos_missing else errors["real_name"][0], errors=errors)
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
    reason = "" if approved else clean_text(reason, field="reason", label="实名失败原因", max_length=REASON_MAX_LENGTH)
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
