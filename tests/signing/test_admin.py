"""
The signing applications' list and page: columns, masking, the work-queue order,
search, filters, the review page's content, read-only everything, and the list's
query count with 200 applications.
"""

import datetime
import re

import pytest
from django.core.files.base import ContentFile
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone

from employees.masking import mask_id_number, mask_phone
from shanqian.storage import file_name_from_url
from signing.models import SignApplication, SignedDocument, SignEvent, SignStatus
from signing.services.applications import application_approve, application_reject
from tests.factories import EmployeeFactory, SignApplicationFactory, make_application
from tests.support.admin import CHANGELIST, approve_data, client_for, search, search_query

pytestmark = pytest.mark.django_db


def names_in_list(response) -> list[str]:
    return re.findall(r'<th class="field-employee_name"><a href="[^"]+">([^<]+)</a></th>', response.content.decode())


def set_apply_time(application, when):
    SignApplication.objects.filter(pk=application.pk).update(apply_time=when)


# --- columns and masking ------------------------------------------------------------------------------


def test_superuser_list_masks_phone_and_id_number_too(super_client, application):
    page = super_client.get(CHANGELIST).content.decode()

    assert application.em.phone not in page and mask_phone(application.em.phone) in page
    assert application.em.id_number not in page and mask_id_number(application.em.id_number) in page
    for header in ("姓名", "手机号", "身份证号", "用人单位", "岗位", "处理人", "签约状态", "申请时间"):
        assert header in page
    assert "王芳" in page and "甲科技有限公司" in page
    assert 'class="sq-status sq-status-1"' in page


def test_handler_list_masks_phone_and_id_number(handler_client, application):
    employee = application.em
    page = handler_client.get(CHANGELIST).content.decode()

    assert f"{employee.phone[:3]}****{employee.phone[-4:]}" in page
    assert f"{employee.id_number[:6]}********{employee.id_number[-4:]}" in page
    assert employee.phone not in page
    assert employee.id_number not in page


def test_nothing_is_editable_by_hand(super_client, application):
    page = super_client.get(f"{CHANGELIST}{application.pk}/change/").content.decode()

    assert 'name="status"' not in page
    assert 'name="_save"' not in page
    assert super_client.get(f"{CHANGELIST}add/").status_code == 403
    assert super_client.get(f"{CHANGELIST}{application.pk}/delete/").status_code == 403
    response = super_client.post(f"{CHANGELIST}{application.pk}/change/", {"status": SignStatus.SIGNED})
    assert response.status_code == 403
    assert SignApplication.objects.get(pk=application.pk).status == SignStatus.APPLIED
    assert "delete_selected" not in super_client.get(CHANGELIST).content.decode()


def test_events_and_documents_are_read_only(super_client, application):
    event = application.events.create(kind=SignEvent.Kind.NOTE, note="备注")

    assert super_client.get("/admin/signing/signevent/").status_code == 200
    assert super_client.get(f"/admin/signing/signevent/{event.pk}/change/").status_code == 200
    assert super_client.get("/admin/signing/signevent/add/").status_code == 403
    assert super_client.post(f"/admin/signing/signevent/{event.pk}/change/", {"note": "改"}).status_code == 403
    assert super_client.get(f"/admin/signing/signevent/{event.pk}/delete/").status_code == 403
    assert super_client.get("/admin/signing/signeddocument/add/").status_code == 403
    assert SignEvent.objects.get(pk=event.pk).note == "备注"


# --- ordering ------------------------------------------------------------------------------------------


def test_default_order_puts_waiting_work_first_oldest_first_then_the_rest_newest_first(
    super_client, handler, company, contract
):
    now = timezone.now()
    rows = {}
    for name, status, days_ago in [
        ("新申请", SignStatus.APPLIED, 1),
        ("老申请", SignStatus.APPLIED, 5),
        ("待签新", SignStatus.AWAITING_SIGNATURE, 0),
        ("待签老", SignStatus.AWAITING_SIGNATURE, 9),
        ("已签老", SignStatus.SIGNED, 20),
        ("驳回新", SignStatus.REJECTED, 2),
        ("取消中", SignStatus.CANCELLED, 3),
    ]:
        rows[name] = make_application(handler=handler, company=company, name=name, status=status, photos=False)
        set_apply_time(rows[name], now - datetime.timedelta(days=days_ago))

    response = super_client.get(CHANGELIST)

    assert names_in_list(response) == ["老申请", "新申请", "待签老", "待签新", "驳回新", "取消中", "已签老"]


def test_clicking_a_column_sorts_by_it(super_client, handler, company):
    for name in ("乙", "甲", "丙"):
        make_application(handler=handler, company=company, name=name, photos=False)

    response = super_client.get(f"{CHANGELIST}?o=1")

    assert names_in_list(response) == sorted(["乙", "甲", "丙"])


# --- search ------------------------------------------------------------------------------------------------


def test_search_by_name_phone_and_id_number(super_client, handler, company):
    zhang = make_application(handler=handler, company=company, name="张三丰", photos=False)
    li = make_application(handler=handler, company=company, name="李四", photos=False)

    assert names_in_list(search(super_client, CHANGELIST, "三丰")) == ["张三丰"]
    assert names_in_list(search(super_client, CHANGELIST, li.em.phone)) == ["李四"]
    assert names_in_list(search(super_client, CHANGELIST, zhang.em.id_number)) == ["张三丰"]
    assert names_in_list(search(super_client, CHANGELIST, f" {li.em.phone} ")) == ["李四"]


def test_search_by_id_number_accepts_a_lower_case_x(super_client, handler, company):
    from employees.idcard import check_char

    first17 = "11010519900307123"
    number = first17 + check_char(first17)
    application = make_application(handler=handler, company=company, name="王X", photos=False)
    application.em.id_number = number
    application.em.save(update_fields=["id_number", "id_number_index"])

    assert names_in_list(search(super_client, CHANGELIST, number.lower())) == ["王X"]


def test_whole_phone_and_id_searches_are_equality_lookups(super_client, application):
    with CaptureQueriesContext(connection) as captured:
        search(super_client, CHANGELIST, application.em.phone)
        search(super_client, CHANGELIST, application.em.id_number)

    searches = [q["sql"] for q in captured.captured_queries if "sign_apply" in q["sql"] and "phone" in q["sql"]]
    assert searches
    for sql in searches:
        assert "LIKE" not in sql.upper()
        assert "UPPER(" not in sql.upper()


def test_a_partial_phone_is_not_matched_by_the_exact_search(super_client, application):
    assert names_in_list(search(super_client, CHANGELIST, application.em.phone[:7])) == []


# --- filters -------------------------------------------------------------------------------------------------


def test_filters_by_status_company_handler_and_apply_date(super_client, handler, other_handler, company, other_company):
    make_application(handler=handler, company=company, name="甲一", photos=False)
    make_application(handler=other_handler, company=other_company, name="乙一", photos=False)
    old = make_application(handler=handler, company=other_company, name="旧驳回", status=SignStatus.REJECTED)
    set_apply_time(old, timezone.now() - datetime.timedelta(days=60))

    assert names_in_list(super_client.get(f"{CHANGELIST}?status__exact=4")) == ["旧驳回"]
    assert sorted(names_in_list(super_client.get(f"{CHANGELIST}?company__id__exact={other_company.pk}"))) == [
        "乙一",
        "旧驳回",
    ]
    assert names_in_list(super_client.get(f"{CHANGELIST}?handler={other_handler.pk}")) == ["乙一"]
    today = timezone.localtime().replace(hour=0, minute=0, second=0, microsecond=0)
    response = super_client.get(CHANGELIST, {"apply_time__gte": str(today)})
    assert sorted(names_in_list(response)) == ["乙一", "甲一"]


def test_the_handler_filter_lists_handlers_for_superusers_only(super_client, handler_client, handler, other_handler):
    super_page = super_client.get(CHANGELIST).content.decode()
    handler_page = handler_client.get(CHANGELIST).content.decode()

    assert f"?handler={other_handler.pk}" in super_page
    assert "?handler=" not in handler_page


def test_a_bad_filter_value_is_not_a_500(super_client, application):
    for query in ("handler=abc", "status__exact=abc", "apply_time__gte=notadate"):
        response = super_client.get(f"{CHANGELIST}?{query}")
        assert response.status_code in (200, 302), query


# --- the review page -------------------------------------------------------------------------------------


def test_change_page_shows_the_resume_photos_and_audit_trail(super_client, handler, application, contract):
    application_approve(
        application=application,
        staff=handler,
        contract=contract,
        entry_date=timezone.localdate() + datetime.timedelta(days=3),
        salary="8000",
    )

    page = super_client.get(f"{CHANGELIST}{application.pk}/change/").content.decode()

    employee = application.em
    assert employee.real_name in page and employee.phone not in page and employee.id_number not in page
    assert "北京大学" in page and "法学" in page  # education, inline table
    assert "某某科技有限公司" in page and "工程师" in page  # work history
    photo_urls = re.findall(r'<img src="([^"]+)" alt="身份证(?:正面|反面)"', page)
    assert [file_name_from_url(url) for url in photo_urls] == [
        employee.id_card_front.file.name,
        employee.id_card_back.file.name,
    ]
    assert super_client.get(photo_urls[0].replace("&amp;", "&")).status_code == 200
    assert "审计记录" in page
    assert "签约申请 → 待签约" in page
    assert f"后台：{handler}" in page
    assert "劳动合同（甲）" in page and "查看合同文件" in page
    assert "尚未生成" in page


def test_change_page_links_the_sealed_pdf(super_client, application):
    application.status = SignStatus.SIGNED
    application.save(update_fields=["status"])
    document = SignedDocument(application=application, sha256="a" * 64, size=1234, contract_sha256="b" * 64)
    document.file.save("signed/test.pdf", ContentFile(b"%PDF-1.4 test"), save=False)
    document.save()

    page = super_client.get(f"{CHANGELIST}{application.pk}/change/").content.decode()

    links = re.findall(r'<a href="([^"]+)" target="_blank" rel="noopener" class="sq-document-link">', page)
    assert [file_name_from_url(link) for link in links] == [document.file.name]
    assert "a" * 64 in page
    response = super_client.get(links[0])
    assert response.status_code == 200
    assert b"".join(response.streaming_content).startswith(b"%PDF")


def test_change_page_shows_event_ip_city_and_note(super_client, handler, application):
    from shanqian.client import ClientContext

    application_reject(
        application=application,
        staff=handler,
        reason="照片不清晰",
        client=ClientContext(ip="203.0.113.9", user_agent="UA/1.0", lng=None, lat=None, city="杭州市"),
    )

    page = super_client.get(f"{CHANGELIST}{application.pk}/change/").content.decode()

    assert "203.0.113.9" in page and "杭州市" in page and "照片不清晰" in page
    assert "签约申请 → 已驳回" in page


def test_resume_without_photos_says_so(super_client, handler, company):
    application = make_application(handler=handler, company=company, photos=False)

    page = super_client.get(f"{CHANGELIST}{application.pk}/change/").content.decode()

    assert "未上传" in page


# --- query counts ------------------------------------------------------------------------------------------


@pytest.fixture
def two_hundred_applications(handler, other_handler, company, other_company):
    """200 applications, half each handler's, over two companies and every status."""
    statuses = list(SignStatus)
    for n in range(200):
        SignApplicationFactory(
            em=EmployeeFactory(),
            ad_user=handler if n % 2 else other_handler,
            company=company if n % 3 else other_company,
            status=statuses[n % len(statuses)],
        )
    return 200


# Superuser: session, user, company filter choices, handler filter choices, count, the page of
# rows (one joined query) = 6, plus on PostgreSQL the planner's estimate (pg_class) that
# EstimatedCountPaginator reads for an unfiltered list = 7 (no "full count":
# show_full_result_count is off). Handler: no handler filter, but their user and group
# permissions (2) = 7. Nothing grows with the rows shown (50 or, with ?all=, 200 / 100).
SUPERUSER_CHANGELIST_QUERIES = 7
HANDLER_CHANGELIST_QUERIES = 7


@pytest.mark.parametrize("query", ["", "?all=", "?status__exact=1", "?q=张"])
def test_superuser_changelist_query_count_is_pinned(
    superuser, two_hundred_applications, query, django_assert_max_num_queries
):
    client = client_for(superuser)
    if query.startswith("?q="):  # a search: the term goes in through the session (shanqian.admin_search)
        query = search_query(client, CHANGELIST, query[3:])

    with django_assert_max_num_queries(SUPERUSER_CHANGELIST_QUERIES):
        response = client.get(f"{CHANGELIST}{query}")

    assert response.status_code == 200
    if query == "?all=":
        assert len(names_in_list(response)) == 200


@pytest.mark.parametrize("query", ["", "?all=", "?status__exact=1", "?q=张"])
def test_handler_changelist_query_count_is_pinned(
    handler, two_hundred_applications, query, django_assert_max_num_queries
):
    client = client_for(handler)
    if query.startswith("?q="):  # a search: the term goes in through the session (shanqian.admin_search)
        query = search_query(client, CHANGELIST, query[3:])

    with django_assert_max_num_queries(HANDLER_CHANGELIST_QUERIES):
        response = client.get(f"{CHANGELIST}{query}")

    assert response.status_code == 200
    if query == "?all=":
        assert len(names_in_list(response)) == 100


def test_change_page_query_count_does_not_grow_with_events(super_client, handler, application, contract):
    def count_queries():
        with CaptureQueriesContext(connection) as captured:
            assert super_client.get(f"{CHANGELIST}{application.pk}/change/").status_code == 200
        return len(captured)

    count_queries()  # warm the caches (content types, dictionaries)
    first = count_queries()
    for n in range(20):
        application.events.create(kind=SignEvent.Kind.NOTE, note=f"备注{n}", actor_staff=handler)

    assert count_queries() == first


def test_approve_data_helper_round_trip(handler_client, application, contract):
    """The approve form posted as the browser would, for the list's hidden ids."""
    response = handler_client.post(
        CHANGELIST,
        {"action": "approve_selected", "_selected_action": [application.pk], "post": "yes", **approve_data(contract)},
    )

    assert response.status_code == 302
    assert SignApplication.objects.get(pk=application.pk).status == SignStatus.AWAITING_SIGNATURE
