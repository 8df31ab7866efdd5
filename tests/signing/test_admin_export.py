"""
导出 Excel: the selected rows (an action) or the whole current list — the same
filters, search and order as the page — as .xlsx with Chinese headers and labels.
"""

import datetime
import io
from decimal import Decimal

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from django.utils import timezone
from openpyxl import load_workbook

from signing.export import HEADERS
from signing.models import SignApplication, SignStatus
from signing.services.applications import application_approve, application_reject
from tests.factories import EmployeeFactory, SignApplicationFactory, make_application
from tests.support.admin import CHANGELIST, client_for, search_query

pytestmark = pytest.mark.django_db


def workbook_rows(response):
    assert response.status_code == 200, response
    assert response["Content-Type"] == "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"
    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(values_only=True))
    return sheet, rows[0], rows[1:]


def as_dicts(header, rows):
    return [dict(zip(header, row, strict=True)) for row in rows]


def test_export_button_exports_the_whole_list_with_labels(super_client, handler, company, contract):
    approved = make_application(handler=handler, company=company, name="张三")
    entry = timezone.localdate() + datetime.timedelta(days=5)
    application_approve(application=approved, staff=handler, contract=contract, entry_date=entry, salary="8500.5")
    rejected = make_application(handler=handler, company=company, name="李四")
    application_reject(application=rejected, staff=handler, reason="照片不清晰")

    response = super_client.get(f"{CHANGELIST}export/?full=1")

    sheet, header, rows = workbook_rows(response)
    assert sheet.title == "签约申请"
    assert header == HEADERS
    assert "attachment" in response["Content-Disposition"] and ".xlsx" in response["Content-Disposition"]
    assert "no-store" in response["Cache-Control"]
    by_name = {row["姓名"]: row for row in as_dicts(header, rows)}
    zhang, li = by_name["张三"], by_name["李四"]
    assert zhang["签约状态"] == "待签约" and li["签约状态"] == "已驳回"
    assert zhang["性别"] == "男"
    assert zhang["手机号"] == approved.em.phone and zhang["身份证号"] == approved.em.id_number
    assert zhang["用人单位"] == "甲科技有限公司" and zhang["处理人"] == "王芳" and zhang["岗位"] == "岗位A"
    assert zhang["合同模板"] == "劳动合同（甲）"
    assert zhang["入职日期"].date() == entry
    assert Decimal(str(zhang["薪资（元）"])) == Decimal("8500.50")
    assert li["驳回原因"] == "照片不清晰" and li["薪资（元）"] is None and li["入职日期"] is None
    applied_at = timezone.localtime(SignApplication.objects.get(pk=approved.pk).apply_time).replace(
        tzinfo=None, microsecond=0
    )
    assert abs(zhang["申请时间"] - applied_at) < datetime.timedelta(seconds=1)
    assert zhang["申请编号"] == approved.pk


def test_export_button_follows_the_current_filter_search_and_order(super_client, handler, company, other_company):
    make_application(handler=handler, company=company, name="甲一", photos=False)
    make_application(handler=handler, company=other_company, name="乙一", photos=False)
    make_application(handler=handler, company=other_company, name="乙二", photos=False, status=SignStatus.REJECTED)

    filtered = super_client.get(f"{CHANGELIST}export/?company__id__exact={other_company.pk}&status__exact=1")
    searched = super_client.get(f"{CHANGELIST}export/?q=乙", follow=True)
    ordered = super_client.get(f"{CHANGELIST}export/?o=-1")

    assert [row[1] for row in workbook_rows(filtered)[2]] == ["乙一"]
    assert sorted(row[1] for row in workbook_rows(searched)[2]) == ["乙一", "乙二"]
    assert [row[1] for row in workbook_rows(ordered)[2]] == sorted(["甲一", "乙一", "乙二"], reverse=True)


def test_the_list_page_links_the_export_with_its_query_string(super_client, company):
    query = search_query(super_client, CHANGELIST, "张", status__exact="1")  # ?status__exact=1&qs=<token>
    page = super_client.get(f"{CHANGELIST}{query}").content.decode()

    assert f'href="{CHANGELIST}export/{query.replace("&", "&amp;")}"' in page


def test_export_action_exports_only_the_selected_rows(super_client, handler, company):
    rows = [make_application(handler=handler, company=company, name=f"员工{n}", photos=False) for n in range(3)]

    response = super_client.post(
        CHANGELIST, {"action": "export_selected", "index": "0", "_selected_action": [rows[0].pk, rows[2].pk]}
    )

    assert sorted(row[1] for row in workbook_rows(response)[2]) == ["员工0", "员工2"]


def test_text_that_looks_like_a_formula_stays_text(super_client, handler, company):
    application = make_application(handler=handler, company=company, name="=1+1", photos=False)
    application_reject(application=application, staff=handler, reason='=HYPERLINK("http://evil.example","x")')

    _, header, rows = workbook_rows(super_client.get(f"{CHANGELIST}export/"))

    row = as_dicts(header, rows)[0]
    assert row["姓名"] == "=1+1"
    assert row["驳回原因"] == '=HYPERLINK("http://evil.example","x")'
    sheet = load_workbook(io.BytesIO(b"".join(super_client.get(f"{CHANGELIST}export/").streaming_content))).active
    assert sheet["B2"].data_type == "s"


def test_a_bad_filter_in_the_export_url_redirects_instead_of_failing(super_client, company):
    response = super_client.get(f"{CHANGELIST}export/?nonexistent_field=1")

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?e=1"


def test_export_reads_with_a_fixed_number_of_queries(
    superuser, handler, other_handler, company, other_company, settings
):
    settings.BULK_INLINE_LIMIT = 200  # inline up to the limit: what is pinned here is the inline export
    for n in range(120):
        SignApplicationFactory(
            em=EmployeeFactory(),
            ad_user=handler if n % 2 else other_handler,
            company=company,
            status=SignStatus.APPLIED,
        )
    client = client_for(superuser)

    with CaptureQueriesContext(connection) as captured:
        response = client.get(f"{CHANGELIST}export/")
        rows = workbook_rows(response)[2]

    assert len(rows) == 120
    assert len(captured) <= 10, [q["sql"][:120] for q in captured.captured_queries]


def test_exporting_a_list_longer_than_the_limit_is_a_job_not_a_long_request(
    superuser, handler, company, settings, django_capture_on_commit_callbacks
):
    from shanqian.models import BulkJob

    settings.BULK_INLINE_LIMIT = 5
    for _ in range(8):
        SignApplicationFactory(em=EmployeeFactory(), ad_user=handler, company=company, status=SignStatus.APPLIED)
    SignApplicationFactory(em=EmployeeFactory(), ad_user=handler, company=company, status=SignStatus.REJECTED)
    client = client_for(superuser)

    with django_capture_on_commit_callbacks(execute=True):
        response = client.get(f"{CHANGELIST}export/?status__exact=1")

    job = BulkJob.objects.get()
    assert response.status_code == 302 and response["Location"] == f"/admin/shanqian/bulkjob/{job.pk}/change/"
    assert (job.action, job.total, job.state) == ("signing.export", 8, BulkJob.State.FINISHED)
    download = client.get(f"/admin/shanqian/bulkjob/{job.pk}/result/")
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    assert len(list(sheet.iter_rows(values_only=True))) == 1 + 8  # the header and the filtered rows only
