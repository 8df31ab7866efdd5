"""
Reads of the employees app.

* ``employee_resume`` — the resume part of ``GET /api/employee``
in a fixed number of queries whatever the number of education/work rows: the
employee with both ID photos, then one query per row kind. The picks of the
latest application (company, position, handler) are added by the layer that owns
applications (``signing.selectors.resume_of_user``).
* ``verifications_visible_to(staff=…)`` — the back office's scope of real-name
  checks: all for a superuser, else those of the people the staff member handles.
* ``exact_number_search(queryset, term, phone=…, id_number=…)`` — a whole mobile or
  ID number typed into a back-office search, as an equality lookup (ID numbers by blind index).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet
from django.utils import timezone

from shanqian.roles import sees_everything

from .assignment import handled_user_ids
from .idcard import ID_NUMBER_SHAPE, IdNumberError, parse_id_number
from .models import Employee, EmployeeEducation, RealnameVerification, WechatUser, WorkExperience, id_number_index
from .phones import is_mobile
from .uploads import upload_name_url

if TYPE_CHECKING:
    from shanqian.models import AdminUser

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


_EDUCATION_COLUMNS = ("edu_type", "school", "major", "start_date", "end_date")
_WORK_COLUMNS = ("company_name", "work_pos", "start_date", "end_date", "description")
_ROW_ORDER = ("start_date", "id")  # the rows' Meta ordering, spelled out for values_list()


def _iso(value):
    return value.isoformat() if value is not None else None


def _rows(queryset, columns: tuple[str, ...]) -> list[dict]:
    # Dates leave as ISO strings, exactly as ResumeOutSerializer's DateFields would render them.
    return [
        {name: _iso(value) if name.endswith("_date") else value for name, value in zip(columns, row, strict=True)}
        for row in queryset.order_by(*_ROW_ORDER).values_list(*columns)
    ]


def employee_resume(*, user: WechatUser, request=None) -> dict | None:
    """
    The resume as the seed names it, already in its JSON shape (the shape
    ``ResumeOutSerializer`` documents, less the application's picks), or None
    when the user has none. Photo URLs are freshly signed.

    Hot path: plain ``values()`` rows and a dict built here cost a fraction of
    model instances, prefetch and a nested serializer (see docs/benchmarks.md).
    """
    employee = (
        Employee.objects.filter(user_id=user.pk)
        .values(*RESUME_FIELDS, "id", "age", "gender", "id_card_front__file", "id_card_back__file")
        .first()
    )
    if employee is None:
        return None
    em_id = employee["id"]
    data = {field: employee[field] for field in RESUME_FIELDS}
    try:
        # Age moves on with the calendar; the stored value is the age when the resume was saved.
        data["age"] = parse_id_number(employee["id_number"]).age_on(timezone.localdate())
    except IdNumberError:
        data["age"] = employee["age"]
    front, back = employee["id_card_front__file"], employee["id_card_back__file"]
    data.update(
        id=em_id,
        gender=employee["gender"],
        id_card_front=upload_name_url(front, request=request),
        id_card_back=upload_name_url(back, request=request),
        employee_edu=_rows(EmployeeEducation.objects.filter(employee_id=em_id), _EDUCATION_COLUMNS),
        work_exp=_rows(WorkExperience.objects.filter(employee_id=em_id), _WORK_COLUMNS),
    )
    return data


# --- back office ------------------------------------------------------------------------------------


def verifications_visible_to(*, staff: AdminUser, queryset: QuerySet | None = None) -> QuerySet:
    """The real-name checks ``staff`` may see: all for a superuser, else those of the people they handle."""
    queryset = RealnameVerification.objects.all() if queryset is None else queryset
    if sees_everything(staff):
        return queryset
    return queryset.filter(user_id__in=handled_user_ids(staff))


def exact_number_search(queryset: QuerySet, term: str, *, phone: str | None, id_number: str) -> QuerySet | None:
    """
    A whole mobile number or ID number (a lower-case x accepted) typed into a back-office search is
    an equality lookup on the ``phone`` path / the ``id_number`` path of ``queryset``'s model; None
    for any other term (the caller's name search applies). ID numbers are encrypted at rest, so
    ``id_number`` (e.g. ``"em__id_number"``) is matched through its blind index
    (``"em__id_number_index"``), which the unique index on the employee serves.
    """
    term = term.strip()
    if phone and is_mobile(term):
        return queryset.filter(**{phone: term})
    if ID_NUMBER_SHAPE.match(term.upper()):
        return queryset.filter(**{f"{id_number}_index": id_number_index(term)})
    return None
