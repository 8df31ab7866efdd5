"""
Profile one endpoint in-process (the same middleware and views as gunicorn runs): cProfile over N requests.

    DATABASE_URL=postgres://…/shanqian_bench REDIS_URL=redis://127.0.0.1:6379/13 \\
        python bench/profile_endpoint.py /api/companies 2000

Needs a database loaded by ``manage.py bench_load`` (tokens ``bench-r-<i>``). Prints the top functions
by cumulative and by own time, and the mean time per request.
"""

import cProfile
import os
import pstats
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench.settings")
os.environ.setdefault("DJANGO_DEBUG", "0")
os.environ.setdefault("SECRET_KEY", "bench-secret-key-" + "0123456789abcdef" * 3)
os.environ.setdefault("SECURE_SSL_REDIRECT", "0")
os.environ.setdefault("ALLOWED_HOSTS", "testserver")
from bench.keys import FIELD_KEYS

for _name, _value in FIELD_KEYS.items():
    os.environ.setdefault(_name, _value)

import django  # noqa: E402  (after the environment above)

django.setup()
from django.test import Client  # noqa: E402


def main(path: str, count: int, sort: str = "cumulative") -> None:
    client = Client()
    headers = {"HTTP_X_PLATFORM_CODE": "demo"}
    for i in range(50):  # warm caches and connections
        client.get(path, HTTP_X_AUTH_TOKEN=f"bench-r-{i % 100}", **headers)
    profile = cProfile.Profile()
    started = time.perf_counter()
    profile.enable()
    for i in range(count):
        response = client.get(path, HTTP_X_AUTH_TOKEN=f"bench-r-{i % 100}", **headers)
    profile.disable()
    elapsed = time.perf_counter() - started
    print(f"{path}: {response.status_code}, {elapsed / count * 1000:.3f} ms/request (profiled)")
    stats = pstats.Stats(profile)
    stats.sort_stats(sort).print_stats(35)
    stats.sort_stats("tottime").print_stats(25)


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 1000)
