"""
Background work with real processes: one gunicorn app instance, a real ``celery -A shanqian worker``
(prefork, two children) and ``celery -A shanqian beat``, against PostgreSQL (``<test db>_celery``)
and Redis (its own database number, 12), with a local HTTP receiver for the webhooks.

* Approving applications through the admin (a bulk action over more than ``BULK_INLINE_LIMIT``
  rows) becomes a job; the worker moves every row; the worker's SMS notices reach the SMS file, the
  handler's emails the mail directory, and every webhook delivery reaches the receiver with a
  valid signature.
* Kill and restart: the worker is killed (SIGKILL, the whole process group) in the middle of a
  job; after a restart the re-drive (beat) gives the job to the new worker and every row is moved
  exactly once — one SignEvent per row, one notice row per row, nothing pending.

* A delivery cut short: the worker is killed while a webhook row is ``sending`` (the receiver
  holds the request); the beat's re-drive hands the row, once its lease ran out, to a new worker,
  which records the interrupted attempt and delivers it — once.

Runs when the suite runs on PostgreSQL and Redis answers (``REDIS_TEST_URL``); skipped otherwise.
"""

import hashlib
import hmac
import json
import os
import re
import signal
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support.production import SIGNING_ENV
from tests.support.servers import admin_connection, postgres_or_skip, redis_url_or_skip, start_gunicorn, stop

pytestmark = pytest.mark.multiprocess

BASE_DIR = Path(settings.BASE_DIR)
SECRET = "whsec-multiprocess-0123456789"
PASSWORD = "celery-test-password-1"
QUEUE = "shanqian-celery-test"

SEED = """
from django.contrib.auth import get_user_model
from shanqian.models import Platform
from signing.models import SignApplication
from signing.notifications.models import WebhookEndpoint
from tests.factories import CompanyFactory, ContractFactory, EmployeeFactory, HandlerFactory, WechatUserFactory

platform = Platform.objects.get_or_create(code="demo", defaults={"name": "演示"})[0]
User = get_user_model()
root = User.objects.create_superuser("root", "root@example.com", "%(password)s")
handler = HandlerFactory(username="hr-celery", name="王芳", email="wangfang@example.com")
company = CompanyFactory(company_name="甲科技有限公司")
contract = ContractFactory(company=company)
WebhookEndpoint.objects.create(
    platform=platform, name="HR 系统", url="%(receiver)s", secret="%(secret)s",
    events=["application.status_changed"],
)
for i in range(%(count)s):
    user = WechatUserFactory(platform=platform, openid=f"o-celery-{i}")
    employee = EmployeeFactory(user=user, real_name=f"员工{i}", phone=f"139{i:08d}")
    SignApplication.objects.create(em=employee, company=company, work_pos="普工", ad_user=handler, status=1)
print(contract.pk)
"""


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        if self.server.delay:
            time.sleep(self.server.delay)
            if _sender_gone(self.connection):
                return  # the sender died waiting: it never saw an answer, so nothing was delivered
        with self.server.lock:
            self.server.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        self.send_response(204)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


def _sender_gone(sock) -> bool:
    """The peer closed its end (a killed worker): a non-blocking peek reads end-of-file."""
    import socket

    sock.setblocking(False)
    try:
        return sock.recv(1, socket.MSG_PEEK) == b""
    except BlockingIOError:
        return False
    except OSError:
        return True
    finally:
        sock.setblocking(True)


def valid_signature(item) -> bool:
    headers = item["headers"]
    expected = hmac.new(
        SECRET.encode(), headers["x-shanqian-timestamp"].encode() + b"." + item["body"], hashlib.sha256
    ).hexdigest()
    return hmac.compare_digest(headers["x-shanqian-signature"], f"sha256={expected}")


class Cluster:
    def __init__(self, tmp: Path, env: dict, db_url: str, receiver):
        self.tmp, self.env, self.db_url, self.receiver = tmp, env, db_url, receiver
        self.worker: subprocess.Popen | None = None
        self.workers_started = 0

    def start_worker(self) -> subprocess.Popen:
        self.workers_started += 1
        log = self.tmp / f"worker-{self.workers_started}.log"
        self.worker = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "celery",
                "-A",
                "shanqian",
                "worker",
                "--pool",
                "prefork",
                "--concurrency",
                "2",
                "-Q",
                QUEUE,
                "--without-gossip",
                "--without-mingle",
                "--loglevel",
                "INFO",
                "-n",
                f"w{self.workers_started}@%h",
            ],
            env=self.env,
            cwd=BASE_DIR,
            stdout=log.open("w"),
            stderr=subprocess.STDOUT,
            start_new_session=True,  # its own process group: a kill reaches the pool children too
        )
        deadline = time.monotonic() + 60
        while "ready." not in log.read_text():
            if self.worker.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"the celery worker did not start:\n{log.read_text()[-3000:]}")
            time.sleep(0.3)
        return self.worker

    def kill_worker(self) -> None:
        os.killpg(self.worker.pid, signal.SIGKILL)
        self.worker.wait(timeout=10)

    def sql(self, query: str, *args):
        import psycopg

        with psycopg.connect(self.db_url, autocommit=True) as conn:
            return conn.execute(query, args).fetchall()


def wait_for(predicate, *, timeout: float, what: str, log: Path | None = None):
    deadline = time.monotonic() + timeout
    while True:
        value = predicate()
        if value:
            return value
        if time.monotonic() > deadline:
            detail = log.read_text()[-3000:] if log and log.exists() else ""
            pytest.fail(f"timed out waiting for {what}\n{detail}")
        time.sleep(0.3)


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import redis

    db = postgres_or_skip()
    redis_url = redis_url_or_skip(db_number=12)
    db_name = f"{db['NAME']}_celery"
    tmp = tmp_path_factory.mktemp("celery")
    receiver = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    receiver.received, receiver.delay, receiver.lock = [], 0.0, threading.Lock()
    receiver_url = f"http://127.0.0.1:{receiver.server_address[1]}/hooks"
    threading.Thread(target=receiver.serve_forever, daemon=True).start()
    with admin_connection(db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    redis.Redis.from_url(redis_url).flushdb()
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db_name}"
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "shanqian.settings",
        "DATABASE_URL": url,
        "REDIS_URL": redis_url,
        "CELERY_BROKER_URL": redis_url,
        "CELERY_QUEUE": QUEUE,
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp / "beat-schedule"),
        "CACHE_KEY_PREFIX": "celerytest",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "celery-test-secret-key-0123456789abcdef",
        **SIGNING_ENV,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(tmp / "sms.jsonl"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp / "mail"),
        "WEBHOOK_ALLOW_PRIVATE_ADDRESSES": "1",  # the receiver is this test, on loopback
        "WEBHOOK_TIMEOUT": "20",
        "BULK_INLINE_LIMIT": "20",
        "BULK_JOB_CONCURRENCY": "2",
        "BULK_JOB_LEASE_SECONDS": "6",
        "OUTBOX_LEASE_SECONDS": "6",
        "OUTBOX_REDRIVE_SECONDS": "2",
        "OUTBOX_REDRIVE_GRACE": "4",
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    processes = []
    try:
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True, timeout=300)
        seed = SEED % {"password": PASSWORD, "receiver": receiver_url, "secret": SECRET, "count": 160}
        seeded = subprocess.run(
            [*manage, "shell", "-c", seed],
            env=env,
            cwd=BASE_DIR,
            check=True,
            capture_output=True,
            text=True,
            timeout=300,
        )
        contract_id = int(seeded.stdout.strip().splitlines()[-1])
        base, web = start_gunicorn(env, tmp / "gunicorn.log", workers=2)
        processes.append(web)
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "shanqian", "beat", "--loglevel", "INFO"],
            env=env,
            cwd=BASE_DIR,
            stdout=(tmp / "beat.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        processes.append(beat)
        cluster = Cluster(tmp, env, url.replace("postgres://", "postgresql://"), receiver)
        cluster.base, cluster.contract_id = base, contract_id
        cluster.start_worker()
        yield cluster
    finally:
        running = locals().get("cluster")
        if running is not None and running.worker is not None and running.worker.poll() is None:
            os.killpg(running.worker.pid, signal.SIGTERM)
            running.worker.wait(timeout=30)
        stop(processes)
        receiver.shutdown()
        receiver.server_close()
        with admin_connection(db) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        redis.Redis.from_url(redis_url).flushdb()


def admin_session(cluster) -> requests.Session:
    session = requests.Session()
    login = f"{cluster.base}/admin/login/"
    page = session.get(login, timeout=10)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    answer = session.post(
        login,
        data={"csrfmiddlewaretoken": token, "username": "root", "password": PASSWORD, "next": "/admin/"},
        headers={"Referer": login},
        timeout=10,
    )
    assert answer.status_code == 200 and "/admin/logout/" in answer.text, answer.text[:500]
    return session


def approve_through_the_admin(cluster, session, ids: list[int]) -> tuple[str, float]:
    changelist = f"{cluster.base}/admin/signing/signapplication/"
    token = session.cookies["csrftoken"]
    entry = time.strftime("%Y-%m-%d", time.localtime(time.time() + 7 * 86400))
    started = time.monotonic()
    response = session.post(
        changelist,
        data={
            "csrfmiddlewaretoken": token,
            "action": "approve_selected",
            "_selected_action": [str(pk) for pk in ids],
            "post": "yes",
            "contract": str(cluster.contract_id),
            "entry_date": entry,
            "salary": "6500",
        },
        headers={"Referer": changelist},
        allow_redirects=False,
        timeout=30,
    )
    elapsed = time.monotonic() - started
    assert response.status_code == 302, response.text[:1000]
    location = response.headers["Location"]
    assert "/admin/shanqian/bulkjob/" in location, location
    return location, elapsed


def job_id(location: str) -> int:
    return int(re.search(r"/bulkjob/(\d+)/", location).group(1))


def pending_ids(cluster, count: int) -> list[int]:
    rows = cluster.sql("SELECT id FROM sign_apply WHERE status = 1 ORDER BY id LIMIT %s", count)
    return [row[0] for row in rows]


def job_state(cluster, job: int) -> tuple[str, int]:
    ((state, processed),) = cluster.sql(
        "SELECT j.state, (SELECT count(*) FROM shanqian_bulkjobitem i WHERE i.job_id = j.id AND i.state <> 'pending') "
        "FROM shanqian_bulkjob j WHERE j.id = %s",
        job,
    )
    return state, processed


def wait_for_outbox(cluster, *, timeout: float) -> None:
    def settled():
        ((open_rows,),) = cluster.sql(
            "SELECT count(*) FROM shanqian_outboxmessage WHERE state IN ('pending', 'sending')"
        )
        return open_rows == 0

    deadline = time.monotonic() + timeout
    while not settled():
        if time.monotonic() > deadline:
            summary = cluster.sql(
                "SELECT channel, state, last_error, count(*) FROM shanqian_outboxmessage "
                "GROUP BY channel, state, last_error ORDER BY channel"
            )
            pytest.fail(f"the outbox did not settle: {summary}")
        time.sleep(0.3)


def test_a_bulk_approval_runs_in_the_worker_and_its_notices_arrive_signed(cluster):
    session = admin_session(cluster)
    ids = pending_ids(cluster, 30)

    location, elapsed = approve_through_the_admin(cluster, session, ids)
    job = job_id(location)

    assert elapsed < 5
    log = cluster.tmp / f"worker-{cluster.workers_started}.log"
    wait_for(lambda: job_state(cluster, job)[0] == "finished", timeout=120, what="the job", log=log)
    page = session.get(f"{cluster.base}{location}", timeout=10)
    assert page.status_code == 200 and 'id="sq-bulk-done" class="sq-bulk-done">30<' in page.text

    wait_for_outbox(cluster, timeout=120)
    states = dict(cluster.sql("SELECT channel, count(*) FROM shanqian_outboxmessage GROUP BY channel"))
    # The superuser approved the handler's applications: the handler is told by email (application_reviewed).
    assert states == {"worker.sms": 30, "webhook": 30, "hr.email": 30}
    assert cluster.sql("SELECT DISTINCT state FROM shanqian_outboxmessage") == [("delivered",)]

    sms = [json.loads(line) for line in (cluster.tmp / "sms.jsonl").read_text().splitlines()]
    assert len({line["phone"] for line in sms}) == 30 and all(line["code"] == "" for line in sms)
    received = list(cluster.receiver.received)
    assert len({item["headers"]["x-shanqian-delivery"] for item in received}) == 30
    assert all(valid_signature(item) for item in received)
    assert {json.loads(item["body"])["data"]["application_id"] for item in received} == set(ids)
    # The file backend names a file by second and connection object: two messages may share one.
    mail = "".join(path.read_text() for path in (cluster.tmp / "mail").iterdir())
    assert mail.count("\nTo: wangfang@example.com\n") == 30


def test_a_worker_killed_mid_job_loses_and_doubles_nothing(cluster):
    session = admin_session(cluster)
    ids = pending_ids(cluster, 120)
    before = len(cluster.receiver.received)

    location, _ = approve_through_the_admin(cluster, session, ids)
    job = job_id(location)
    log = cluster.tmp / f"worker-{cluster.workers_started}.log"
    # Kill it in the middle: some rows done, some still pending.
    wait_for(lambda: job_state(cluster, job)[1] >= 10, timeout=60, what="the first rows", log=log)
    cluster.kill_worker()
    state, processed = job_state(cluster, job)
    assert state != "finished" and processed < len(ids), "the job finished before the kill: make it longer"

    cluster.start_worker()
    log = cluster.tmp / f"worker-{cluster.workers_started}.log"
    wait_for(lambda: job_state(cluster, job)[0] == "finished", timeout=180, what="the re-driven job", log=log)
    wait_for_outbox(cluster, timeout=180)

    # Every row exactly once: one item each, all done; one move event per application; one notice row each.
    assert cluster.sql("SELECT state, count(*) FROM shanqian_bulkjobitem WHERE job_id = %s GROUP BY state", job) == [
        ("done", len(ids))
    ]
    events = dict(
        cluster.sql(
            "SELECT application_id, count(*) FROM signing_signevent WHERE to_status = 2 AND application_id = ANY(%s) "
            "GROUP BY application_id",
            ids,
        )
    )
    assert events == dict.fromkeys(ids, 1)
    assert cluster.sql("SELECT count(*) FROM sign_apply WHERE id = ANY(%s) AND status = 2", ids) == [(len(ids),)]
    notices = cluster.sql(
        "SELECT ref, channel, count(*) FROM shanqian_outboxmessage WHERE ref = ANY(%s) GROUP BY ref, channel",
        [f"signing.signapplication:{pk}" for pk in ids],
    )
    assert {count for _, _, count in notices} == {1} and len(notices) == 3 * len(ids)
    # Delivered at least once; a repeat (a kill between the receiver's answer and the row's update)
    # carries the same idempotency key, so the distinct keys are exactly the rows.
    new = cluster.receiver.received[before:]
    keys = {item["headers"]["x-shanqian-delivery"] for item in new}
    ((webhook_rows,),) = cluster.sql(
        "SELECT count(*) FROM shanqian_outboxmessage WHERE channel = 'webhook' AND ref = ANY(%s)",
        [f"signing.signapplication:{pk}" for pk in ids],
    )
    assert len(keys) == webhook_rows == len(ids)


EMIT = """
from django.db import transaction
from shanqian.models import Platform
from signing.notifications import services
with transaction.atomic():
    rows = services.emit_webhook(
        platform_id=Platform.objects.get(code="demo").pk,
        event="application.status_changed",
        data={"application_id": 0, "from_status": 1, "to_status": 2, "probe": "%(probe)s"},
        ref="probe:%(probe)s",
    )
print(rows[0].pk)
"""


def test_a_row_claimed_by_a_killed_worker_is_redriven_and_delivered_once(cluster):
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    before = len(cluster.receiver.received)
    cluster.receiver.delay = 8.0  # the receiver holds the request: the worker is killed mid-send
    try:
        emitted = subprocess.run(
            [*manage, "shell", "-c", EMIT % {"probe": "killed-mid-send"}],
            env=cluster.env,
            cwd=BASE_DIR,
            check=True,
            capture_output=True,
            text=True,
            timeout=120,
        )
        row = int(emitted.stdout.strip().splitlines()[-1])
        log = cluster.tmp / f"worker-{cluster.workers_started}.log"

        def state():
            return cluster.sql("SELECT state, attempts FROM shanqian_outboxmessage WHERE id = %s", row)[0]

        wait_for(lambda: state()[0] == "sending", timeout=60, what="the worker to claim the row", log=log)
        cluster.kill_worker()
        assert state() == ("sending", 1)  # claimed, its result never written
    finally:
        cluster.receiver.delay = 0.0

    cluster.start_worker()
    log = cluster.tmp / f"worker-{cluster.workers_started}.log"
    wait_for(lambda: state()[0] == "delivered", timeout=120, what="the re-driven delivery", log=log)

    attempts = cluster.sql("SELECT number, outcome FROM shanqian_outboxattempt WHERE message_id = %s ORDER BY id", row)
    assert attempts == [(1, "interrupted"), (2, "delivered")]
    assert state() == ("delivered", 2)
    ((key,),) = cluster.sql("SELECT key::text FROM shanqian_outboxmessage WHERE id = %s", row)
    arrived = [item for item in cluster.receiver.received[before:] if b"killed-mid-send" in item["body"]]
    assert len(arrived) == 1  # the killed worker's request never completed; the re-drive's did, once
    assert arrived[0]["headers"]["x-shanqian-delivery"] == key and valid_signature(arrived[0])
