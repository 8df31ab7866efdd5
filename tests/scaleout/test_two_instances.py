"""
Scale-out: two app instances (separate gunicorn processes, one worker each) share one
PostgreSQL database (``<test db name>_scaleout``), one Redis (DB 14) and one S3-compatible bucket (moto's
standalone server), and nothing an instance keeps for itself changes an answer:

* the per-phone SMS limit: a code sent through A makes B refuse the phone (42900);
* a captcha issued by A answers once, on any instance;
* a token revoked by the back office (``revoke_tokens`` in a third process) is refused by B
  at once, although B had just cached it;
* one application, two processes moving it at the same instant: one move wins;
* media: an image uploaded through A is private in the bucket (unsigned URL → 403), its signed
  URL serves the stored bytes, and B accepts that URL in the uploader's resume.

Runs when the suite runs on PostgreSQL and Redis answers (``REDIS_TEST_URL``, set by .ci/run);
skipped with the reason otherwise.
"""

import datetime
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
import requests
from django.conf import settings

from employees.idcard import make_id_number
from tests.support.production import SIGNING_ENV
from tests.support.servers import (
    admin_connection,
    fake_wechat_server,
    postgres_or_skip,
    redis_url_or_skip,
    start_gunicorn,
    start_moto,
    stop,
)

pytestmark = pytest.mark.multiprocess

BASE_DIR = Path(settings.BASE_DIR)
BUCKET = "shanqian-scaleout"
PLATFORM = {"X-platform-code": "demo"}


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    import boto3
    import psycopg
    import redis

    db = postgres_or_skip()
    redis_url = redis_url_or_skip(db_number=14)
    db_name = f"{db['NAME']}_scaleout"  # one per test database, so parallel runs do not collide
    tmp = tmp_path_factory.mktemp("scaleout")
    processes = []
    with admin_connection(db) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{db_name}"')
    redis.Redis.from_url(redis_url).flushdb()
    try:
        moto_url, moto = start_moto(tmp)
        processes.append(moto)
        s3 = boto3.client(
            "s3",
            endpoint_url=moto_url,
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
            region_name="us-east-1",
        )
        s3.create_bucket(Bucket=BUCKET)
        wechat = fake_wechat_server()
        password = f":{db['PASSWORD']}" if db["PASSWORD"] else ""
        url = f"postgres://{db['USER']}{password}@{db['HOST'] or '127.0.0.1'}:{db['PORT'] or 5432}/{db_name}"
        env = {
            **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_"))},
            "DJANGO_SETTINGS_MODULE": "shanqian.settings",
            "DATABASE_URL": url,
            "REDIS_URL": redis_url,
            "CACHE_KEY_PREFIX": "scaleout",
            "DJANGO_DEBUG": "0",
            "SECRET_KEY": "scaleout-test-secret-key-0123456789abcdef",
            **SIGNING_ENV,
            "ALLOWED_HOSTS": "127.0.0.1,localhost",
            "SECURE_SSL_REDIRECT": "0",
            "WECHAT_BACKEND": "wechat",
            "WECHAT_API_BASE": wechat.url,
            "SMS_BACKEND": "file",
            "SMS_FILE_PATH": str(tmp / "sms.jsonl"),
            "STORAGE_BACKEND": "s3",
            "AWS_STORAGE_BUCKET_NAME": BUCKET,
            "AWS_S3_ENDPOINT_URL": moto_url,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",
            "AWS_S3_REGION_NAME": "us-east-1",
        }
        manage = [sys.executable, str(BASE_DIR / "manage.py")]
        subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True, timeout=180)
        ref_file = tmp / "ref.json"
        # The bench app (bench_load, bench_transition) is installed only by bench.settings.
        bench_env = {**env, "DJANGO_SETTINGS_MODULE": "bench.settings"}
        subprocess.run(
            [*manage, "bench_load", "--force", "--applications=2", "--readers=0", f"--out={ref_file}"],
            env=bench_env,
            cwd=BASE_DIR,
            check=True,
            capture_output=True,
            timeout=180,
        )
        conn = psycopg.connect(url.replace("postgres://", "postgresql://"), autocommit=True)
        conn.execute(
            "UPDATE shanqian_platform SET wechat_appid = 'wx-scaleout', wechat_secret = 's' WHERE code = 'demo'"
        )
        bases = []
        for label in ("a", "b"):
            base, process = start_gunicorn(env, tmp / f"gunicorn-{label}.log")
            processes.append(process)
            bases.append(base)
        yield {
            "a": bases[0],
            "b": bases[1],
            "db": conn,
            "env": env,
            "bench_env": bench_env,
            "manage": manage,
            "s3": s3,
            "sms_file": tmp / "sms.jsonl",
            "ref": json.loads(ref_file.read_text()),
        }
        conn.close()
        wechat.shutdown()
    finally:
        stop(processes)
        with admin_connection(db) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{db_name}" WITH (FORCE)')
        redis.Redis.from_url(redis_url).flushdb()


def _captcha(cluster, base) -> tuple[str, str]:
    response = requests.get(f"{base}/api/captcha", headers=PLATFORM, timeout=10)
    assert response.status_code == 200, response.text
    key = response.headers["X-unique-key"]
    row = cluster["db"].execute("SELECT response FROM captcha_captchastore WHERE hashkey = %s", [key]).fetchone()
    return key, row[0]


def _verify(base, key, answer, phone) -> dict:
    return requests.post(
        f"{base}/api/verifycode",
        data={"phone": phone, "captcha_code": answer, "captcha_key": key},
        headers=PLATFORM,
        timeout=15,
    ).json()


def _login(base, code) -> str:
    body = requests.post(f"{base}/api/weixin/login", json={"code": code}, headers=PLATFORM, timeout=15).json()
    assert body["status"] == 0, body
    return body["data"]["session_token"]


def _sms_code(cluster, phone) -> str:
    lines = [json.loads(line) for line in cluster["sms_file"].read_text().splitlines()]
    return [m for m in lines if m["phone"] == phone][-1]["code"]


def test_sms_limit_holds_across_instances(cluster):
    phone = "13700137000"
    key_a, answer_a = _captcha(cluster, cluster["a"])
    key_b, answer_b = _captcha(cluster, cluster["b"])

    first = _verify(cluster["a"], key_a, answer_a, phone)
    second = _verify(cluster["b"], key_b, answer_b, phone)

    assert first["status"] == 0, first
    assert second["status"] == 42900, second
    assert 1 <= second["data"]["retry_after"] <= 60


def test_captcha_answers_once_on_any_instance(cluster):
    key, answer = _captcha(cluster, cluster["a"])

    first = _verify(cluster["b"], key, answer, "13700137001")
    again_b = _verify(cluster["b"], key, answer, "13700137002")
    again_a = _verify(cluster["a"], key, answer, "13700137003")

    assert first["status"] == 0, first
    assert again_b["status"] == 42200
    assert again_a["status"] == 42200


def test_revoked_token_is_refused_by_the_other_instance_at_once(cluster):
    token = _login(cluster["a"], "revoke-me")
    headers = {**PLATFORM, "X-auth-token": token}
    # B resolves (and caches) the token first.
    assert requests.get(f"{cluster['b']}/api/em_status", headers=headers, timeout=10).json()["status"] == 0

    subprocess.run(
        [
            *cluster["manage"],
            "shell",
            "-c",
            "from employees.models import SessionToken; from employees.tokens import revoke_tokens; "
            "print(revoke_tokens(SessionToken.objects.filter(user__openid='o-revoke-me')))",
        ],
        env=cluster["env"],
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        timeout=60,
    )

    for base in (cluster["b"], cluster["a"]):
        body = requests.get(f"{base}/api/em_status", headers=headers, timeout=10).json()
        assert body["status"] == 40100, body


def test_one_application_moved_by_two_processes_at_once_moves_once(cluster):
    db = cluster["db"]
    app_id = db.execute("SELECT min(id) FROM sign_apply").fetchone()[0]
    db.execute("UPDATE sign_apply SET status = 1 WHERE id = %s", [app_id])
    events_before = db.execute("SELECT count(*) FROM signing_signevent WHERE application_id = %s", [app_id]).fetchone()
    at = time.time() + 4  # both interpreters are up and waiting by then
    racers = [
        subprocess.Popen(
            [*cluster["manage"], "bench_transition", str(app_id), move, f"--at={at}"],
            env=cluster["bench_env"],
            cwd=BASE_DIR,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
        )
        for move in ("reject", "cancel")
    ]
    outcomes = []
    for racer in racers:
        out, err = racer.communicate(timeout=60)
        assert racer.returncode in (0, 3), err
        outcomes.append(json.loads(out.strip().splitlines()[-1]))

    assert sorted(o["ok"] for o in outcomes) == [False, True], outcomes
    assert [o["error"] for o in outcomes if not o["ok"]] == ["TransitionNotAllowed"]
    winner = next(o for o in outcomes if o["ok"])
    status = db.execute("SELECT status FROM sign_apply WHERE id = %s", [app_id]).fetchone()[0]
    assert status == winner["status"] in (4, 5)
    events = db.execute(
        "SELECT count(*) FROM signing_signevent WHERE application_id = %s AND kind = 'transition'", [app_id]
    ).fetchone()
    assert events[0] - events_before[0] <= 1
    transitions = db.execute(
        "SELECT from_status, to_status FROM signing_signevent WHERE application_id = %s AND kind = 'transition' "
        "ORDER BY id DESC LIMIT 1",
        [app_id],
    ).fetchone()
    assert transitions == (1, status)


def _jpeg() -> bytes:
    import io

    from PIL import Image

    out = io.BytesIO()
    Image.linear_gradient("L").resize((320, 200)).convert("RGB").save(out, "JPEG", quality=85)
    return out.getvalue()


def _consent(base, token) -> None:
    """Give the current consents as the mini-program does: uploads and resumes need them (SPEC §13)."""
    headers = {**PLATFORM, "X-auth-token": token}
    policies = requests.get(f"{base}/api/consents", headers=headers, timeout=10).json()["data"]["policies"]
    assert policies
    for policy in policies:
        given = requests.post(
            f"{base}/api/consents",
            json={"scope": policy["scope"], "version": policy["version"]},
            headers=headers,
            timeout=10,
        ).json()
        assert given["status"] == 0, given


def test_media_on_s3_is_private_signed_and_accepted_by_the_other_instance(cluster):
    ref = cluster["ref"]
    token = _login(cluster["a"], "s3-user")
    headers = {**PLATFORM, "X-auth-token": token}
    _consent(cluster["a"], token)

    upload = requests.post(
        f"{cluster['a']}/api/image",
        files={"file": ("photo.jpg", _jpeg(), "image/jpeg")},
        headers=headers,
        timeout=30,
    ).json()
    assert upload["status"] == 0, upload
    url = upload["data"]["url"]
    # Uploads are encrypted at rest: the object in the bucket is ciphertext, and the link is the
    # application's own /files/ link (which decrypts), not a presigned link to the bucket.
    assert requests.utils.urlparse(url).path.startswith("/files/")
    (key,) = [o["Key"] for o in cluster["s3"].list_objects_v2(Bucket=BUCKET, Prefix="uploads/")["Contents"]]
    stored = cluster["s3"].get_object(Bucket=BUCKET, Key=key)["Body"].read()

    signed = requests.get(url, timeout=10)
    tampered = requests.get(url[:-3] + ("AAA" if not url.endswith("AAA") else "BBB"), timeout=10)

    assert signed.status_code == 200
    assert signed.content[:3] == b"\xff\xd8\xff" and stored[:4] == b"SQE1" and signed.content not in stored
    assert tampered.status_code == 404

    phone = "13700137010"
    captcha_key, answer = _captcha(cluster, cluster["b"])
    assert _verify(cluster["b"], captcha_key, answer, phone)["status"] == 0
    body = {
        "real_name": "多实例",
        "phone": phone,
        "id_number": make_id_number(birth=datetime.date(1992, 3, 4), sequence=77),
        "sms_code": _sms_code(cluster, phone),
        "nation": ref["nation"],
        "marital_sts": 1,
        "political_sts": 3,
        "acct_type": 1,
        "acct_prc_id": ref["province_id"],
        "acct_city_id": ref["city_id"],
        "acct_coy_id": ref["county_id"],
        "province_id": ref["province_id"],
        "city_id": ref["city_id"],
        "county_id": ref["county_id"],
        "em_contact_relationship": ref["relationship"],
        "id_card_front": url,
        "company_id": ref["company_id"],
        "work_pos": ref["work_pos"],
        "ad_user_id": ref["ad_user_id"],
        "employee_edu": [
            {"edu_type": ref["edu_types"][0], "school": "第一中学", "start_date": "2008-09", "end_date": "2011-07"}
        ],
        "work_exp": [],
    }
    created = requests.post(f"{cluster['b']}/api/employee", json=body, headers=headers, timeout=30).json()
    assert created["status"] == 0, created

    resume = requests.get(f"{cluster['b']}/api/employee", headers=headers, timeout=30).json()["data"]
    assert requests.get(resume["id_card_front"], timeout=10).content == signed.content
    # Someone else's upload URL is refused.
    other = _login(cluster["b"], "s3-other")
    _consent(cluster["b"], other)
    body_other = {**body, "phone": "13700137011", "id_number": make_id_number(sequence=78), "sms_code": "000000"}
    refused = requests.post(
        f"{cluster['b']}/api/employee", json=body_other, headers={**PLATFORM, "X-auth-token": other}, timeout=30
    ).json()
    assert refused["status"] == 40000
    assert "id_card_front" in refused["data"]["errors"]


def test_every_throttle_holds_across_two_instances_under_parallel_requests(cluster):
    """Issue 15, finding 2: N parallel requests spread over A and B pass exactly the limit of each throttle."""
    import redis

    from tests.support.parallel import fire

    store = redis.Redis.from_url(cluster["env"]["REDIS_URL"])

    def forget_counts():
        for key in store.scan_iter(match="scaleout:*throttle:*"):
            store.delete(key)

    token = _login(cluster["a"], "throttled-signer")
    signer = {**PLATFORM, "X-auth-token": token}
    bases = (cluster["a"], cluster["b"])
    cases = {
        # scope: (limit, parallel requests, one request)
        "login": (
            30,
            60,
            lambda i: requests.post(
                f"{bases[i % 2]}/api/weixin/login", data={"code": f"t{i}"}, headers=PLATFORM, timeout=60
            ),
        ),
        "captcha": (30, 60, lambda i: requests.get(f"{bases[i % 2]}/api/captcha", headers=PLATFORM, timeout=60)),
        "verifycode": (
            20,
            60,
            lambda i: requests.post(
                f"{bases[i % 2]}/api/verifycode",
                data={"phone": "13700137099", "captcha_code": "x", "captcha_key": "0" * 40},
                headers=PLATFORM,
                timeout=60,
            ),
        ),
        "sign": (
            20,
            60,
            lambda i: requests.post(
                f"{bases[i % 2]}/api/sign", data={"sms_code": "123456", "signature": "x"}, headers=signer, timeout=60
            ),
        ),
    }
    seen = {}
    try:
        for scope, (limit, n, call) in cases.items():
            forget_counts()
            answers = fire(n, call)
            assert not [a for a in answers if isinstance(a, Exception)], scope
            refused = [a for a in answers if a.status_code == 429]
            assert all(a.json()["status"] == 42900 and a.json()["data"]["retry_after"] >= 1 for a in refused)
            assert not [a for a in answers if a.status_code >= 500], scope
            seen[scope] = f"{n - len(refused)}/{n} passed at {limit}"
            assert n - len(refused) == limit, (scope, seen)
    finally:
        forget_counts()
    print(f"\nthrottles across two instances: {seen}")
