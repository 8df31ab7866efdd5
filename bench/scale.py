"""
Data scale: the back office's application list at 10,000 and 1,000,000 rows (PostgreSQL).

For each size it creates the database ``shanqian_scale`` (``SCALE_DATABASE_URL``), migrates
it, loads N applications with their employees and WeChat users (``manage.py bench_load``, COPY)
and times, in this process, the queries the changelist runs:

* first page in the default (work-queue) order, 50 rows, with ``em``/``company``/``ad_user`` joined,
  and its count through ``shanqian.paginators.EstimatedCountPaginator``;
* the same filtered by status (1 签约申请 — the short queue; 3 已签约 — 80 % of the rows);
* exact search by phone and by ID number (``em__phone`` / ``em__id_number_index``, the blind index).

Each is run once to warm the cache, then ``REPEAT`` times; the median is reported. With
``--compare`` the queue indexes of ``signing/migrations/0003_scale_indexes.py`` are then dropped
and everything is timed again (the "before"). ``EXPLAIN (ANALYZE, BUFFERS)`` of every query goes
to ``docs/scale/explain-<N>[-noindex].txt``; the table to ``docs/scale.md``.

    python bench/scale.py                       # 10,000 and 1,000,000 rows, with --compare
    python bench/scale.py --sizes 10000 --no-compare
    python bench/scale.py --ledger              # the contract ledger (bench/ledger_scale.py)
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(BASE_DIR))

from bench.keys import FIELD_KEYS  # noqa: E402

DOCS = BASE_DIR / "docs"
DATABASE_URL = os.environ.get("SCALE_DATABASE_URL", "postgres://postgres@127.0.0.1:5432/shanqian_scale")
REPEAT = 7
PAGE = 50
BUDGET_MS = 300.0
QUEUE_INDEXES = ("sign_apply_work_queue", "sign_apply_status_queue")
# The machine's 1-minute load average when each size's timing started and ended (it is shared).
LOADS: dict[int, tuple[float, float]] = {}


def env() -> dict:
    return {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_"))},
        # Production settings plus the bench app (manage.py bench_load).
        "DJANGO_SETTINGS_MODULE": "bench.settings",
        "DJANGO_DEBUG": "0",
        **FIELD_KEYS,
        "SECRET_KEY": "scale-secret-key-" + "0123456789abcdef" * 3,
        "DATABASE_URL": DATABASE_URL,
        "ALLOWED_HOSTS": "testserver",
        "SECURE_SSL_REDIRECT": "0",
        "STATICFILES_MANIFEST": "0",
        # Production settings need a time source and a key passphrase (signing.pki checks).
        "SIGNING_TSA_URL": "https://tsa.example.com/tsr",
        "SIGNING_KEY_PASSPHRASE": "scale-passphrase-0123456789abcdef",
        # The ledger's daily run sends its delivery tasks to a queue of its own that nobody consumes.
        "CELERY_BROKER_URL": os.environ.get("LEDGER_BENCH_BROKER", "redis://127.0.0.1:6397/14"),
        "CELERY_QUEUE": "bench-ledger",
    }


def admin_connection():
    import environ
    import psycopg

    db = environ.Env.db_url_config(DATABASE_URL)
    return db["NAME"], psycopg.connect(
        host=db["HOST"] or "127.0.0.1", port=db["PORT"] or 5432, user=db["USER"], dbname="postgres", autocommit=True
    )


def prepare(size: int) -> float:
    name, conn = admin_connection()
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env(), cwd=BASE_DIR, check=True)
    started = time.monotonic()
    subprocess.run(
        [*manage, "bench_load", "--force", f"--applications={size}", "--rows=0", "--readers=0"],
        env=env(),
        cwd=BASE_DIR,
        check=True,
    )
    return time.monotonic() - started


def drop_database() -> None:
    name, conn = admin_connection()
    with conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def setup_django() -> None:
    os.environ.update(env())
    sys.path.insert(0, str(BASE_DIR))
    import django

    django.setup()


def work_queue_ordering():
    """The changelist's ordering: the back office's own when it is in this tree, else the model's copy."""
    from signing import selectors

    return selectors.WORK_QUEUE_ORDERING


def scenarios() -> dict:
    from employees.models import Employee, id_number_index
    from signing.models import SignApplication

    ordering = work_queue_ordering()
    base = SignApplication.objects.select_related("em", "company", "ad_user").order_by(*ordering)
    # A phone and an ID number from the middle of the data.
    middle = Employee.objects.order_by("id").values("phone", "id_number")[Employee.objects.count() // 2]
    return {
        "first page": base,
        "status = 1 (签约申请)": base.filter(status=1),
        "status = 3 (已签约)": base.filter(status=3),
        "search phone": base.filter(em__phone=middle["phone"]),
        # ID numbers are encrypted: the exact search is by blind index (what the admin's search does).
        "search ID number": base.filter(em__id_number_index=id_number_index(middle["id_number"])),
    }


def time_query(queryset) -> tuple[float, float, int, int]:
    """Median ms of the page, median ms of the paginator count, rows on the page, the count."""
    from shanqian.paginators import EstimatedCountPaginator

    def page():
        return list(queryset[:PAGE])

    def count():
        return EstimatedCountPaginator(queryset, PAGE).count

    rows, total = page(), count()
    page_times, count_times = [], []
    for _ in range(REPEAT):
        started = time.perf_counter()
        page()
        page_times.append((time.perf_counter() - started) * 1000)
        started = time.perf_counter()
        count()
        count_times.append((time.perf_counter() - started) * 1000)
    return statistics.median(page_times), statistics.median(count_times), len(rows), total


def explain(queryset) -> str:
    return queryset[:PAGE].explain(analyze=True, buffers=True)


def admin_pages() -> dict:
    """The same lists through the real admin changelist URL (query string as a handler's browser sends it)."""
    from employees.models import Employee

    middle = Employee.objects.order_by("id").values("phone", "id_number")[Employee.objects.count() // 2]
    url = "/admin/signing/signapplication/"
    return {
        "first page": url,
        "status = 1 (签约申请)": f"{url}?status__exact=1",
        "status = 3 (已签约)": f"{url}?status__exact=3",
        "search phone": f"{url}?q={middle['phone']}",
        "search ID number": f"{url}?q={middle['id_number']}",
    }


def measure_admin() -> dict:
    """Median ms of the whole admin request, served in this process by a superuser's session."""
    from django.test import Client

    from shanqian.models import AdminUser

    admin, _ = AdminUser.objects.get_or_create(
        username="scale-admin", defaults={"is_staff": True, "is_superuser": True}
    )
    client = Client()
    client.force_login(admin)
    results = {}
    for name, url in admin_pages().items():
        # A ?q= search is answered 303 to its session token (?qs=, shanqian.admin_search): follow it once.
        response = client.get(url, follow=True)
        assert response.status_code == 200, (url, response.status_code)
        if response.redirect_chain:
            url = response.redirect_chain[-1][0]
        times = []
        for _ in range(REPEAT):
            started = time.perf_counter()
            client.get(url)
            times.append((time.perf_counter() - started) * 1000)
        results[name] = statistics.median(times)
        print(f"  admin {name:<22} {results[name]:8.2f} ms")
    return results


def drop_queue_indexes() -> None:
    from django.db import connection

    with connection.cursor() as cursor:
        for name in QUEUE_INDEXES:
            cursor.execute(f'DROP INDEX IF EXISTS "{name}"')
        cursor.execute("ANALYZE sign_apply")


def measure(size: int, label: str) -> dict:
    from django.db import connection

    results = {}
    lines = []
    for name, queryset in scenarios().items():
        page_ms, count_ms, rows, total = time_query(queryset)
        results[name] = (page_ms, count_ms, rows, total)
        print(
            f"  {size:>9} {label:<9} {name:<22} page {page_ms:8.2f} ms  count {count_ms:8.2f} ms  "
            f"({rows} rows, {total})"
        )
        sql, params = queryset[:PAGE].query.sql_with_params()
        lines += [f"## {name}", "", connection.ops.compose_sql(sql, params), "", explain(queryset), ""]
    suffix = "" if label == "indexed" else "-noindex"
    (DOCS / "scale").mkdir(parents=True, exist_ok=True)
    (DOCS / "scale" / f"explain-{size}{suffix}.txt").write_text("\n".join(lines), encoding="utf-8")
    connection.close()
    return results


def write_doc(runs: list[tuple[int, str, float, dict]], admin_runs: dict[int, dict]) -> None:
    head = "| rows | indexes | query | page ms | count ms | total ms | rows on page | count |"
    out = [head, "|---:|---|---|---:|---:|---:|---:|---:|"]
    for size, label, _load, results in runs:
        for name, (page_ms, count_ms, rows, total) in results.items():
            out.append(
                f"| {size:,} | {label} | {name} | {page_ms:.2f} | {count_ms:.2f} | {page_ms + count_ms:.2f} "
                f"| {rows} | {total:,} |"
            )
    indexed = {size: results for size, label, _l, results in runs if label == "indexed"}
    verdict = []
    if len(indexed) >= 2:
        small, large = min(indexed), max(indexed)
        for name in indexed[large]:
            big = sum(indexed[large][name][:2])
            little = sum(indexed[small][name][:2])
            ok = big < BUDGET_MS and big <= 3 * max(little, 1.0)
            verdict.append(
                f"| {name} | {little:.2f} | {big:.2f} | {big / max(little, 0.01):.1f}× | {'met' if ok else 'MISSED'} |"
            )
    admin_rows = [
        f"| {name} | " + " | ".join(f"{admin_runs[size][name]:.1f}" for size in admin_runs) + " |"
        for name in next(iter(admin_runs.values()), {})
    ]
    loads = ", ".join(f"{size:,} rows in {load:.0f} s" for size, label, load, _r in runs if label == "indexed")
    text = f"""# Data scale: the application list

Generated by `python bench/scale.py` on {time.strftime("%Y-%m-%d %H:%M %Z")}; PostgreSQL, database
`shanqian_scale`, data from `manage.py bench_load --rows=0` (COPY; {loads}). Times are server time in
this process (ORM + database), median of {REPEAT} runs after one warm-up; "count" is
`shanqian.paginators.EstimatedCountPaginator(queryset, {PAGE}).count`. The ordering is the back office's
work queue (`WORK_QUEUE_ORDERING`); `EXPLAIN (ANALYZE, BUFFERS)` of every query is in `docs/scale/`.

Target: each query (page + count) under {BUDGET_MS:.0f} ms at the largest size and within 3× of the smallest.
Load average (1 min) of this two-core machine while timing: {
        ", ".join(f"{size:,} rows {a:.1f} → {b:.1f}" for size, (a, b) in LOADS.items()) or "not recorded"
    }.

| query | small ms | large ms | ratio | target |
|---|---:|---:|---:|---|
{chr(10).join(verdict)}

## Through the admin

The whole request to the changelist (`/admin/signing/signapplication/`, superuser session, 50 rows
rendered, `EstimatedCountPaginator`, no full count), served in this process by Django's test client;
median of {REPEAT} after one warm-up.

| page | {" | ".join(f"{size:,} rows ms" for size in admin_runs)} |
|---|{"---:|" * len(admin_runs)}
{chr(10).join(admin_rows)}

## All runs ("no queue index" = without `signing/migrations/0003_scale_indexes.py`)

{chr(10).join(out)}
"""
    from bench.ledger_scale import MARK_END, MARK_START

    old = (DOCS / "scale.md").read_text(encoding="utf-8") if (DOCS / "scale.md").exists() else ""
    if MARK_START in old and MARK_END in old:  # the ledger's section (--ledger) stays
        text += "\n" + MARK_START + old.split(MARK_START, 1)[1].split(MARK_END, 1)[0] + MARK_END + "\n"
    (DOCS / "scale.md").write_text(text, encoding="utf-8")
    print(f"wrote {(DOCS / 'scale.md').relative_to(BASE_DIR)}")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--sizes", default="10000,1000000")
    parser.add_argument("--no-compare", action="store_true", help="skip the run without the queue indexes")
    parser.add_argument("--keep", action="store_true", help="keep the last database")
    parser.add_argument("--ledger", action="store_true", help="the contract ledger instead (bench/ledger_scale.py)")
    args = parser.parse_args()
    setup_django()
    if args.ledger:
        ledger_main([int(s) for s in args.sizes.split(",")], keep=args.keep)
        return
    runs = []
    admin_runs = {}
    for size in (int(s) for s in args.sizes.split(",")):
        load = prepare(size)
        print(f"== {size:,} applications loaded in {load:.1f} s")
        before = os.getloadavg()[0]
        runs.append((size, "indexed", load, measure(size, "indexed")))
        admin_runs[size] = measure_admin()
        LOADS[size] = (before, os.getloadavg()[0])
        if not args.no_compare:
            drop_queue_indexes()
            runs.append((size, "no queue index", load, measure(size, "no queue index")))
    write_doc(runs, admin_runs)
    if not args.keep:
        drop_database()


def ledger_main(sizes: list[int], *, keep: bool) -> None:
    from django.db import connection

    from bench import ledger_scale

    runs = {}
    for size in sizes:
        load = prepare(size)
        contracts = ledger_scale.load_contracts()
        print(f"== {size:,} applications loaded in {load:.1f} s, their contracts in {contracts:.1f} s")
        before = os.getloadavg()[0]
        scan = ledger_scale.due_scan()
        # The full run (every notice written and queued) where it fits the session: see docs/scale.md.
        daily = ledger_scale.daily_run() if size <= ledger_scale.FULL_RUN_MAX else None
        runs[size] = {"load": load + contracts, "pages": ledger_scale.pages(), "scan": scan, "daily": daily}
        runs[size]["loadavg"] = (before, os.getloadavg()[0])
        ledger_scale.flush_broker()
        connection.close()
    ledger_scale.write_doc(DOCS, runs)
    if not keep:
        drop_database()


if __name__ == "__main__":
    main()
