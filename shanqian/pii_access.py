"""
Access records of personal data (SPEC §13: 显示完整信息 writes who, what, when, IP).

* ``access_record(*, request, obj, fields, action=REVEAL, rows=1) -> PersonalDataAccess`` — one row:
  the staff member, the object (type, id, a label that carries no personal value), the *labels*
  of the fields seen in full, the page path (without its query string: it may hold a search
  term), IP and user agent. Call it before the values are shown.
* ``export_record(*, request, model, count, fields)`` — an unmasked export of ``count`` rows.

Superusers read the records in the back office (个人信息访问记录, read-only); nobody can change or
delete them there.
"""

from __future__ import annotations

from collections.abc import Iterable

from .client import client_context
from .models import PersonalDataAccess

Action = PersonalDataAccess.Action


def _label(obj) -> str:
    return f"{obj._meta.verbose_name} #{obj.pk}"


def access_record(*, request, obj, fields: Iterable[str], action: str = Action.REVEAL, rows: int = 1):
    client = client_context(request)
    return PersonalDataAccess.objects.create(
        staff=request.user,
        action=action,
        target_type=obj._meta.label_lower,
        target_id=str(obj.pk),
        target_repr=_label(obj)[:128],
        fields="、".join(fields)[:255],
        rows=rows,
        path=request.path[:255],
        ip=client.ip,
        user_agent=client.user_agent[:512],
    )


def export_record(*, request, model, count: int, fields: Iterable[str]):
    client = client_context(request)
    return PersonalDataAccess.objects.create(
        staff=request.user,
        action=Action.EXPORT,
        target_type=model._meta.label_lower,
        target_id="",
        target_repr=f"{model._meta.verbose_name_plural} {count} 条"[:128],
        fields="、".join(fields)[:255],
        rows=count,
        path=request.path[:255],
        ip=client.ip,
        user_agent=client.user_agent[:512],
    )
