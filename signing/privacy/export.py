"""
``personal_data_export(user=…, request=…)`` — everything held about one person (SPEC §13, PIPL
art. 45), as the JSON of ``GET /api/me/export``:

``user`` (the WeChat account), ``resume`` (as ``GET /api/employee`` shows it: the plain ID number,
the emergency contact, education and work, fresh photo links; null without one), ``uploads``,
``consents`` (every record, withdrawn ones included), ``realname_verifications``, ``applications``
(each with its ``events`` and links to the personalised and the signed contract), ``contracts``
(as ``GET /api/contracts`` shows them), ``sessions``, ``subscriptions`` and ``deletion_requests``.

Only rows reached from this user's id; staff members appear by display name only, and the IP,
user agent and location of an event only when the person did it. Files are given as the usual
short-lived signed links. A fixed number of queries, whatever the number of applications and
events (``tests/signing/test_privacy_export.py`` pins it).
"""

from __future__ import annotations

from django.db.models import Prefetch
from django.utils import timezone

from employees.models import Consent, RealnameVerification, SessionToken, Upload, WechatUser
from employees.uploads import upload_url
from shanqian.storage import signed_file_url

from ..ledger.selectors import contracts_of_user
from ..ledger.serializers import ContractSerializer
from ..models import SignApplication, SignEvent, SubscribeAcceptance
from ..selectors import LATEST, resume_of_user
from .models import DeletionRequest
from .serializers import DeletionRequestSerializer

FORMAT_VERSION = 1


def _time(value):
    return value.isoformat() if value is not None else None


def _link(name: str, request) -> str:
    return signed_file_url(name, request=request) if name else ""


def _user(user: WechatUser) -> dict:
    # The request's user is a slim row (the token's authentication defers most columns): read it whole.
    user = WechatUser.objects.select_related("platform").get(pk=user.pk)
    return {
        "id": user.pk,
        "platform": user.platform.code,
        "openid": user.openid,
        "unionid": user.unionid,
        "verify_status": user.verify_status,
        "verify_status_label": user.get_verify_status_display(),
        "verify_reason": user.verify_reason,
        "created_at": _time(user.created_at),
        "last_login_at": _time(user.last_login_at),
    }


def _uploads(user, request) -> list[dict]:
    return [
        {
            "id": upload.pk,
            "format": upload.format,
            "width": upload.width,
            "height": upload.height,
            "size": upload.size,
            "sha256": upload.sha256,
            "created_at": _time(upload.created_at),
            "url": upload_url(upload, request=request),
        }
        for upload in Upload.objects.filter(owner_id=user.pk).order_by("created_at", "id")
    ]


def _consents(user) -> list[dict]:
    return [
        {
            "scope": consent.scope,
            "scope_label": consent.get_scope_display(),
            "version": consent.version,
            "title": consent.policy.title,
            "given_at": _time(consent.given_at),
            "ip": consent.ip,
            "user_agent": consent.user_agent,
            "withdrawn_at": _time(consent.withdrawn_at),
            "withdrawn_ip": consent.withdrawn_ip,
            "withdrawn_user_agent": consent.withdrawn_user_agent,
        }
        for consent in Consent.objects.filter(user_id=user.pk).select_related("policy").order_by("given_at", "id")
    ]


def _verifications(user, request) -> list[dict]:
    rows = (
        RealnameVerification.objects.filter(user_id=user.pk)
        .select_related("id_card_front", "id_card_back")
        .order_by("submitted_at", "id")
    )
    return [
        {
            "id": row.pk,
            "real_name": row.real_name,
            "id_number": row.id_number,
            "status": row.status,
            "status_label": row.get_status_display(),
            "reason": row.reason,
            "backend": row.backend,
            "submitted_at": _time(row.submitted_at),
            "decided_at": _time(row.decided_at),
            "ip": row.ip,
            "id_card_front": upload_url(row.id_card_front, request=request),
            "id_card_back": upload_url(row.id_card_back, request=request),
        }
        for row in rows
    ]


def _event(event: SignEvent, user) -> dict:
    data = {
        "kind": event.kind,
        "kind_label": event.get_kind_display(),
        "from_status": event.from_status,
        "to_status": event.to_status,
        "created_at": _time(event.created_at),
        "actor": f"后台：{event.actor_staff.display_name}" if event.actor_staff_id else event.actor_display,
        "note": event.note,
        "city": event.city,
        "document_sha256": event.document_sha256,
    }
    if event.actor_user_id == user.pk:
        # Where the person acted from is their data; a staff member's IP is not.
        data.update(
            ip=event.ip,
            user_agent=event.user_agent,
            lng=None if event.lng is None else str(event.lng),
            lat=None if event.lat is None else str(event.lat),
        )
    return data


def _applications(user, request) -> list[dict]:
    events = SignEvent.objects.select_related("actor_staff").order_by("created_at", "id")
    applications = (
        SignApplication.objects.filter(em__user_id=user.pk)
        .select_related("company", "contract", "document")
        .prefetch_related(Prefetch("events", queryset=events))
        .order_by(*LATEST)
    )
    out = []
    for application in applications:
        document = getattr(application, "document", None)
        out.append(
            {
                "id": application.pk,
                "status": application.status,
                "status_label": application.get_status_display(),
                "company": {"id": application.company_id, "company_name": application.company.company_name},
                "work_pos": application.work_pos,
                "apply_time": _time(application.apply_time),
                "entry_date": _time(application.entry_date),
                "salary": str(application.salary),
                "term_type": application.term_type,
                "end_date": _time(application.end_date),
                "probation_end": _time(application.probation_end),
                "work_location": application.work_location,
                "reason": application.reason,
                "contract_name": application.contract.contract_name if application.contract_id else "",
                "contract_url": _link(application.contract_document.name, request),
                "contract_sha256": application.contract_document_sha256,
                "signed_document": None
                if document is None
                else {
                    "url": _link(document.file.name, request),
                    "sha256": document.sha256,
                    "size": document.size,
                    "created_at": _time(document.created_at),
                },
                "events": [_event(event, user) for event in application.events.all()],
            }
        )
    return out


def _sessions(user) -> list[dict]:
    return [
        {
            "created_at": _time(token.created_at),
            "expires_at": _time(token.expires_at),
            "revoked_at": _time(token.revoked_at),
            "ip": token.ip,
            "user_agent": token.user_agent,
        }
        for token in SessionToken.objects.filter(user_id=user.pk).order_by("created_at", "id")
    ]


def _subscriptions(user) -> list[dict]:
    return [
        {"template_id": row.template_id, "accepted_at": _time(row.accepted_at), "used_at": _time(row.used_at)}
        for row in SubscribeAcceptance.objects.filter(user_id=user.pk).order_by("accepted_at", "id")
    ]


def _deletion_requests(user) -> list[dict]:
    rows = DeletionRequest.objects.filter(user_id=user.pk).order_by("requested_at", "id")
    return DeletionRequestSerializer(rows, many=True).data


def personal_data_export(*, user: WechatUser, request=None) -> dict:
    return {
        "format_version": FORMAT_VERSION,
        "exported_at": _time(timezone.now()),
        "user": _user(user),
        "resume": resume_of_user(user=user, request=request),
        "uploads": _uploads(user, request),
        "consents": _consents(user),
        "realname_verifications": _verifications(user, request),
        "applications": _applications(user, request),
        "contracts": ContractSerializer(contracts_of_user(user=user), many=True, context={"request": request}).data,
        "sessions": _sessions(user),
        "subscriptions": _subscriptions(user),
        "deletion_requests": _deletion_requests(user),
    }
