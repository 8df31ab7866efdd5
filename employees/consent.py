"""
The consent ledger (SPEC §13, PIPL art. 14/15/29).

Policies: ``ConsentPolicy`` rows, per platform and scope (``privacy_policy``, ``sensitive_pi``),
versioned; the *current* one is the latest published. Consents: ``Consent`` rows naming the exact
version, with time, IP and user agent; withdrawal stamps the row, never deletes it.

Reads
* ``policies_current(*, platform_id) -> dict[scope, ConsentPolicy]`` — one query.
* ``consents_given(*, user) -> list[Consent]`` — the newest active consent per scope (it may be to
  an older version: the client compares it with the current one and asks again).
* ``has_current_consent(*, user, scope) -> bool`` — one query; what the gate asks.
* ``consent_summary(*, user_ids) -> dict[user_id, ConsentState]`` — for staff pages: given /
  outdated / withdrawn / missing per scope, one query for any number of users.

Writes (keyword-only, atomic, the user's row locked so a double tap records one consent)
* ``consent_give(*, user, scope, version, client) -> Consent`` — 404 when the platform has no
  published policy of that scope, 409 "规则已更新，请重新阅读" when ``version`` is not the current
  one; consenting again to the version already consented to returns that record.
* ``consent_withdraw(*, user, scope, client) -> int`` — stamps every active consent of the scope.
  Processing that needs it stops at once: ``SensitiveConsentRequired`` refuses the endpoints that
  take sensitive data (403/40302), and staff see the withdrawal (``consent_summary``).
* ``policy_publish(*, policy) -> ConsentPolicy`` — fixes the text (SHA-256) and makes it current.
* ``policy_ensure_defaults(*, platform) -> list[ConsentPolicy]`` — publishes the default texts
  (``employees.consent_texts``) for scopes the platform has no policy of.

``SensitiveConsentRequired`` is the DRF permission of ``POST /api/image``, ``POST/PUT
/api/employee`` and ``POST /api/realname``: safe methods pass, anything else needs the current
``sensitive_pi`` consent.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from typing import TYPE_CHECKING

from django.conf import settings
from django.db import transaction
from django.db.models import OuterRef, Subquery
from django.utils import timezone
from rest_framework.permissions import SAFE_METHODS, BasePermission

from shanqian.errors import Code, Conflict, ConsentRequired, InvalidInput, NotFound
from shanqian.schema import error_response

from .consent_texts import DEFAULT_VERSION, default_policy
from .models import Consent, ConsentPolicy, ConsentScope, WechatUser

if TYPE_CHECKING:
    from shanqian.client import ClientContext
    from shanqian.models import Platform

logger = logging.getLogger("employees.consent")

POLICY_OUTDATED = "规则已更新，请重新阅读"
GATED_SCOPE = ConsentScope.SENSITIVE_PI
SCOPES = tuple(ConsentScope)


def _published(now=None):
    return ConsentPolicy.objects.filter(published_at__isnull=False, published_at__lte=now or timezone.now())


def policies_current(*, platform_id: int) -> dict[str, ConsentPolicy]:
    """The current policy of each scope the platform has published."""
    current: dict[str, ConsentPolicy] = {}
    for policy in _published().filter(platform_id=platform_id).order_by("scope", "-published_at", "-id"):
        current.setdefault(policy.scope, policy)
    return {scope: current[scope] for scope in SCOPES if scope in current}


def _current_policy_id(platform_id, scope):
    return Subquery(
        _published().filter(platform_id=platform_id, scope=scope).order_by("-published_at", "-id").values("id")[:1]
    )


def has_current_consent(*, user: WechatUser, scope: str = GATED_SCOPE) -> bool:
    return Consent.objects.filter(
        user_id=user.pk,
        scope=scope,
        withdrawn_at__isnull=True,
        policy_id=_current_policy_id(user.platform_id, scope),
    ).exists()


def consents_given(*, user: WechatUser) -> list[Consent]:
    newest: dict[str, Consent] = {}
    for consent in Consent.objects.filter(user_id=user.pk, withdrawn_at__isnull=True).order_by("-given_at", "-id"):
        newest.setdefault(consent.scope, consent)
    return [newest[scope] for scope in SCOPES if scope in newest]


@dataclass(frozen=True)
class ConsentState:
    """What staff are shown about one scope of one person."""

    scope: str
    state: str  # "current" | "outdated" | "withdrawn" | "missing"
    version: str = ""
    at: object = None  # given_at or withdrawn_at

    LABELS = {"current": "已同意", "outdated": "已同意旧版本", "withdrawn": "已撤回", "missing": "未同意"}

    @property
    def label(self) -> str:
        scope = ConsentScope(self.scope).label
        version = f" v{self.version}" if self.version else ""
        return f"{scope}：{self.LABELS[self.state]}{version}"

    @property
    def withdrawn(self) -> bool:
        return self.state == "withdrawn"


def consent_summary(*, user_ids) -> dict[int, dict[str, ConsentState]]:
    """Per user and scope: the latest consent row decides (withdrawn, or given to which version)."""
    user_ids = list({uid for uid in user_ids if uid is not None})
    rows = (
        Consent.objects.filter(user_id__in=user_ids)
        .annotate(current_id=_current_policy_id(OuterRef("user__platform_id"), OuterRef("scope")))
        .order_by("user_id", "scope", "-given_at", "-id")
        .values("user_id", "scope", "version", "given_at", "withdrawn_at", "policy_id", "current_id")
    )
    latest: dict[tuple[int, str], dict] = {}
    for row in rows:
        latest.setdefault((row["user_id"], row["scope"]), row)
    summary: dict[int, dict[str, ConsentState]] = {}
    for uid in user_ids:
        states = {}
        for scope in SCOPES:
            row = latest.get((uid, scope))
            if row is None:
                states[scope] = ConsentState(scope, "missing")
            elif row["withdrawn_at"] is not None:
                states[scope] = ConsentState(scope, "withdrawn", row["version"], row["withdrawn_at"])
            elif row["policy_id"] == row["current_id"]:
                states[scope] = ConsentState(scope, "current", row["version"], row["given_at"])
            else:
                states[scope] = ConsentState(scope, "outdated", row["version"], row["given_at"])
        summary[uid] = states
    return summary


def _scope(value: str, *, field: bool) -> ConsentScope:
    try:
        return ConsentScope(value)
    except ValueError:
        if field:
            raise InvalidInput(errors={"scope": [f"授权范围只能是 {'、'.join(SCOPES)}。"]}) from None
        raise NotFound("没有这个授权范围") from None


def _lock_user(user: WechatUser) -> None:
    WechatUser.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()


def consent_give(*, user: WechatUser, scope: str, version: str, client: ClientContext | None = None) -> Consent:
    scope = _scope(scope, field=True)
    policy = policies_current(platform_id=user.platform_id).get(scope)
    if policy is None:
        raise NotFound("该平台尚未发布此项个人信息处理规则")
    if version != policy.version:
        raise Conflict(POLICY_OUTDATED, data={"scope": scope, "version": policy.version})
    with transaction.atomic():
        _lock_user(user)
        existing = Consent.objects.filter(user_id=user.pk, policy=policy, withdrawn_at__isnull=True).first()
        if existing is not None:
            return existing
        consent = Consent.objects.create(
            user=user,
            policy=policy,
            scope=scope,
            version=policy.version,
            given_at=timezone.now(),
            ip=client.ip if client else None,
            user_agent=(client.user_agent if client else "")[:512],
        )
    logger.info("consent %s given: user %s, %s v%s", consent.pk, user.pk, scope, policy.version)
    return consent


def consent_withdraw(*, user: WechatUser, scope: str, client: ClientContext | None = None) -> int:
    scope = _scope(scope, field=False)
    with transaction.atomic():
        _lock_user(user)
        count = Consent.objects.filter(user_id=user.pk, scope=scope, withdrawn_at__isnull=True).update(
            withdrawn_at=timezone.now(),
            withdrawn_ip=client.ip if client else None,
            withdrawn_user_agent=(client.user_agent if client else "")[:512],
        )
    logger.info("consent withdrawn: user %s, %s (%s rows)", user.pk, scope, count)
    return count


def policy_publish(*, policy: ConsentPolicy) -> ConsentPolicy:
    with transaction.atomic():
        locked = ConsentPolicy.objects.select_for_update().get(pk=policy.pk)
        if locked.published_at is not None:
            raise Conflict(f"{locked} 已于 {timezone.localtime(locked.published_at):%Y-%m-%d %H:%M} 发布，不能再次发布")
        if not locked.body.strip():
            raise InvalidInput(errors={"body": ["规则全文不能为空。"]})
        locked.published_at = timezone.now()
        locked.body_sha256 = hashlib.sha256(locked.body.encode()).hexdigest()
        locked.save(update_fields=["published_at", "body_sha256", "updated_at"])
    logger.info("consent policy %s published (%s v%s)", locked.pk, locked.scope, locked.version)
    return locked


def policy_ensure_defaults(*, platform: Platform) -> list[ConsentPolicy]:
    created = []
    for scope in SCOPES:
        if ConsentPolicy.objects.filter(platform=platform, scope=scope).exists():
            continue
        title, body = default_policy(
            scope,
            platform_name=platform.name,
            retention_days=settings.APPLICANT_RETENTION_DAYS,
            # Issue 14 (the contract ledger) owns this setting; 2 years is art. 50's minimum.
            contract_years=getattr(settings, "CONTRACT_RETENTION_YEARS", 2),
        )
        policy = ConsentPolicy.objects.create(
            platform=platform, scope=scope, version=DEFAULT_VERSION, title=title, body=body
        )
        created.append(policy_publish(policy=policy))
    return created


class SensitiveConsentRequired(BasePermission):
    """
    Writes need the current ``sensitive_pi`` consent (403/40302); reads pass. Put it after
    ``IsAuthenticated`` (an anonymous request stays 401). ``SCHEMA_RESPONSE`` documents it.
    """

    SCHEMA_RESPONSE = error_response(
        Code.CONSENT_REQUIRED,
        "本人没有同意本平台当前版本的敏感个人信息处理规则（sensitive_pi），或已撤回；"
        "按 GET /api/consents 展示规则并 POST /api/consents 同意后重试",
    )

    def has_permission(self, request, view):
        if request.method in SAFE_METHODS:
            return True
        user = request.user
        if not isinstance(user, WechatUser) or not has_current_consent(user=user, scope=GATED_SCOPE):
            raise ConsentRequired()
        return True
