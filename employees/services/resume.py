"""
The resume's rows (SPEC §4.3–4.4, §5.1): what submitting or replacing a resume checks against
the database, and the writes. Input arrives shape-checked by
``employees.serializers.ResumeInSerializer``.

The use case — a submitted resume opens or updates a signing application — belongs to the layer
above (``signing.services.resume_submission``): it calls these, the writes inside its transaction.

* ``employee_check_can_create(user=…)`` — 409 when the user already has a resume.
* ``employee_of_user(user=…)`` — the user's resume, or 404.
* ``resume_clean(user=…, data=…, sms_required=…) -> ResumeInput`` — every field error at once
  (dictionaries, regions, uploads, a missing ``sms_code``) as one ``InvalidInput``.
* ``id_number_check_free(user=…, id_number=…)`` — 409 when another user holds the ID number.
* ``employee_insert(user=…, resume=…)`` — locks the user's row, checks again that there is no
  resume, and inserts the employee with its education and work rows.
* ``employee_lock(employee_id=…, resume=…, phone_proven=…)`` then ``employee_replace(employee=…,
  resume=…)`` — the locked row (404 gone; 409 when its phone changed since the unproven read),
  then every field and row replaced.
* ``resume_conflicts(user=…, id_number=…, creating=…, resume=…)`` — wraps the transaction: a lost
  race on a unique constraint (same ID number, double-submitted POST) becomes the 409 it means, a
  photo upload purged meanwhile the 400 it means.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import IntegrityError

from shanqian.errors import Conflict, InvalidInput, NotFound

from ..models import Employee, EmployeeEducation, Upload, WechatUser, WorkExperience
from ..uploads import NotYourUpload, upload_from_url
from ..validators import REGION_ID_FIELDS, dictionary_errors, resolve_regions

RESUME_EXISTS = "您已提交过简历，请使用修改简历"
RESUME_MISSING = "您还没有提交简历"
ID_NUMBER_TAKEN = "该身份证号已被其他用户使用，如有疑问请联系人事专员"
RESUME_CHANGED = "简历刚刚被修改过，请刷新后重试"
UPLOAD_GONE = "图片已失效，请重新上传"
PHOTO_FIELDS = ("id_card_front", "id_card_back")

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


# --- guards (cheap, before validation; re-checked under lock) ------------------------------------


def employee_check_can_create(*, user: WechatUser) -> None:
    if Employee.objects.filter(user_id=user.pk).exists():
        raise Conflict(RESUME_EXISTS)


def employee_of_user(*, user: WechatUser) -> Employee:
    employee = Employee.objects.filter(user_id=user.pk).first()
    if employee is None:
        raise NotFound(RESUME_MISSING)
    return employee


def id_number_check_free(*, user: WechatUser, id_number: str) -> None:
    if Employee.objects.by_id_number(id_number).exclude(user_id=user.pk).exists():
        raise Conflict(ID_NUMBER_TAKEN)


# --- validation against the database -------------------------------------------------------------


def resume_clean(*, user: WechatUser, data: dict, sms_required: bool) -> ResumeInput:
    """The resume's rows from the serializer's data; ``InvalidInput`` with every field error at once."""
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

    for name in PHOTO_FIELDS:
        fields[name] = None
        if data[name]:
            try:
                fields[name] = upload_from_url(user=user, url=data[name])
            except NotYourUpload as exc:
                errors[name] = [str(exc)]

    if sms_required and not data.get("sms_code"):
        errors["sms_code"] = ["请填写发送到该手机号的短信验证码。"]

    if errors:
        raise InvalidInput(errors=errors)
    return ResumeInput(fields=fields, educations=educations, works=works)


# --- writes (inside the caller's transaction) ------------------------------------------------------


def _write_rows(employee: Employee, resume: ResumeInput) -> None:
    employee.full_clean(exclude=_FK_FIELDS, validate_unique=False, validate_constraints=False)
    employee.save()
    EmployeeEducation.objects.bulk_create(EmployeeEducation(employee=employee, **item) for item in resume.educations)
    WorkExperience.objects.bulk_create(WorkExperience(employee=employee, **item) for item in resume.works)


def employee_insert(*, user: WechatUser, resume: ResumeInput) -> Employee:
    """The new resume and its rows; refused (409) when one appeared meanwhile."""
    # One submission per user at a time: a double-tapped submit waits here, then sees the first one's resume.
    WechatUser.objects.select_for_update().filter(pk=user.pk).values_list("pk", flat=True).first()
    if Employee.objects.filter(user_id=user.pk).exists():
        raise Conflict(RESUME_EXISTS)
    employee = Employee(user=user, **resume.fields)
    _write_rows(employee, resume)
    return employee


def employee_lock(*, employee_id: int, resume: ResumeInput, phone_proven: bool) -> Employee:
    """The resume's row, locked for its replacement by ``resume``."""
    employee = Employee.objects.select_for_update().filter(pk=employee_id).first()
    if employee is None:
        raise NotFound(RESUME_MISSING)
    if not phone_proven and employee.phone != resume.fields["phone"]:
        # The phone changed under us since the unlocked read: the new number was never proven.
        raise Conflict(RESUME_CHANGED)
    return employee


def employee_replace(*, employee: Employee, resume: ResumeInput) -> Employee:
    """Every field and row of the (locked) resume replaced by ``resume``."""
    for name, value in resume.fields.items():
        setattr(employee, name, value)
    employee.educations.all().delete()
    employee.work_exps.all().delete()
    _write_rows(employee, resume)
    return employee


@contextmanager
def resume_conflicts(
    *, user: WechatUser, id_number: str, creating: bool, resume: ResumeInput | None = None
) -> Iterator[None]:
    """
    Around the write's transaction: a lost race on a unique constraint raises the 409 it means; a
    photo upload of ``resume`` deleted meanwhile (the daily purge of unused uploads) the 400 it means.
    """
    try:
        yield
    except IntegrityError:
        # Which constraint did we hit? Asked after the rollback, outside the failed transaction.
        if creating and Employee.objects.filter(user_id=user.pk).exists():
            raise Conflict(RESUME_EXISTS) from None
        if Employee.objects.by_id_number(id_number).exclude(user_id=user.pk).exists():
            raise Conflict(ID_NUMBER_TAKEN) from None
        photos = {name: resume.fields[name] for name in PHOTO_FIELDS if resume and resume.fields.get(name)}
        present = set(Upload.objects.filter(pk__in=[u.pk for u in photos.values()]).values_list("pk", flat=True))
        gone = {name: [UPLOAD_GONE] for name, upload in photos.items() if upload.pk not in present}
        if gone:
            raise InvalidInput(errors=gone) from None
        raise
