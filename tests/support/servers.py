"""
Helpers for tests that start real servers: gunicorn app instances, moto's S3 server and a
fake WeChat code2Session endpoint, plus the PostgreSQL/Redis checks that skip with a reason.
"""

import contextlib
import json
import os
import socket
import subprocess
import sys
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
import requests
from django.conf import settings

BASE_DIR = Path(settings.BASE_DIR)
START_TIMEOUT = 60


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def postgres_or_skip() -> dict:
    db = settings.DATABASES["default"]
    if db["ENGINE"] != "django.db.backends.postgresql":
        pytest.skip("needs PostgreSQL: run the suite with DATABASE_URL=postgres://… to start two app instances")
    return db


def redis_url_or_skip(*, db_number: int) -> str:
    url = os.environ.get("REDIS_TEST_URL", "")
    if not url:
        pytest.skip("needs Redis: set REDIS_TEST_URL=redis://host:port/N (.ci/run does when Redis answers)")
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}/{db_number}"


def admin_connection(db):
    import psycopg

    return psycopg.connect(
        host=db["HOST"] or "127.0.0.1",
        port=db["PORT"] or 5432,
        user=db["USER"],
        password=db["PASSWORD"] or None,
        dbname="postgres",
        autocommit=True,
    )


def _wait(url: str, process: subprocess.Popen, log: Path, what: str) -> None:
    deadline = time.monotonic() + START_TIMEOUT
    while True:
        try:
            requests.get(url, timeout=3)
            return
        except requests.RequestException:
            pass
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"{what} did not start:\n{log.read_text()[-3000:]}")
        time.sleep(0.2)


def start_gunicorn(env: dict, log: Path, workers: int = 1, *, config: bool = False) -> tuple[str, subprocess.Popen]:
    """An app instance on a free port; ``config=True`` runs it with the project's ``shanqian.gunicorn_conf``."""
    port = free_port()
    conf = ["-c", "python:shanqian.gunicorn_conf"] if config else []
    process = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "gunicorn",
            *conf,
            "shanqian.wsgi:application",
            "-b",
            f"127.0.0.1:{port}",
            "-w",
            str(workers),
        ],
        env=env,
        cwd=BASE_DIR,
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    _wait(f"{base}/healthz", process, log, f"app instance at {base}")
    return base, process


def start_moto(tmp: Path) -> tuple[str, subprocess.Popen]:
    pytest.importorskip("moto.server", reason="moto[server] is not installed (pip install -r requirements-dev.txt)")
    port = free_port()
    log = tmp / "moto.log"
    process = subprocess.Popen(
        [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)],
        stdout=log.open("w"),
        stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    _wait(url, process, log, "moto S3 server")
    return url, process


@contextlib.contextmanager
def moto_bucket(tmp: Path, bucket: str):
    """A moto S3 server with one empty bucket: yields (the ``S3Storage`` options for it, a boto3 client)."""
    import boto3

    url, process = start_moto(tmp)
    try:
        credentials = {"aws_access_key_id": "testing", "aws_secret_access_key": "testing", "region_name": "us-east-1"}
        client = boto3.client("s3", endpoint_url=url, **credentials)
        client.create_bucket(Bucket=bucket)
        options = {
            "bucket_name": bucket,
            "endpoint_url": url,
            "access_key": "testing",
            "secret_key": "testing",
            "region_name": "us-east-1",
            "default_acl": None,
            "querystring_auth": True,
            "file_overwrite": False,
        }
        yield options, client
    finally:
        stop([process])


def stop(processes) -> None:
    for process in processes:
        process.terminate()
    for process in processes:
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait(timeout=5)


class _WechatHandler(BaseHTTPRequestHandler):
    """code2Session: openid ``o-<js_code>`` for any code."""

    def do_GET(self):
        query = parse_qs(urlsplit(self.path).query)
        code = query.get("js_code", [""])[0]
        body = json.dumps({"openid": f"o-{code}", "session_key": "c2Vzc2lvbi1rZXk="}).encode()
        self.send_response(200)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, *args):
        pass


class FakeWechat:
    def __init__(self):
        self.server = ThreadingHTTPServer(("127.0.0.1", 0), _WechatHandler)
        self.url = f"http://127.0.0.1:{self.server.server_address[1]}"
        threading.Thread(target=self.server.serve_forever, daemon=True).start()

    def shutdown(self):
        self.server.shutdown()
        self.server.server_close()


def fake_wechat_server() -> FakeWechat:
    return FakeWechat()
