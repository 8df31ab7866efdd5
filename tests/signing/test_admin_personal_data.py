"""
Masked by default, revealed on the record (SPEC §13; shanqian.admin_personal): every back-office page
masks phones, ID numbers and emergency-contact phones for handlers *and* superusers; 显示完整信息
reveals them on that page only and writes exactly one access record; a full export is for
superusers only and is recorded with its row count.
"""

import io

import pytest
from django.db import connection
from openpyxl import load_workbook

from employees.masking import mask_id_number, mask_phone
from employees.models import RealnameVerification
from employees.services.realname import realname_submit
from shanqian.models import PersonalDataAccess
from tests.factories import EmploymentContractFactory, make_application
from tests.support.admin import CHANGELIST, action_post, client_for

pytestmark = pytest.mark.django_db

EMPLOYEES = "/admin/employees/employee/"
REALNAME = "/admin/employees/realnameverification/"
LEDGER = "/admin/signing/employmentcontract/"
CONTACT_PHONE = "13955556666"


@pytest.fixture
def person(handler, company, contract):
    """The handler's application of a resume with an emergency contact, a verification and a ledger record."""
    contact = {"em_contact_name": "张父", "em_contact_phone": CONTACT_PHONE}
    application = make_application(handler=handler, company=company, name="张三", employee=contact)
    verification = realname_submit(user=application.em.user)
    ledger = EmploymentContractFactory(application=make_application(handler=handler, company=company, status=3))
    return application, verification, ledger


def secrets_of(employee):
    return employee.phone, employee.id_number, employee.em_contact_phone


def pages(person):
    """(detail page, list page, the person shown) of each admin that shows a person."""
    application, verification, ledger = person
    return [
        (f"{CHANGELIST}{application.pk}/change/", CHANGELIST, application.em),
        (f"{EMPLOYEES}{application.em_id}/change/", EMPLOYEES, application.em),
        (f"{REALNAME}{verification.pk}/change/", f"{REALNAME}?status=all", application.em),
        (f"{LEDGER}{ledger.pk}/change/", LEDGER, ledger.employee),
    ]


@pytest.mark.parametrize("who", ["handler", "superuser"])
def test_every_page_is_masked_for_everybody(request, who, person):
    client = client_for(request.getfixturevalue(who))

    for detail, listing, employee in pages(person):
        for url in (detail, listing):
            response = client.get(url)
            assert response.status_code == 200, url
            page = response.content.decode()
            for secret in secrets_of(employee):
                if secret:
                    assert secret not in page, (url, secret)
        page = client.get(detail).content.decode()
        assert mask_id_number(employee.id_number) in page and "显示完整信息" in page
    application = person[0]
    assert mask_phone(CONTACT_PHONE) in client.get(f"{CHANGELIST}{application.pk}/change/").content.decode()
    # The review confirmation page too.
    confirm = action_post(client, "reject_selected", [application.pk]).content.decode()
    assert application.em.phone not in confirm and mask_phone(application.em.phone) in confirm


@pytest.mark.parametrize("who", ["handler", "superuser"])
def test_reveal_shows_the_numbers_on_that_page_and_writes_one_record(request, who, person):
    staff = request.getfixturevalue(who)
    client = client_for(staff)

    for detail, _listing, employee in pages(person):
        before = PersonalDataAccess.objects.count()
        reveal = detail.replace("/change/", "/reveal/")

        response = client.post(reveal, REMOTE_ADDR="10.1.2.3", HTTP_USER_AGENT="TestBrowser")

        assert response.status_code == 200, detail
        page = response.content.decode()
        assert employee.id_number in page, detail
        if "realnameverification" not in detail:  # a verification carries no phone
            assert employee.phone in page, detail
        assert "已显示完整信息" in page
        assert PersonalDataAccess.objects.count() == before + 1
        record = PersonalDataAccess.objects.latest("id")
        assert record.staff == staff and record.action == PersonalDataAccess.Action.REVEAL
        assert record.path == reveal and record.ip == "10.1.2.3" and record.user_agent == "TestBrowser"
        assert "身份证号" in record.fields and employee.id_number not in record.fields
        # That page only: the next visit is masked again, and writes nothing.
        assert employee.id_number not in client.get(detail).content.decode()
        assert PersonalDataAccess.objects.count() == before + 1
    application = person[0]
    page = client.post(f"{CHANGELIST}{application.pk}/reveal/").content.decode()
    assert CONTACT_PHONE in page
    record = PersonalDataAccess.objects.latest("id")
    assert record.target_type == "signing.signapplication" and record.target_id == str(application.pk)
    assert record.fields == "手机号、身份证号、紧急联系人电话"


def test_a_reveal_must_be_a_post(handler_client, person):
    application = person[0]

    assert handler_client.get(f"{CHANGELIST}{application.pk}/reveal/").status_code == 405
    assert not PersonalDataAccess.objects.exists()


def test_a_handler_cannot_reveal_outside_their_scope(handler_client, others_application):
    employee = others_application.em
    theirs = realname_submit(user=employee.user)
    ledger = EmploymentContractFactory(application=others_application)

    for url in (
        f"{CHANGELIST}{others_application.pk}/reveal/",
        f"{EMPLOYEES}{employee.pk}/reveal/",
        f"{REALNAME}{theirs.pk}/reveal/",
        f"{LEDGER}{ledger.pk}/reveal/",
        f"{EMPLOYEES}999999/reveal/",
    ):
        response = handler_client.post(url)
        assert response.status_code == 302 and response["Location"] == "/admin/", url
        assert employee.id_number not in handler_client.get(response["Location"]).content.decode()
    assert not PersonalDataAccess.objects.exists()


def test_a_reveal_needs_a_csrf_token(handler, person):
    from django.test import Client

    client = Client(enforce_csrf_checks=True)
    client.force_login(handler)

    assert client.post(f"{CHANGELIST}{person[0].pk}/reveal/").status_code == 403
    assert not PersonalDataAccess.objects.exists()


def test_the_reveal_costs_what_the_page_costs(handler_client, person, django_assert_max_num_queries):
    application = person[0]
    with django_assert_max_num_queries(10) as page_queries:  # 9, plus a content type read once per process
        handler_client.get(f"{CHANGELIST}{application.pk}/change/")

    # The reveal adds its own lookup of the object (the row with the resume; education and work
    # history prefetched) and the record's INSERT — nothing per row.
    with django_assert_max_num_queries(len(page_queries) + 3):
        response = handler_client.post(f"{CHANGELIST}{application.pk}/reveal/")
    assert response.status_code == 200


def sheet(response) -> list[dict]:
    rows = list(load_workbook(io.BytesIO(b"".join(response.streaming_content))).active.iter_rows(values_only=True))
    return [dict(zip(rows[0], row, strict=True)) for row in rows[1:]]


def test_exports_are_masked_and_a_full_export_is_a_superusers_and_recorded(super_client, handler_client, person):
    application = person[0]
    for url in (f"{CHANGELIST}export/", f"{LEDGER}export/"):
        for client in (handler_client, super_client):
            rows = sheet(client.get(url))
            assert rows and all(row["身份证号"] and "*" in row["身份证号"] for row in rows), url
        assert handler_client.get(f"{url}?full=1").status_code == 403
    assert not PersonalDataAccess.objects.exists()
    assert "sq-export-full-link" not in handler_client.get(CHANGELIST).content.decode()
    assert "sq-export-full-link" in super_client.get(CHANGELIST).content.decode()

    rows = sheet(super_client.get(f"{CHANGELIST}export/?full=1"))

    assert application.em.id_number in {row["身份证号"] for row in rows}
    record = PersonalDataAccess.objects.get()
    assert record.action == PersonalDataAccess.Action.EXPORT and record.rows == len(rows) == 2
    assert record.target_type == "signing.signapplication"


def test_the_full_export_action_is_offered_to_superusers_only(super_client, handler_client, person):
    application = person[0]

    handler_page = handler_client.get(CHANGELIST).content.decode()
    assert "export_selected_full" not in handler_page
    refused = action_post(handler_client, "export_selected_full", [application.pk])
    assert not hasattr(refused, "streaming_content")
    assert not PersonalDataAccess.objects.exists()

    response = action_post(super_client, "export_selected_full", [application.pk])

    assert [row["身份证号"] for row in sheet(response)] == [application.em.id_number]
    assert PersonalDataAccess.objects.get().rows == 1


def test_a_full_export_as_a_background_job_is_recorded_at_its_start(settings, super_client, handler, company):
    from shanqian.models import BulkJob

    settings.BULK_INLINE_LIMIT = 2
    applications = [make_application(handler=handler, company=company) for _ in range(3)]

    response = action_post(super_client, "export_selected_full", [a.pk for a in applications])

    assert response.status_code == 302
    job = BulkJob.objects.get()
    assert job.params == {"full": True}
    assert PersonalDataAccess.objects.get().rows == 3


def test_lists_stay_flat_with_many_rows(super_client, handler, company, django_assert_max_num_queries):
    for _ in range(30):
        make_application(handler=handler, company=company, photos=False)
    RealnameVerification.objects.all().delete()

    # PostgreSQL's EstimatedCountPaginator reads the planner's estimate (pg_class) once more.
    estimate = 1 if connection.vendor == "postgresql" else 0
    for url, limit in ((CHANGELIST, 6 + estimate), (EMPLOYEES, 5)):
        with django_assert_max_num_queries(limit):
            assert super_client.get(url).status_code == 200
