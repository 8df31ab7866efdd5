"""
The audit trail of one application (SPEC §10), as rows.

``application_trail(application)`` reads the application's ``SignEvent`` rows
(one query, actors joined) and the real-name decision that let the worker
sign (one query), and returns them in time order as ``AuditEventRow``s: resume
submitted; approved (by whom, with the terms); real-name passed (method, by
whom); contract viewed (document SHA-256); intent code sent (masked phone)
and accepted; signature submitted (image SHA-256); event certificate issued
(serial); company seal applied (authorisation, certificate serial);
timestamps (authority, time); sealed (document SHA-256); and every export of
the evidence since.
"""

import datetime
from decimal import Decimal

from employees.models import RealnameVerification, VerifyStatus

from ..models import SignApplication, SignEvent, SignStatus
from ..sealing.certificate import AuditEventRow, audit_rows, format_salary, format_time, trail_order

REALNAME_METHODS = {"manual": "人工审核", "provider": "实名核验服务"}


def realname_method_label(backend: str) -> str:
    return REALNAME_METHODS.get(backend, backend or "未知方式")


def realname_decision(user_id: int, *, before: datetime.datetime | None = None) -> RealnameVerification | None:
    """The latest passed real-name verification of the user (decided before ``before``)."""
    rows = RealnameVerification.objects.filter(user_id=user_id, status=VerifyStatus.VERIFIED).select_related(
        "decided_by"
    )
    if before is not None:
        rows = rows.filter(decided_at__lte=before)
    return rows.order_by("-decided_at", "-id").first()


def realname_summary(decision: RealnameVerification | None) -> str:
    if decision is None:
        return ""
    who = f"后台：{decision.decided_by}" if decision.decided_by_id else "核验服务"
    when = format_time(decision.decided_at, with_zone=False) if decision.decided_at else ""
    return f"{realname_method_label(decision.backend)}（{who}，{when}）"


def _realname_row(decision: RealnameVerification) -> AuditEventRow:
    return AuditEventRow(
        time=decision.decided_at or decision.submitted_at,
        action="实名认证通过",
        actor=f"后台：{decision.decided_by}" if decision.decided_by_id else "系统",
        ip="",
        note=f"核验方式：{realname_method_label(decision.backend)}",
        kind="realname",
    )


def approval_terms(application: SignApplication) -> str:
    """The terms the approval set, as one line (the fields of the contract issue are read when present)."""
    parts = []
    contract = application.contract if application.contract_id else None
    if contract is not None:
        parts.append(f"合同：{contract.contract_name}")
        parts.append(f"期限：{contract.sign_year} 年" if contract.sign_year else "期限：无固定期限")
    if application.entry_date:
        parts.append(f"入职日期：{application.entry_date.isoformat()}")
    parts.append(f"岗位：{application.work_pos}")
    parts.append(f"薪资：{format_salary(Decimal(application.salary))}")
    for attribute, label in (
        ("work_location", "工作地点"),
        ("probation_months", "试用期（月）"),
        ("working_hours", "工时制度"),
    ):
        value = getattr(application, attribute, None)
        if value not in (None, ""):
            display = getattr(application, f"get_{attribute}_display", None)
            parts.append(f"{label}：{display() if callable(display) else value}")
    return "；".join(parts)


def application_trail(application: SignApplication, *, extra: list[AuditEventRow] = ()) -> list[AuditEventRow]:
    """The trail (see the module docstring), with ``extra`` rows (written at signing) merged in."""
    events = list(
        SignEvent.objects.filter(application_id=application.pk)
        .select_related("actor_staff")
        .order_by("created_at", "id")
    )
    rows = audit_rows(events)
    terms = approval_terms(application)
    for index, event in enumerate(events):
        if event.kind == SignEvent.Kind.TRANSITION and (event.from_status, event.to_status) == (
            SignStatus.APPLIED,
            SignStatus.AWAITING_SIGNATURE,
        ):
            row = rows[index]
            note = "；".join(part for part in (row.note, terms) if part)
            rows[index] = AuditEventRow(**{**row.__dict__, "note": note})
    signed_at = next(
        (e.created_at for e in events if e.kind == SignEvent.Kind.TRANSITION and e.to_status == SignStatus.SIGNED),
        None,
    )
    decision = realname_decision(application.em.user_id, before=signed_at)
    if decision is not None:
        rows.append(_realname_row(decision))
    rows.extend(extra)
    return trail_order(rows)
