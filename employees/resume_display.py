"""
The resume as the back office shows it, written once: the resume page (``EmployeeAdmin``) and the
application page (``signing.admin.SignApplicationAdmin``) both render a resume through these.

Each display is a plain function of an ``Employee`` (text, or safe HTML for the photo and row
tables). ``resume_field(label, display, through=…)`` turns one into an admin display method for
rows that reach the resume through an attribute (``through="em"`` on an application); an empty
value shows as ``-``. ``NumberSearchMixin`` makes a whole mobile or ID number typed into a list's
search an exact lookup.
"""

from __future__ import annotations

from collections.abc import Callable

from django.contrib import admin
from django.utils import timezone

from dictionaries.selectors import dict_value
from shanqian.admin_tools import Photo, photos_html, table_html

from .idcard import IdNumberError, parse_id_number
from .models import Employee
from .selectors import exact_number_search
from .uploads import upload_url

EMPTY = "-"


def age_now(employee: Employee) -> int:
    """Age moves on with the calendar; the stored value is the age when the resume was saved."""
    try:
        return parse_id_number(employee.id_number).age_on(timezone.localdate())
    except IdNumberError:
        return employee.age


def nation_label(employee: Employee) -> str:
    return dict_value("Nation", employee.nation) or employee.nation


def relationship_label(employee: Employee) -> str:
    value = employee.em_contact_relationship
    return dict_value("Relationship", value) or value


def _joined(*parts) -> str:
    return "".join(part for part in parts if part)


def acct_address(employee: Employee) -> str:
    """户籍地址: province, city, county names and the detail, as one line."""
    return _joined(employee.acct_prc_name, employee.acct_city_name, employee.acct_coy_name, employee.acct_addr)


def current_address(employee: Employee) -> str:
    """现居地址: province, city, county names and the detail, as one line."""
    return _joined(employee.province_name, employee.city_name, employee.county_name, employee.addr)


def emergency_contact(employee: Employee, *, mask: Callable[[str], str] | None = None) -> str:
    """Name, relationship and phone of the emergency contact; the phone through ``mask`` when given."""
    phone = employee.em_contact_phone
    if mask is not None and phone:
        phone = mask(phone)
    parts = (employee.em_contact_name, relationship_label(employee), phone)
    return " ".join(part for part in parts if part)


def id_card_photos(front, back, *, thumbnails: bool = False):
    """Both ID card photos (uploads, either may be None), each a fresh signed link."""
    return photos_html(
        [
            Photo(f"身份证{side}", upload_url(upload) if upload is not None else "")
            for side, upload in (("正面", front), ("反面", back))
        ],
        thumbnails=thumbnails,
    )


def education_table(employee: Employee):
    rows = [
        (
            dict_value("Edu_Type", edu.edu_type) or edu.edu_type,
            edu.school,
            edu.major or EMPTY,
            f"{edu.start_date:%Y-%m} 至 {edu.end_date:%Y-%m}",
        )
        for edu in employee.educations.all()
    ]
    return table_html(("学历", "学校", "专业", "起止时间"), rows, empty="未填写教育经历")


def work_table(employee: Employee):
    rows = [
        (
            work.company_name,
            work.work_pos,
            f"{work.start_date:%Y-%m} 至 {f'{work.end_date:%Y-%m}' if work.end_date else '今'}",
            work.description or EMPTY,
        )
        for work in employee.work_exps.all()
    ]
    return table_html(("单位", "岗位", "起止时间", "工作描述"), rows, empty="无工作经历（首份工作）")


def resume_field(label: str, display: str | Callable[[Employee], object], *, through: str = ""):
    """
    An admin display method showing one part of the resume: ``display`` is an attribute of the
    employee or a function of it; ``through`` the attribute leading from the row to the employee.
    """

    @admin.display(description=label)
    def field(modeladmin, row):
        employee = getattr(row, through) if through else row
        value = getattr(employee, display) if isinstance(display, str) else display(employee)
        return value if value not in (None, "") else EMPTY

    return field


class NumberSearchMixin:
    """
    For a ModelAdmin listing people: a whole mobile or ID number typed into the search is an
    equality lookup on these paths (``employees.selectors.exact_number_search``); anything else is
    the admin's own search. ``number_search_phone = None`` for rows without a phone.
    """

    number_search_phone: str | None = "phone"
    number_search_id_number: str = "id_number"

    def get_search_results(self, request, queryset, search_term):
        exact = exact_number_search(
            queryset, search_term, phone=self.number_search_phone, id_number=self.number_search_id_number
        )
        if exact is not None:
            return exact, False
        return super().get_search_results(request, queryset, search_term)
