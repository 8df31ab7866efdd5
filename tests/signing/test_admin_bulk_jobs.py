"""
Bulk review moves and exports of more than BULK_INLINE_LIMIT rows run as background jobs
(shanqian.admin_reviews.run_as_job → shanqian.bulk): the request only writes the job and lands on
its progress page; the worker re-cleans the form per row, checks the staff member again, and
commits each row's move, its notices and its result together. Query counts are pinned per batch.
"""

import datetime
import io

import pytest
from django.contrib.admin.models import LogEntry
from openpyxl import load_workbook

from shanqian import bulk
from shanqian.models import BulkJob, BulkJobItem, OutboxMessage
from signing.models import SignApplication, SignStatus
from tests.factories import EmployeeFactory, SignApplicationFactory
from tests.support.admin import CHANGELIST, action_post, approve_data, client_for, messages_of

pytestmark = pytest.mark.django_db
ItemState = BulkJobItem.State


@pytest.fixture(autouse=True)
def _small_limit(settings):
    settings.BULK_INLINE_LIMIT = 5


def applications(handler, company, count, *, status=SignStatus.APPLIED, prefix="员工"):
    return [
        SignApplicationFactory(
            em=EmployeeFactory(real_name=f"{prefix}{i}", phone=f"139{i:08d}"),
            ad_user=handler,
            company=company,
            status=status,
        )
        for i in range(count)
    ]


def ids(rows):
    return [row.pk for row in rows]


def the_job() -> BulkJob:
    return BulkJob.objects.get()


def test_approving_more_than_the_limit_becomes_a_job_with_a_progress_page(
    handler, handler_client, company, contract, django_capture_on_commit_callbacks
):
    rows = applications(handler, company, 8)

    with django_capture_on_commit_callbacks(execute=True):
        response = action_post(handler_client, "approve_selected", ids(rows), confirm=True, **approve_data(contract))

    job = the_job()
    assert response.status_code == 302
    assert response["Location"] == f"/admin/shanqian/bulkjob/{job.pk}/change/"
    assert (job.action, job.total, job.created_by_id, job.state) == (
        "signing.signapplication.approve",
        8,
        handler.pk,
        BulkJob.State.FINISHED,
    )
    assert set(SignApplication.objects.filter(pk__in=ids(rows)).values_list("status", flat=True)) == {
        SignStatus.AWAITING_SIGNATURE
    }
    # Each row's move wrote its worker notice; each row is logged for the staff member.
    assert OutboxMessage.objects.filter(channel="worker.sms").count() == 8
    assert LogEntry.objects.filter(user=handler, change_message="审核通过").count() == 8
    # The audit events carry the client of the click, not of the worker.
    assert {app.events.get(to_status=2).ip for app in SignApplication.objects.filter(pk__in=ids(rows))} == {"127.0.0.1"}

    page = handler_client.get(response["Location"])
    text = page.content.decode()
    assert any("已转为后台任务" in m for m in messages_of(page, "info"))
    assert 'id="sq-bulk-done" class="sq-bulk-done">8<' in text
    assert text.count("已审核通过") == 8
    assert "员工0（#" in text


def test_up_to_the_limit_runs_in_the_request(handler, handler_client, company, contract):
    rows = applications(handler, company, 5)

    response = action_post(handler_client, "approve_selected", ids(rows), confirm=True, **approve_data(contract))

    assert response.status_code == 302 and response["Location"].startswith(CHANGELIST)
    assert BulkJob.objects.count() == 0
    assert SignApplication.objects.filter(status=SignStatus.AWAITING_SIGNATURE).count() == 5


def test_a_job_row_that_cannot_move_fails_alone_with_its_reason(
    handler, handler_client, company, contract, django_capture_on_commit_callbacks
):
    rows = applications(handler, company, 7)
    with django_capture_on_commit_callbacks(execute=False):
        action_post(handler_client, "reject_selected", ids(rows), confirm=True, reason="材料不全")
    # Between the click and the worker, one row is cancelled by the worker.
    SignApplication.objects.filter(pk=rows[3].pk).update(status=SignStatus.CANCELLED)

    bulk.run(the_job().pk)

    items = {item.object_id: item for item in the_job().items.all()}
    assert items[rows[3].pk].state == ItemState.FAILED
    assert items[rows[3].pk].message == "该申请当前为「已取消」，不能驳回"
    assert [items[pk].state for pk in ids(rows) if pk != rows[3].pk] == [ItemState.DONE] * 6
    assert set(SignApplication.objects.filter(status=SignStatus.REJECTED).values_list("reason", flat=True)) == {
        "材料不全"
    }
    # The failed row wrote no notice; the others one SMS each.
    assert OutboxMessage.objects.filter(channel="worker.sms").count() == 6


def test_the_form_is_cleaned_again_in_the_worker(
    handler, handler_client, company, contract, django_capture_on_commit_callbacks
):
    rows = applications(handler, company, 6)
    with django_capture_on_commit_callbacks(execute=False):
        action_post(handler_client, "approve_selected", ids(rows), confirm=True, **approve_data(contract))
    contract.status = 0  # disabled before the worker got to it
    contract.save(update_fields=["status"])

    bulk.run(the_job().pk)

    assert set(the_job().items.values_list("state", flat=True)) == {ItemState.FAILED}
    assert the_job().items.first().message == "请选择该用人单位启用中的合同模板。"
    assert SignApplication.objects.filter(status=SignStatus.APPLIED).count() == 6


def test_a_staff_member_disabled_before_the_worker_runs_moves_nothing(
    handler, handler_client, company, contract, django_capture_on_commit_callbacks
):
    rows = applications(handler, company, 6)
    with django_capture_on_commit_callbacks(execute=False):
        action_post(handler_client, "cancel_selected", ids(rows), confirm=True, note="")
    handler.is_active = False
    handler.save(update_fields=["is_active"])

    bulk.run(the_job().pk)

    assert set(the_job().items.values_list("message", flat=True)) == {"您已无权处理该记录"}
    assert SignApplication.objects.filter(status=SignStatus.APPLIED).count() == 6


def test_ids_outside_the_handlers_scope_never_reach_the_job(
    handler, handler_client, other_handler, company, contract, django_capture_on_commit_callbacks
):
    mine = applications(handler, company, 6)
    theirs = applications(other_handler, company, 2, prefix="别人")

    with django_capture_on_commit_callbacks(execute=True):
        response = action_post(
            handler_client, "approve_selected", ids(mine + theirs), confirm=True, **approve_data(contract)
        )

    assert set(the_job().items.values_list("object_id", flat=True)) == set(ids(mine))
    assert SignApplication.objects.filter(pk__in=ids(theirs), status=SignStatus.APPLIED).count() == 2
    page = handler_client.get(response["Location"])
    assert page.status_code == 200
    # Another handler cannot open this job's page.
    other_page = client_for(other_handler).get(response["Location"])
    assert other_page.status_code == 302


@pytest.mark.parametrize("count", [10, 40])
def test_a_job_runs_a_fixed_number_of_queries_per_row(
    handler, handler_client, company, contract, django_capture_on_commit_callbacks, django_assert_max_num_queries, count
):
    rows = applications(handler, company, count)
    with django_capture_on_commit_callbacks(execute=False):
        action_post(handler_client, "approve_selected", ids(rows), confirm=True, **approve_data(contract))
    job = the_job()

    # Per row: take the item, the row with its employee/company/handler, the contract choice, the
    # locked move (lock, contract check, save, event), the company's readiness and the personalised
    # contract (template, placements, particulars, seal authorisation; the document's sha256 saved),
    # its notices (context, webhooks, robots, subscribe template, insert), the admin log, the item's
    # result, savepoints. Plus a constant.
    with django_assert_max_num_queries(27 * count + 14):
        bulk.run(job.pk)

    assert set(job.items.values_list("state", flat=True)) == {ItemState.DONE}


def test_the_request_that_starts_a_job_does_not_grow_with_rows(
    handler, handler_client, company, contract, django_capture_on_commit_callbacks, django_assert_max_num_queries
):
    rows = applications(handler, company, 60)

    with django_capture_on_commit_callbacks(execute=False), django_assert_max_num_queries(24):
        response = action_post(handler_client, "approve_selected", ids(rows), confirm=True, **approve_data(contract))

    assert response.status_code == 302
    assert the_job().items.count() == 60
    assert SignApplication.objects.filter(status=SignStatus.APPLIED).count() == 60


def test_exporting_more_than_the_limit_is_a_job_with_a_result_file(
    handler, handler_client, company, django_capture_on_commit_callbacks
):
    rows = applications(handler, company, 9)

    with django_capture_on_commit_callbacks(execute=True):
        response = action_post(handler_client, "export_selected", ids(rows))

    job = the_job()
    assert response["Location"] == f"/admin/shanqian/bulkjob/{job.pk}/change/"
    assert job.state == BulkJob.State.FINISHED and job.result_file.endswith(".xlsx")
    page = handler_client.get(response["Location"]).content.decode()
    assert f"/admin/shanqian/bulkjob/{job.pk}/result/" in page

    download = handler_client.get(f"/admin/shanqian/bulkjob/{job.pk}/result/")
    assert download.status_code == 200
    assert "no-store" in download["Cache-Control"]
    sheet = load_workbook(io.BytesIO(b"".join(download.streaming_content))).active
    values = list(sheet.iter_rows(values_only=True))
    assert len(values) == 10  # the header and nine rows
    phones = {row[3] for row in values[1:]}
    assert all("****" in phone for phone in phones)  # a handler's export is masked


def test_a_small_export_is_still_answered_at_once(handler, handler_client, company):
    rows = applications(handler, company, 3)

    response = action_post(handler_client, "export_selected", ids(rows))

    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/vnd.openxmlformats")
    assert BulkJob.objects.count() == 0


def test_a_job_started_but_rolled_back_leaves_nothing(handler, company, contract):
    from django.db import transaction

    rows = applications(handler, company, 6)
    with pytest.raises(RuntimeError), transaction.atomic():
        bulk.start(
            action="signing.signapplication.reject",
            rows=[(pk, str(pk)) for pk in ids(rows)],
            params={"data": {"reason": ["x"]}},
            user=handler,
        )
        raise RuntimeError

    assert BulkJob.objects.count() == 0
    assert datetime.date.today()  # nothing else to check: no item, no move
