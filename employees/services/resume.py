"""
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

from dataclasses import dataclass

from django.db import IntegrityError, transaction

from shanqian.client import ClientContext
from shanqian.errors import Conflict, InvalidInput, NotFound
from signing.models import SignStatus
from signing.selectors import application_latest
from signing.services import applications as signing_services

from ..models import Employee, EmployeeEducation, SmsPurpose, WechatUser, WorkExperience
from ..otp import sms_code_check, sms_code_consume
from ..uploads import NotYourUpload, upload_from_url
from ..validators import REGION_ID_FIELDS, dictionary_errors, resolve_regions

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
