"""
Bulk jobs (shanqian.bulk): per-row state in the database, each row processed exactly once,
a failing row reported and rolled back alone, the re-drive of jobs whose runners died, and the
progress page.
"""

import datetime
import threading

import pytest
import time_machine
from django.db import connection, transaction
from django.test import Client
from django.utils import timezone

from shanqian import bulk
from shanqian.errors import InvalidInput
from shanqian.models import BulkJob, BulkJobItem, Platform
from tests.factories import AdminUserFactory, PlatformFactory

State = BulkJob.State
ItemState = BulkJobItem.State


class Killed(BaseException):
    """Stands for a worker dying in the middle of a row (not an Exception: nothing catches it)."""


def rename(object_id, params, user):
    platform = Platform.objects.select_for_update().get(pk=object_id)
    if params.get("kill") == object_id:
        platform.name += "（写了一半）"
        platform.save(update_fields=["name"])
        raise Killed
    if platform.code.startswith("bad"):
        platform.name += "（失败也写了）"
        platform.save(update_fields=["name"])
        raise InvalidInput("这个平台不能改名")
    if platform.code.startswith("crash"):
        raise ZeroDivisionError
    platform.name += params.get("suffix", "+")
    platform.save(update_fields=["name"])
    return f"已改名为 {platform.name}"


@pytest.fixture(autouse=True)
def rename_action():
    bulk.register(bulk.BulkAction(name="test.rename", label="改名", perform=rename))
    yield
    bulk._ACTIONS.pop("test.rename", None)


@pytest.fixture
def staff(db):
    return AdminUserFactory(username="bulkboss", is_superuser=True)


def platforms(*codes):
    return [PlatformFactory(code=code, name=code) for code in codes]


def rows(objs):
    return [(obj.pk, obj.code) for obj in objs]


def start(objs, staff, **params):
    return bulk.start(action="test.rename", rows=rows(objs), params=params, user=staff)


pytestmark = pytest.mark.django_db


def test_a_job_writes_one_item_per_row_and_runs_after_commit(staff, django_capture_on_commit_callbacks):
    objs = platforms("p1", "p2", "p3")

    with django_capture_on_commit_callbacks(execute=True):
        job = start(objs, staff, suffix="!")

    job.refresh_from_db()
    assert job.state == State.FINISHED
    assert job.total == 3
    assert [p.name for p in Platform.objects.filter(pk__in=[o.pk for o in objs]).order_by("pk")] == [
        "p1!",
        "p2!",
        "p3!",
    ]
    assert list(job.items.values_list("state", "message")) == [
        (ItemState.DONE, "已改名为 p1!"),
        (ItemState.DONE, "已改名为 p2!"),
        (ItemState.DONE, "已改名为 p3!"),
    ]


def test_nothing_runs_when_the_starting_transaction_rolls_back(staff, django_capture_on_commit_callbacks):
    objs = platforms("p1")
    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
        transaction.atomic(),
    ):
        start(objs, staff)
        raise RuntimeError

    assert callbacks == []
    assert BulkJob.objects.count() == 0
    assert Platform.objects.get(pk=objs[0].pk).name == "p1"


def test_a_failing_row_is_reported_and_rolled_back_alone(staff):
    good, bad, crash = platforms("good", "bad1", "crash1")
    job = start([good, bad, crash], staff)

    bulk.run(job.pk)

    items = {item.object_id: item for item in job.items.all()}
    assert (items[good.pk].state, items[bad.pk].state, items[crash.pk].state) == (
        ItemState.DONE,
        ItemState.FAILED,
        ItemState.FAILED,
    )
    assert items[bad.pk].message == "这个平台不能改名"
    assert items[crash.pk].message == "处理出错（已记录日志），未作修改"
    assert Platform.objects.get(pk=bad.pk).name == "bad1"  # its half-done write is gone
    assert Platform.objects.get(pk=good.pk).name == "good+"
    progress = bulk.progress(job)
    assert (progress.done, progress.failed, progress.pending, progress.percent) == (1, 2, 0, 100)


def test_a_runner_that_dies_mid_row_leaves_the_row_pending_and_a_second_run_does_it_once(staff):
    objs = platforms("a", "b", "c", "d")
    job = start(objs, staff, kill=objs[2].pk)

    with pytest.raises(Killed):
        bulk.run(job.pk)

    states = dict(job.items.values_list("object_id", "state"))
    assert [states[o.pk] for o in objs] == [ItemState.DONE, ItemState.DONE, ItemState.PENDING, ItemState.PENDING]
    assert Platform.objects.get(pk=objs[2].pk).name == "c"  # the killed row's write rolled back

    BulkJob.objects.filter(pk=job.pk).update(params={})  # the "worker" comes back healthy
    bulk.run(job.pk)

    assert [Platform.objects.get(pk=o.pk).name for o in objs] == ["a+", "b+", "c+", "d+"]  # once each
    assert BulkJob.objects.get(pk=job.pk).state == State.FINISHED


def test_a_finished_job_is_never_run_again(staff):
    objs = platforms("a")
    job = start(objs, staff)
    bulk.run(job.pk)

    assert bulk.run(job.pk) == "skipped"
    assert Platform.objects.get(pk=objs[0].pk).name == "a+"


def test_redrive_restarts_jobs_whose_runners_died_or_never_started(staff, settings):
    settings.OUTBOX_REDRIVE_GRACE = 30
    settings.BULK_JOB_LEASE_SECONDS = 60
    t0 = timezone.now()
    with time_machine.travel(t0, tick=False):
        died = start(platforms("died"), staff)
        BulkJob.objects.filter(pk=died.pk).update(state=State.RUNNING, lease_until=t0 + datetime.timedelta(seconds=60))
        lost = start(platforms("lost"), staff)
        alive = start(platforms("alive"), staff)
        BulkJob.objects.filter(pk=alive.pk).update(state=State.RUNNING, lease_until=t0 + datetime.timedelta(hours=1))
    with time_machine.travel(t0 + datetime.timedelta(seconds=90), tick=False):
        fresh = start(platforms("fresh"), staff)
        assert bulk.redrive() == 2

    assert BulkJob.objects.get(pk=died.pk).state == State.FINISHED
    assert BulkJob.objects.get(pk=lost.pk).state == State.FINISHED
    assert BulkJob.objects.get(pk=alive.pk).state == State.RUNNING
    assert BulkJob.objects.get(pk=fresh.pk).state == State.PENDING


def test_the_finish_hook_gets_the_done_rows_and_names_the_result_file(staff):
    seen = []

    def finish(job, done_ids):
        seen.append(done_ids)
        return f"exports/job-{job.pk}.xlsx"

    bulk.register(bulk.BulkAction(name="test.export", label="导出", perform=lambda pk, params, user: "", finish=finish))
    good, bad = platforms("good", "bad")
    job = bulk.start(action="test.export", rows=rows([good, bad]), params={}, user=staff)
    bulk.run(job.pk)

    job.refresh_from_db()
    assert seen == [[good.pk, bad.pk]]
    assert job.result_file == f"exports/job-{job.pk}.xlsx"


def test_rows_are_deduplicated_and_an_empty_job_is_refused(staff):
    (obj,) = platforms("a")
    job = bulk.start(action="test.rename", rows=[(obj.pk, "a"), (obj.pk, "a")], params={}, user=staff)
    assert job.total == 1
    with pytest.raises(ValueError):
        bulk.start(action="test.rename", rows=[], params={}, user=staff)


def test_a_runner_processes_each_row_in_a_fixed_number_of_queries(staff, django_assert_max_num_queries):
    objs = platforms(*[f"p{n}" for n in range(30)])
    job = start(objs, staff)

    # per row: the runner's 6 (two savepoint pairs, the item select and update) + the rename's own 3
    # (select, Platform.save's code check, update); plus the job read, state and lease updates (3),
    # the last look for a pending item (3) and the finish (savepoint pair, lock, pending check, save)
    with django_assert_max_num_queries(9 * 30 + 3 + 3 + 5):
        bulk.run(job.pk)
    assert bulk.progress(job).done == 30


# --- the progress page ----------------------------------------------------------------------------------


def page(client, job):
    return client.get(f"/admin/shanqian/bulkjob/{job.pk}/change/")


def test_the_progress_page_refreshes_while_the_job_runs(staff):
    objs = platforms("a", "b", "c", "d")
    job = start(objs, staff)
    BulkJobItem.objects.filter(job=job, object_id=objs[0].pk).update(state=ItemState.DONE)
    BulkJobItem.objects.filter(job=job, object_id=objs[1].pk).update(state=ItemState.FAILED, message="不行")
    client = Client()
    client.force_login(staff)

    response = page(client, job)

    html = response.content.decode()
    assert response.status_code == 200
    assert '<meta http-equiv="refresh" content="2">' in html
    assert 'id="sq-bulk-bar"' in html and 'value="2" max="4"' in html
    assert 'id="sq-bulk-done" class="sq-bulk-done">1<' in html
    assert 'id="sq-bulk-failed" class="sq-bulk-failed">1<' in html
    assert "<script" not in html.split("<body", 1)[1].split('id="footer"')[0]
    assert "sq-bulk-items" not in html  # per-row results only once finished


def test_the_finished_page_lists_every_row_failures_first_and_stops_refreshing(staff, django_assert_max_num_queries):
    objs = platforms("ok1", "bad1", "ok2")
    job = start(objs, staff)
    bulk.run(job.pk)
    client = Client()
    client.force_login(staff)

    # session, user, job (with its creator), the counts, the rows
    with django_assert_max_num_queries(5):
        response = page(client, job)

    html = response.content.decode()
    assert 'http-equiv="refresh"' not in html
    table = html.split('id="sq-bulk-items"', 1)[1]
    assert table.index("bad1") < table.index("ok1") < table.index("ok2")
    assert "这个平台不能改名" in table
    assert "成功 <span" in html


def test_staff_see_only_their_own_jobs(staff):
    job = start(platforms("a"), staff)
    other = AdminUserFactory(username="other", is_staff=True)
    client = Client()
    client.force_login(other)

    response = page(client, job)

    assert response.status_code == 302  # "不存在", like a missing object
    listing = client.get("/admin/shanqian/bulkjob/")
    assert listing.status_code == 200
    assert f"/admin/shanqian/bulkjob/{job.pk}/" not in listing.content.decode()


# --- two runners at once (row locks: PostgreSQL / MariaDB) --------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_runners_at_once_process_every_row_exactly_once(monkeypatch):
    if not connection.features.has_select_for_update_skip_locked:
        pytest.skip("needs SKIP LOCKED row locks: run on PostgreSQL or MariaDB")
    monkeypatch.setattr(bulk, "_queue_runners", lambda job, **kwargs: None)  # the two threads are the runners
    staff = AdminUserFactory(username="racer", is_superuser=True)
    objs = platforms(*[f"r{n}" for n in range(40)])
    job = start(objs, staff)
    barrier = threading.Barrier(2)
    results = []

    def runner():
        from django.db import connections

        barrier.wait()
        try:
            results.append(bulk.run(job.pk))
        finally:
            connections.close_all()

    threads = [threading.Thread(target=runner) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)

    assert all(p.name == f"{p.code}+" for p in Platform.objects.filter(pk__in=[o.pk for o in objs]))
    assert len(results) == 2, results
    counts = [int(r.split()[1]) for r in results]
    assert sum(counts) == 40
    assert all(counts), counts  # both took part
    assert BulkJob.objects.get(pk=job.pk).state == State.FINISHED
