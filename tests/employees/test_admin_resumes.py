"""Resumes in the back office: read-only, education and work history inline, photos, the applications."""

import re

import pytest

from employees.models import Employee
from shanqian.storage import file_name_from_url
from tests.factories import EmployeeFactory, make_application
from tests.support.admin import client_for, search

pytestmark = pytest.mark.django_db

EMPLOYEES = "/admin/employees/employee/"


def test_resume_page_shows_everything_read_only(super_client, application):
    employee = application.em

    page = super_client.get(f"{EMPLOYEES}{employee.pk}/change/").content.decode()

    assert employee.real_name in page
    assert employee.phone not in page and employee.id_number not in page  # masked for superusers too
    revealed = super_client.post(f"{EMPLOYEES}{employee.pk}/reveal/").content.decode()
    assert employee.phone in revealed and employee.id_number in revealed
    assert "教育经历" in page and "北京大学" in page
    assert "工作经历" in page and "某某科技有限公司" in page
    photos = re.findall(r'<img src="([^"]+)" alt="身份证(?:正面|反面)"', page)
    assert [file_name_from_url(url) for url in photos] == [
        employee.id_card_front.file.name,
        employee.id_card_back.file.name,
    ]
    assert f"/admin/signing/signapplication/{application.pk}/change/" in page
    assert 'name="real_name"' not in page and 'name="_save"' not in page
    assert super_client.post(f"{EMPLOYEES}{employee.pk}/change/", {"real_name": "改名"}).status_code == 403
    assert super_client.get(f"{EMPLOYEES}add/").status_code == 403
    assert Employee.objects.get(pk=employee.pk).real_name == employee.real_name


def test_resume_list_search_and_masking(super_client, handler_client, application, others_application):
    employee = application.em

    assert employee.phone not in super_client.get(EMPLOYEES).content.decode()  # lists are masked for everybody
    handler_page = handler_client.get(EMPLOYEES).content.decode()
    assert employee.phone not in handler_page and f"{employee.phone[:3]}****{employee.phone[-4:]}" in handler_page
    found = search(super_client, EMPLOYEES, others_application.em.id_number).content.decode()
    assert "赵六" in found and "张三" not in found
    assert "赵六" not in search(handler_client, EMPLOYEES, others_application.em.phone).content.decode()


def test_a_handler_sees_only_their_applications_on_a_shared_resume(handler, other_handler, company):
    """An employee who applied twice, to two handlers: each sees only their own application on the resume."""
    first = make_application(handler=other_handler, company=company, name="两次申请", status=4)
    from tests.factories import SignApplicationFactory

    mine = SignApplicationFactory(em=first.em, ad_user=handler, company=company)

    page = client_for(handler).get(f"{EMPLOYEES}{first.em_id}/change/").content.decode()

    assert f"/admin/signing/signapplication/{mine.pk}/change/" in page
    assert f"/admin/signing/signapplication/{first.pk}/change/" not in page


def test_resume_list_query_count_is_flat(superuser, django_assert_max_num_queries):
    EmployeeFactory.create_batch(60)
    client = client_for(superuser)

    with django_assert_max_num_queries(5):
        response = client.get(EMPLOYEES)

    assert response.status_code == 200
    assert response.content.decode().count('class="action-checkbox"') == 0  # no actions: read-only
