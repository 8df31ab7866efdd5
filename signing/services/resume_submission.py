"""
Submitting and replacing a resume (``POST``/``PUT /api/employee``, SPEC §4.3–4.4): the resume
(``employees.services.resume``) and the application it opens or updates (``applications``), in
one transaction. The use case lives here, a layer above the resume, because it causes an
application; it calls down, never the other way.

Order of refusal, so a user never burns an SMS try on a request that would fail anyway: state
(409: resume exists / locked) → every field error at once (400: dictionaries, regions, uploads,
company/position/handler, missing ``sms_code``) → ID number held by another user (409) → SMS
code (42201) → the write. The write re-checks the state under row locks and maps a lost
unique-constraint race (same ID number, double-submitted POST) to 409.

* ``resume_submit`` — Employee + education/work rows + a status-1 application (with its audit
  event), atomically. The user's row is locked first, so a double-submitted POST gives one 200
  and one 409. The caller has run ``employee_check_can_create`` (the view does, before
  validation, so 409 beats field errors); the check is repeated under the lock.
* ``resume_replace`` — full replacement under the employee's row lock: refused (409) while the
  latest application is 2 待签约 or 3 已签约; while it is 1 the application follows the new
  company/position/handler (a NOTE audit event records it); after 4 or 5 a new status-1
  application is opened (old ones are kept). Education/work rows are deleted and recreated.
  Any failure rolls everything back, the old resume stays as it was.
* ``resume_check_can_update`` — the cheap pre-check of ``PUT`` (404 without a resume, 409 locked).
"""

from __future__ import annotations

from django.db import transaction

from employees.models import Employee, SmsPurpose, WechatUser
from employees.otp import sms_code_check, sms_code_consume
from employees.services.resume import (
    ResumeInput,
    employee_insert,
    employee_lock,
    employee_of_user,
    employee_replace,
    id_number_check_free,
    resume_clean,
    resume_conflicts,
)
from shanqian.client import ClientContext
from shanqian.errors import Conflict, InvalidInput

from ..models import SignStatus
from ..selectors import application_latest
from .applications import ApplicationChoice, application_choice_clean, application_create, application_update_pending

RESUME_LOCKED = "简历处于待签约或已签约状态，不能修改"
LOCKED_STATUSES = frozenset({SignStatus.AWAITING_SIGNATURE, SignStatus.SIGNED})
REOPEN_STATUSES = frozenset({SignStatus.REJECTED, SignStatus.CANCELLED})


def _clean(*, user: WechatUser, data: dict, sms_required: bool) -> tuple[ResumeInput, ApplicationChoice]:
    """The resume and the employee's picks, with the field errors of both in one ``InvalidInput``."""
    errors: dict = {}
    resume = choice = None
    try:
        resume = resume_clean(user=user, data=data, sms_required=sms_required)
    except InvalidInput as exc:
        errors.update(exc.data["errors"])
    try:
        choice = application_choice_clean(
            company_id=data["company_id"], work_pos=data["work_pos"], ad_user_id=data["ad_user_id"]
        )
    except InvalidInput as exc:
        errors.update(exc.data["errors"])
    if errors:
        raise InvalidInput(errors=errors)
    return resume, choice


def resume_check_can_update(*, user: WechatUser) -> Employee:
    employee = employee_of_user(user=user)
    latest = application_latest(employee_id=employee.pk)
    if latest is not None and latest.status in LOCKED_STATUSES:
        raise Conflict(RESUME_LOCKED)
    return employee


def resume_submit(*, user: WechatUser, data: dict, client: ClientContext | None = None) -> Employee:
    """Submit the resume: the employee, their rows and a status-1 application, in one transaction."""
    resume, choice = _clean(user=user, data=data, sms_required=True)
    id_number_check_free(user=user, id_number=resume.fields["id_number"])
    code = sms_code_check(phone=resume.fields["phone"], purpose=SmsPurpose.RESUME, code=data["sms_code"])
    with (
        resume_conflicts(user=user, id_number=resume.fields["id_number"], creating=True, resume=resume),
        transaction.atomic(),
    ):
        employee = employee_insert(user=user, resume=resume)
        sms_code_consume(code)
        application_create(employee=employee, choice=choice, actor_user=user, client=client, employee_is_new=True)
    return employee


def resume_replace(*, user: WechatUser, data: dict, client: ClientContext | None = None) -> Employee:
    """Replace the whole resume (SPEC §4.4); see the module docstring for what happens to the application."""
    current = resume_check_can_update(user=user)
    phone_changed = data["phone"] != current.phone
    resume, choice = _clean(user=user, data=data, sms_required=phone_changed)
    id_number_check_free(user=user, id_number=resume.fields["id_number"])
    code = (
        sms_code_check(phone=resume.fields["phone"], purpose=SmsPurpose.RESUME, code=data["sms_code"])
        if phone_changed
        else None
    )
    with (
        resume_conflicts(user=user, id_number=resume.fields["id_number"], creating=False, resume=resume),
        transaction.atomic(),
    ):
        # Locks in this order everywhere: the employee, then their latest application.
        employee = employee_lock(employee_id=current.pk, resume=resume, phone_proven=code is not None)
        latest = application_latest(employee_id=employee.pk, lock=True)
        if latest is not None and latest.status in LOCKED_STATUSES:
            raise Conflict(RESUME_LOCKED)
        employee_replace(employee=employee, resume=resume)
        if code is not None:
            sms_code_consume(code)
        if latest is None or latest.status in REOPEN_STATUSES:
            application_create(employee=employee, choice=choice, actor_user=user, client=client)
        else:
            application_update_pending(application=latest, choice=choice, actor_user=user, client=client)
    return employee
