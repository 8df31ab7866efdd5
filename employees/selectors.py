"""
Reads of the resume. ``employee_resume`` answers ``GET /api/employee`` in a
fixed number of queries whatever the number of education/work rows or past
applications: the employee with both ID photos, one query per row kind, and
the latest application with its company and handler.
"""

from __future__ import annotations

from django.utils import timezone

from signing.selectors import LATEST

from .idcard import IdNumberError, parse_id_number
from .models import Employee, WechatUser
from .uploads import upload_url

RESUME_FIELDS = (
    "real_name",
    "phone",
    "id_number",
    "nation",
    "marital_sts",
    "political_sts",
    "acct_type",
    "acct_prc_id",
    "acct_prc_name",
    "acct_city_id",
    "acct_city_name",
    "acct_coy_id",
    "acct_coy_name",
    "acct_addr",
    "province_id",
    "province_name",
    "city_id",
    "city_name",
    "county_id",
    "county_name",
    "addr",
    "em_contact_name",
    "em_contact_phone",
    "em_contact_relationship",
)


def employee_resume(*, user: WechatUser, request=None) -> dict | None:
    """The resume as the seed names it, or None when the user has none. Photo URLs are freshly signed."""
    from signing.models import SignApplication

    employee = (
        Employee.objects.select_related("id_card_front", "id_card_back")
        .prefetch_related("educations", "work_exps")
        .filter(user_id=user.pk)
        .first()
    )
    if employee is None:
        return None
    application = (
        SignApplication.objects.select_related("company", "ad_user").filter(em_id=employee.pk).order_by(*LATEST).first()
    )
    data = {field: getattr(employee, field) for field in RESUME_FIELDS}
    try:
        # Age moves on with the calendar; the stored value is the age when the resume was saved.
        data["age"] = parse_id_number(employee.id_number).age_on(timezone.localdate())
    except IdNumberError:
        data["age"] = employee.age
    data.update(
        id=employee.pk,
        gender=employee.gender,
        id_card_front=upload_url(employee.id_card_front, request=request),
        id_card_back=upload_url(employee.id_card_back, request=request),
        company_id=application.company_id if application else None,
        company={"id": application.company_id, "company_name": application.company.company_name}
        if application
        else None,
        work_pos=application.work_pos if application else "",
        ad_user_id=application.ad_user_id if application else None,
        ad_user={"id": application.ad_user_id, "name": application.ad_user.display_name} if application else None,
        employee_edu=list(employee.educations.all()),
        work_exp=list(employee.work_exps.all()),
    )
    return data
