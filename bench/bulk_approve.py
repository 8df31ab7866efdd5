"""
Benchmark (issue 13, speed): approving 1,000 applications with one admin action, through real HTTP.

    BULK_BENCH_DATABASE_URL=postgres://postgres@127.0.0.1:5432/sq_scale_bulk \\
    BULK_BENCH_REDIS_URL=redis://127.0.0.1:6395/13 \\
    .venv/bin/python bench/bulk_approve.py [--count 1000] [--workers 2]

What runs, all real processes on this machine:

* a fresh PostgreSQL database (dropped and created, migrated), seeded with ``--count`` pending
  applications of one company whose contract template has its placements (so approval generates
  the personalised contract PDF of every row), handled by the superuser who approves them;
* one gunicorn app instance (two workers), production settings;
* ``--workers`` separate ``celery -A shanqian worker`` processes (one pool process each) and
  ``celery -A shanqian beat`` (the re-drive), broker Redis (``BULK_BENCH_REDIS_URL``).

The client logs in through the admin login page (GET the page: the ``csrftoken`` cookie and the
form's ``csrfmiddlewaretoken``; POST the credentials), GETs the changelist for its CSRF token, and
POSTs ``approve_selected`` for every row with the approval form (contract, entry date, salary).
Measured: the action request (it answers with a redirect to the job's progress page), then the
time until every row is 待签约 with its personalised contract stored and every worker notice is in
the outbox, then until the outbox is delivered. Asserted: each row moved exactly once (one
transition event, one job item ``done``, one worker notice), every contract file present.
Prints the figures; ``docs/benchmarks.md`` records them.
"""

from __future__ import annotations

import argparse
import os
import re
import signal
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import requests

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.keys import FIELD_KEYS  # noqa: E402

DATABASE_URL = os.environ.get("BULK_BENCH_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/sq_scale_bulk")
REDIS_URL = os.environ.get("BULK_BENCH_REDIS_URL", "redis://127.0.0.1:6395/13")
PASSWORD = "bulk-bench-password-1"
QUEUE = "bulk-bench"
REQUEST_BUDGET_S = 2.0
WORK_BUDGET_S = 120.0

SEED = """
from shanqian.models import Platform
from signing.models import SignApplication
from django.contrib.auth import get_user_model
from tests.factories import CompanyFactory, ContractFactory, EmployeeFactory, WechatUserFactory

platform = Platform.objects.get_or_create(code="demo", defaults={"name": "演示"})[0]
root = get_user_model().objects.create_superuser("root", "root@example.com", "%(password)s")
company = CompanyFactory(company_name="甲科技有限公司")
contract = ContractFactory(company=company)
for i in range(%(count)s):
    user = WechatUserFactory(platform=platform, openid=f"o-bulk-{i}")
    employee = EmployeeFactory(user=user, real_name=f"员工{i}", phone=f"139{i:08d}")
    SignApplication.objects.create(em=employee, company=company, work_pos="普工", ad_user=root, status=1)
print(contract.pk)
"""


def pg_url() -> str:
    return DATABASE_URL.replace("postgres://", "postgresql://", 1)


def admin_db():
    name = DATABASE_URL.rsplit("/", 1)[1]
    return name, psycopg.connect(pg_url().rsplit("/", 1)[0] + "/postgres", autocommit=True)


def sql(query: str, *args):
    with psycopg.connect(pg_url(), autocommit=True) as conn:
        return conn.execute(query, args).fetchall()


def environment(tmp: Path) -> dict:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_", "CELERY_"))},
        "DJANGO_SETTINGS_MODULE": "shanqian.settings",
        "DJANGO_DEBUG": "0",
        **FIELD_KEYS,
        "SECRET_KEY": "bulk-bench-secret-key-" + "0123456789abcdef" * 3,
        "DATABASE_URL": DATABASE_URL,
        "REDIS_URL": REDIS_URL,
        "CELERY_BROKER_URL": REDIS_URL,
        "CELERY_QUEUE": QUEUE,
        "CELERY_BEAT_SCHEDULE_FILENAME": str(tmp / "beat-schedule"),
        "CACHE_KEY_PREFIX": "bulkbench",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SESSION_COOKIE_SECURE": "0",
        "CSRF_COOKIE_SECURE": "0",
        "STATICFILES_MANIFEST": "0",
        "MEDIA_ROOT": str(tmp / "media"),
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(tmp / "sms.jsonl"),
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp / "mail"),
        # Approval never signs; production's checks still want a time source and a key passphrase.
        "SIGNING_TSA_URL": "http://127.0.0.1:9/tsa",
        "SIGNING_KEY_PASSPHRASE": "bulk-bench-passphrase-0123456789abcdef",
        "BULK_JOB_CONCURRENCY": "2",
    }


def start_gunicorn(env: dict, log: Path, workers: int = 2) -> tuple[str, subprocess.Popen]:
    import socket

    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    process = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "shanqian.wsgi:application", "-b", f"127.0.0.1:{port}", "-w", str(workers)],
        env=env,
        cwd=BASE_DIR,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 90
    while True:
        try:
            requests.get(f"{base}/healthz", timeout=3)
            return base, process
        except requests.RequestException:
            if process.poll() is not None or time.monotonic() > deadline:
                raise SystemExit(f"gunicorn did not start:\n{log.read_text()[-3000:]}") from None
            time.sleep(0.3)


def stop(processes: list[subprocess.Popen]) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()


def start_worker(env: dict, tmp: Path, n: int) -> subprocess.Popen:
    log = tmp / f"worker-{n}.log"
    process = subprocess.Popen(
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
            "1",
            "-Q",
            QUEUE,
            "--without-gossip",
            "--without-mingle",
            "--loglevel",
            "WARNING",
            "-n",
            f"bench{n}@%h",
        ],
        env=env,
        cwd=BASE_DIR,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
        start_new_session=True,
    )
    return process


def wait_ready(process: subprocess.Popen, env: dict, n: int) -> None:
    """A worker is ready when it answers a ping (its log level hides the banner)."""
    deadline = time.monotonic() + 90
    while True:
        answer = subprocess.run(
            [sys.executable, "-m", "celery", "-A", "shanqian", "inspect", "ping", "-d", f"bench{n}@{os.uname()[1]}"],
            env=env,
            cwd=BASE_DIR,
            capture_output=True,
            text=True,
        )
        if "pong" in answer.stdout:
            return
        if process.poll() is not None or time.monotonic() > deadline:
            raise SystemExit(f"celery worker {n} did not start")
        time.sleep(1)


def login(base: str) -> requests.Session:
    """The admin login page, as a browser does it: its CSRF cookie and form token, then the POST."""
    session = requests.Session()
    url = f"{base}/admin/login/"
    page = session.get(url, timeout=30)
    page.raise_for_status()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    assert "csrftoken" in session.cookies, "the login page set no csrftoken cookie"
    answer = session.post(
        url,
        data={"csrfmiddlewaretoken": token, "username": "root", "password": PASSWORD, "next": "/admin/"},
        headers={"Referer": url},
        timeout=30,
    )
    if answer.status_code != 200 or "/admin/logout/" not in answer.text:
        raise SystemExit(f"login failed: HTTP {answer.status_code}\n{answer.text[:800]}")
    return session


def approve(base: str, session: requests.Session, ids: list[int], contract_id: int) -> tuple[str, float]:
    changelist = f"{base}/admin/signing/signapplication/"
    page = session.get(changelist, timeout=30)
    page.raise_for_status()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page.text).group(1)
    entry = time.strftime("%Y-%m-%d", time.localtime(time.time() + 7 * 86400))
    started = time.monotonic()
    response = session.post(
        changelist,
        data={
            "csrfmiddlewaretoken": token,
            "action": "approve_selected",
            "_selected_action": [str(pk) for pk in ids],
            "post": "yes",
            "contract": str(contract_id),
            "entry_date": entry,
            "salary": "6500",
        },
        headers={"Referer": changelist},
        allow_redirects=False,
        timeout=60,
    )
    elapsed = time.monotonic() - started
    location = response.headers.get("Location", "")
    if response.status_code != 302 or "/admin/shanqian/bulkjob/" not in location:
        raise SystemExit(
            f"the action did not start a job: HTTP {response.status_code} {location}\n{response.text[:800]}"
        )
    return location, elapsed


def counts(ids: list[int]) -> dict:
    refs = [f"signing.signapplication:{pk}" for pk in ids]
    ((moved, with_document),) = sql(
        "SELECT count(*) FILTER (WHERE status = 2), count(*) FILTER (WHERE status = 2 AND contract_document <> '') "
        "FROM sign_apply WHERE id = ANY(%s)",
        ids,
    )
    ((notices, delivered),) = sql(
        "SELECT count(*), count(*) FILTER (WHERE state = 'delivered') FROM shanqian_outboxmessage "
        "WHERE ref = ANY(%s) AND channel LIKE 'worker.%%'",
        refs,
    )
    return {"moved": moved, "documents": with_document, "notices": notices, "delivered": delivered}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.strip().splitlines()[0])
    parser.add_argument("--count", type=int, default=1000)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--keep", action="store_true", help="keep the database")
    args = parser.parse_args()

    import redis

    tmp = Path(tempfile.mkdtemp(prefix="bulk-bench-"))
    env = environment(tmp)
    name, conn = admin_db()
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    redis.Redis.from_url(REDIS_URL).flushdb()
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
    started = time.monotonic()
    seeded = subprocess.run(
        [*manage, "shell", "-c", SEED % {"password": PASSWORD, "count": args.count}],
        env=env,
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    )
    contract_id = int(seeded.stdout.strip().splitlines()[-1])
    print(f"seeded {args.count} pending applications in {time.monotonic() - started:.1f} s")

    processes: list[subprocess.Popen] = []
    workers: list[subprocess.Popen] = []
    try:
        base, web = start_gunicorn(env, tmp / "gunicorn.log", workers=2)
        processes.append(web)
        beat = subprocess.Popen(
            [sys.executable, "-m", "celery", "-A", "shanqian", "beat", "--loglevel", "WARNING"],
            env=env,
            cwd=BASE_DIR,
            stdout=(tmp / "beat.log").open("w"),
            stderr=subprocess.STDOUT,
        )
        processes.append(beat)
        workers = [start_worker(env, tmp, n) for n in range(1, args.workers + 1)]
        for n, worker in enumerate(workers, 1):
            wait_ready(worker, env, n)
        print(f"{args.workers} celery workers ready; load average {os.getloadavg()[0]:.1f}")

        session = login(base)
        ids = [row[0] for row in sql("SELECT id FROM sign_apply WHERE status = 1 ORDER BY id")]
        location, request_s = approve(base, session, ids, contract_id)
        clock = time.monotonic() - request_s
        print(f"action request ({len(ids)} rows): {request_s:.2f} s → {location}")

        done_s = delivered_s = None
        deadline = clock + 600
        while time.monotonic() < deadline:
            now = counts(ids)
            if done_s is None and now["moved"] == now["documents"] == now["notices"] == len(ids):
                done_s = time.monotonic() - clock
                print(f"all {len(ids)} contracts generated and {now['notices']} notices queued: {done_s:.1f} s")
            if done_s is not None and now["delivered"] == len(ids):
                delivered_s = time.monotonic() - clock
                print(f"all {len(ids)} notices delivered: {delivered_s:.1f} s")
                break
            time.sleep(0.5)
        load = os.getloadavg()
        print(f"load average after the run: {load[0]:.1f} {load[1]:.1f} {load[2]:.1f}")
        if done_s is None:
            raise SystemExit(f"not finished within 600 s: {counts(ids)}")

        # Exactly once: one move event, one job item done, one worker notice per row.
        events = sql(
            "SELECT count(*), count(DISTINCT application_id) FROM signing_signevent "
            "WHERE to_status = 2 AND application_id = ANY(%s)",
            ids,
        )[0]
        items = dict(sql("SELECT state, count(*) FROM shanqian_bulkjobitem GROUP BY state"))
        notices = sql(
            "SELECT count(*), count(DISTINCT ref) FROM shanqian_outboxmessage WHERE channel LIKE 'worker.%%'"
        )[0]
        files = [row[0] for row in sql("SELECT contract_document FROM sign_apply WHERE id = ANY(%s)", ids)]
        missing = [f for f in files if not (tmp / "media" / f).is_file()]
        print(
            f"move events {events[0]} for {events[1]} applications; job items {items}; "
            f"worker notices {notices[0]} for {notices[1]} applications; contract files missing {len(missing)}"
        )
        assert events == (len(ids), len(ids)), events
        assert items == {"done": len(ids)}, items
        assert notices == (len(ids), len(ids)), notices
        assert not missing, missing[:5]
        verdict = request_s < REQUEST_BUDGET_S and done_s < WORK_BUDGET_S
        print(
            f"RESULT request {request_s:.2f} s (< {REQUEST_BUDGET_S:.0f} s), work {done_s:.1f} s "
            f"(< {WORK_BUDGET_S:.0f} s): {'met' if verdict else 'MISSED'}"
        )
    finally:
        for worker in workers:
            if worker.poll() is None:
                os.killpg(worker.pid, signal.SIGTERM)
        for worker in workers:
            try:
                worker.wait(timeout=30)
            except subprocess.TimeoutExpired:
                os.killpg(worker.pid, signal.SIGKILL)
        stop(processes)
        redis.Redis.from_url(REDIS_URL).flushdb()
        if not args.keep:
            name, conn = admin_db()
            with conn:
                conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


if __name__ == "__main__":
    main()
