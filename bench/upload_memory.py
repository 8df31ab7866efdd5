"""
Upload memory benchmark (issue 15, finding 4; part of ``make bench``): peak growth of one
gunicorn worker while it serves 4 parallel uploads of the worst images the API accepts.

Production settings (``DJANGO_DEBUG=0``) on a throw-away SQLite database and the local cache,
one gthread worker with 4 threads — the worst case for one process: every upload lands in the
same worker at once (sync workers would split them). For each kind of worst-case image (the
largest pixel count allowed, ``UPLOAD_MAX_PIXELS``, under ``UPLOAD_MAX_BYTES``): a noisy JPEG,
an RGBA WebP and an RGBA PNG, 4 uploads are fired together, ``ROUNDS`` times. Growth is the
worker's ``VmHWM`` (peak RSS) minus its RSS after a warm-up upload. Budget: ≤ 150 MB.

    .venv/bin/python bench/upload_memory.py            # prints the table, exits 1 over budget
    BENCH_APP_DIR=/path/to/other/checkout ...           # measure another checkout (before/after)
"""

from __future__ import annotations

import io
import os
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import requests

BASE_DIR = Path(os.environ.get("BENCH_APP_DIR") or Path(__file__).resolve().parent.parent)
PARALLEL = 4
ROUNDS = int(os.environ.get("BENCH_UPLOAD_ROUNDS", "2"))
BUDGET_MB = 150
MAX_BYTES = 5 * 1024 * 1024


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def memory_kb(pid: int, key: str) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(key + ":"):
            return int(line.split()[1])
    return 0


def worker_of(master: int) -> int:
    for _ in range(100):
        for stat in Path("/proc").glob("[0-9]*/stat"):
            try:
                fields = stat.read_text().rsplit(")", 1)[1].split()
            except OSError:
                continue
            if int(fields[1]) == master:
                return int(stat.parent.name)
        time.sleep(0.1)
    raise SystemExit("no gunicorn worker")


def worst_images(caps: dict[str, int]) -> dict[str, bytes]:
    """The costliest images to decode that the API accepts: every pixel allowed, under the byte cap."""
    from PIL import Image

    def noisy(width: int, height: int) -> Image.Image:
        # Noise with a coarse structure: large to decode, small enough to pass the byte cap.
        small = Image.effect_noise((max(1, width // 8), max(1, height // 8)), 64).convert("L")
        bands = [
            small,
            small.transpose(Image.Transpose.FLIP_LEFT_RIGHT),
            small.transpose(Image.Transpose.FLIP_TOP_BOTTOM),
            small,
        ]
        return Image.merge("RGBA", bands).resize((width, height), Image.Resampling.NEAREST)

    def square(pixels: int) -> tuple[int, int]:
        side = int(pixels**0.5)
        return side, pixels // side

    images = {}
    for name, fmt, mode, kwargs in (
        ("JPEG RGB", "JPEG", "RGB", {"quality": 60}),
        ("WebP RGBA", "WEBP", "RGBA", {"quality": 30, "method": 0}),
        ("PNG RGBA", "PNG", "RGBA", {"compress_level": 9}),
    ):
        width, height = square(caps[fmt])
        buffer = io.BytesIO()
        noisy(width, height).convert(mode).save(buffer, fmt, **kwargs)
        data = buffer.getvalue()
        if len(data) > MAX_BYTES:
            print(f"  {name}: {len(data) / 1e6:.1f} MB is over the byte cap, skipped")
            continue
        images[f"{name} {width}×{height}"] = data
    return images


def main() -> int:
    tmp = Path(tempfile.mkdtemp(prefix="sq-upload-bench-"))
    env = {
        **{k: v for k, v in os.environ.items() if not k.startswith(("DJANGO_", "REDIS_", "DATABASE_", "UPLOAD_"))},
        "DJANGO_SETTINGS_MODULE": "shanqian.settings",
        "DJANGO_DEBUG": "0",
        "SECRET_KEY": "bench-secret-key-" + "0123456789abcdef" * 3,
        "FIELD_ENCRYPTION_KEYS": "bench1:YmVuY2gtdXBsb2FkLWZpZWxkLWtleS0wMTIzNDU2Nzg=",
        "FIELD_BLIND_INDEX_KEY": "YmVuY2gtdXBsb2FkLWJsaW5kLWluZGV4LWtleS0wMTIzNDU=",
        # Production's signing checks (signing.E001/E003); nothing is signed here.
        "SIGNING_TSA_URL": "http://127.0.0.1:9/tsa",
        "SIGNING_KEY_PASSPHRASE": "upload-bench-passphrase-0123456789",
        "DATABASE_URL": f"sqlite:///{tmp / 'db.sqlite3'}",
        "ALLOWED_HOSTS": "127.0.0.1,localhost",
        "SECURE_SSL_REDIRECT": "0",
        "SMS_BACKEND": "file",
        "MEDIA_ROOT": str(tmp / "media"),
        "STATICFILES_MANIFEST": "0",
        "THROTTLE_UPLOAD": "100000/hour",
        # Memory, not latency, is measured: on a loaded machine the 4th queued decode may wait longer
        # than production's 10 s before its turn (a 503 there), which would hide its growth here.
        "UPLOAD_DECODE_WAIT": "120",
        "LOG_LEVEL": "WARNING",
        "PYTHONPATH": str(BASE_DIR),
    }
    manage = [sys.executable, str(BASE_DIR / "manage.py")]
    subprocess.run([*manage, "migrate", "--noinput", "-v", "0"], env=env, cwd=BASE_DIR, check=True)
    token = (
        subprocess.run(
            [
                *manage,
                "shell",
                "-c",
                "from shanqian.models import Platform; from employees.models import WechatUser; "
                "from employees.tokens import issue_token; "
                "from employees.consent import consent_give, policies_current, policy_ensure_defaults; "
                "p = Platform.objects.create(code='bench', name='bench', wechat_appid='wx', wechat_secret='s'); "
                "u = WechatUser.objects.create(platform=p, openid='bench-upload'); "
                # POST /api/image needs the current sensitive_pi consent (SPEC §13).
                "policy_ensure_defaults(platform=p); "
                "[consent_give(user=u, scope=s, version=c.version) "
                "for s, c in policies_current(platform_id=p.pk).items()]; "
                "print(issue_token(user=u))",
            ],
            env=env,
            cwd=BASE_DIR,
            check=True,
            capture_output=True,
            text=True,
        )
        .stdout.strip()
        .splitlines()[-1]
    )
    limits = subprocess.run(
        [
            *manage,
            "shell",
            "-c",
            "from django.conf import settings as s; "
            "print(s.UPLOAD_MAX_PIXELS, getattr(s, 'UPLOAD_MAX_PIXELS_PNG', 0), "
            "getattr(s, 'UPLOAD_MAX_PIXELS_WEBP', 0))",
        ],
        env=env,
        cwd=BASE_DIR,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.split()
    caps = [int(v) for v in limits[-3:]]
    caps = {"JPEG": caps[0], "PNG": caps[1] or caps[0], "WEBP": caps[2] or caps[0]}
    port = free_port()
    log = (tmp / "gunicorn.log").open("w")
    master = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "-c", "python:shanqian.gunicorn_conf", "shanqian.wsgi:application",
         "-b", f"127.0.0.1:{port}", "-w", "1", "-k", "gthread", "--threads", str(PARALLEL), "--timeout", "120"]
        if (BASE_DIR / "shanqian" / "gunicorn_conf.py").exists()
        else [sys.executable, "-m", "gunicorn", "shanqian.wsgi:application", "-b", f"127.0.0.1:{port}",
              "-w", "1", "-k", "gthread", "--threads", str(PARALLEL), "--timeout", "120"],
        env=env, cwd=BASE_DIR, stdout=log, stderr=subprocess.STDOUT,
    )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    headers = {"X-platform-code": "bench", "X-auth-token": token}
    try:
        for _ in range(200):
            try:
                requests.get(f"{base}/healthz", timeout=2)
                break
            except requests.RequestException:
                time.sleep(0.1)
        worker = worker_of(master.pid)
        images = worst_images(caps)
        warm = io.BytesIO()
        from PIL import Image

        Image.new("RGB", (64, 64), (200, 30, 30)).save(warm, "JPEG")
        requests.post(f"{base}/api/image", files={"file": ("w.jpg", warm.getvalue())}, headers=headers, timeout=30)
        idle_kb = memory_kb(worker, "VmRSS")
        print(f"upload memory: largest allowed images {caps}, {PARALLEL} parallel × {ROUNDS}")
        rows, statuses = [], {}
        for name, data in images.items():
            for _ in range(ROUNDS):
                barrier = threading.Barrier(PARALLEL)
                answers = []

                def upload(data=data, barrier=barrier, answers=answers):
                    barrier.wait()
                    started = time.monotonic()
                    response = requests.post(
                        f"{base}/api/image", files={"file": ("x", data)}, headers=headers, timeout=120
                    )
                    answers.append((response.status_code, time.monotonic() - started))

                threads = [threading.Thread(target=upload) for _ in range(PARALLEL)]
                for thread in threads:
                    thread.start()
                for thread in threads:
                    thread.join()
                for status, _ in answers:
                    statuses[status] = statuses.get(status, 0) + 1
            peak_kb = memory_kb(worker, "VmHWM")
            rows.append((name, len(data), (peak_kb - idle_kb) / 1024, max(t for _, t in answers)))
        print(f"  worker idle RSS {idle_kb / 1024:.0f} MB; statuses {statuses}")
        print("  | image | file MB | peak growth so far MB | slowest of 4 s |")
        for name, size, growth, slowest in rows:
            print(f"  | {name} | {size / 1e6:.2f} | {growth:.0f} | {slowest:.2f} |")
        growth = max(row[2] for row in rows)
        verdict = "within" if growth <= BUDGET_MB else "OVER"
        print(f"upload memory: peak worker growth {growth:.0f} MB with {PARALLEL} parallel worst-case uploads "
              f"({verdict} the {BUDGET_MB} MB budget)")  # fmt: skip
        return 0 if growth <= BUDGET_MB and set(statuses) == {200} else 1
    finally:
        master.terminate()
        master.wait(timeout=20)


if __name__ == "__main__":
    raise SystemExit(main())
