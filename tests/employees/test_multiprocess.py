"""
SMS send limits hold across app instances (SPEC §2 "no process-local state").

Two gunicorn processes, each with its own local-memory cache (no REDIS_URL),
share one PostgreSQL database. A code sent through instance A must make
instance B refuse the same phone at once: the database is the source of truth.

Runs only when the suite itself runs on PostgreSQL (``DATABASE_URL=postgres://…``);
it migrates its own database ``<test db name>_mp`` and drops it afterwards.
"""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
import requests
from django.conf import settings

from tests.support.production import SIGNING_ENV
from tests.support.servers import admin_connection, postgres_or_skip, start_gunicorn, stop

pytestmark = pytest.mark.multiprocess

BASE_DIR = Path(settings.BASE_DIR)
PHONE = "13700137000"


@pytest.fixture(scope="module")
def instances(tmp_path_factory):
    import psycopg

    db = postgres_or_skip()
    name = f"{db['NAME']}_mp"
    tmp = tmp_path_factory.mktemp("multiprocess")
    with admin_connection(db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
    url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{name}"
    env = {
        **{k: v for k, v in os.environ.items() if k not in {"REDIS_URL", "DJANGO_SETTINGS_MODULE"}},
        "DJANGO_SETTINGS_MODULE": "shanqian.settings",
        "DATABASE_URL": url,
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "multiprocess-test-secret-key-0123456789abcdef",
        **SIGNING_ENV,
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "WECHAT_BACKEND": "wechat",
        "SMS_BACKEND": "file",
        "SMS_FILE_PATH": str(tmp / "sms.jsonl"),
        "MEDIA_ROOT": str(tmp / "media"),
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    processes = []
    try:
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True, timeout=180)
        subprocess.run(
            [
                *manage,
                "shell",
                "-c",
                "from shanqian.models import Platform; Platform.objects.create(code='demo', name='多实例')",
            ],
            env=env,
            cwd=BASE_DIR,
            check=True,
            timeout=60,
        )
        bases = []
        for label in ("a", "b"):
            base, process = start_gunicorn(env, tmp / f"gunicorn-{label}.log")
            bases.append(base)
            processes.append(process)
        with psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True) as conn:
            yield {"a": bases[0], "b": bases[1], "db": conn, "sms_file": tmp / "sms.jsonl"}
    finally:
        stop(processes)
        with admin_connection(db) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _captcha(instances, base) -> tuple[str, str]:
    response = requests.get(f"{base}/api/captcha", headers={"X-platform-code": "demo"}, timeout=10)
    assert response.status_code == 200, response.text
    key = response.headers["X-unique-key"]
    row = instances["db"].execute("SELECT response FROM captcha_captchastore WHERE hashkey = %s", [key]).fetchone()
    return key, row[0]


def _verify(base, key, answer, phone=PHONE) -> dict:
    response = requests.post(
        f"{base}/api/verifycode",
        data={"phone": phone, "captcha_code": answer, "captcha_key": key},
        headers={"X-platform-code": "demo"},
        timeout=15,
    )
    return response.json()


def test_a_code_sent_through_one_instance_blocks_the_phone_on_the_other(instances):
    key_a, answer_a = _captcha(instances, instances["a"])
    key_b, answer_b = _captcha(instances, instances["b"])

    first = _verify(instances["a"], key_a, answer_a)
    second = _verify(instances["b"], key_b, answer_b)

    assert first["status"] == 0, first
    assert second["status"] == 42900, second
    assert 1 <= second["data"]["retry_after"] <= 60
    sent = [json.loads(line) for line in instances["sms_file"].read_text().splitlines()]
    assert [m["phone"] for m in sent] == [PHONE]
    count = instances["db"].execute("SELECT count(*) FROM employees_smscode WHERE phone = %s", [PHONE]).fetchone()
    assert count[0] == 1


def test_a_captcha_issued_by_one_instance_is_answered_once_on_any(instances):
    key, answer = _captcha(instances, instances["a"])

    assert _verify(instances["b"], key, answer, phone="13700137001")["status"] == 0
    assert _verify(instances["a"], key, answer, phone="13700137002")["status"] == 42200
