"""
The seed's contract, kept (issue 15): ``em_contact_relationship`` is varchar(32) free text.
A value such as 父母 was refused as "请从列表中选择" and the whole resume lost. SPEC §5.1: a
``Relationship`` key, its label, or any other short text is accepted; the back office shows a key
as its label.
"""

import pytest

from employees.models import Employee
from tests.envelope import assert_error, assert_ok
from tests.factories import AdminUserFactory, resume_payload

pytestmark = pytest.mark.django_db

URL = "/api/employee"


@pytest.mark.parametrize("value", ["parent", "父母", "表哥", "邻居（同村）"])
def test_a_key_a_label_or_any_short_text_is_accepted(user_api, world, value):
    assert_ok(user_api.post(URL, resume_payload(world, user_api.user, em_contact_relationship=value), format="json"))

    assert Employee.objects.get(user=user_api.user).em_contact_relationship == value


def test_more_than_32_characters_is_refused_on_that_field(user_api, world):
    body = assert_error(
        user_api.post(URL, resume_payload(world, user_api.user, em_contact_relationship="亲" * 33), format="json"),
        400,
        40000,
    )

    assert "em_contact_relationship" in body["data"]["errors"]


def test_the_back_office_shows_a_key_as_its_label_and_free_text_as_it_is(user_api, world, client):
    assert_ok(user_api.post(URL, resume_payload(world, user_api.user, em_contact_relationship="parent"), format="json"))
    employee = Employee.objects.get(user=user_api.user)
    client.force_login(AdminUserFactory(is_superuser=True, is_staff=True))

    page = client.get(f"/admin/employees/employee/{employee.pk}/change/").content.decode()
    assert "父母" in page

    Employee.objects.filter(pk=employee.pk).update(em_contact_relationship="表哥")
    page = client.get(f"/admin/employees/employee/{employee.pk}/change/").content.decode()
    assert "表哥" in page
