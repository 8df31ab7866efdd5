"""
Firing N requests at the same instant from threads, for tests of limits under parallel load.

``fire(n, call)`` starts ``n`` threads that wait on one barrier, then each runs ``call(i)``;
it returns the results in order (an exception raised by a call is returned, not swallowed).
"""

import threading
import time
from concurrent.futures import ThreadPoolExecutor

import pytest
import requests
from django.conf import settings


def fire(n: int, call, *, timeout: float = 60) -> list:
    barrier = threading.Barrier(n)

    def run(i):
        barrier.wait(timeout=timeout)
        try:
            return call(i)
        except Exception as exc:  # reported to the test, which asserts on it
            return exc

    with ThreadPoolExecutor(max_workers=n) as pool:
        return list(pool.map(run, range(n), timeout=timeout))


def row_locking_database_or_skip() -> None:
    """Races decided by the database need one that runs writers at once: PostgreSQL or MariaDB."""
    if settings.DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
        pytest.skip("parallel writers need PostgreSQL or MariaDB (SQLite serialises them): run with DATABASE_URL")


def post_retrying(url: str, **kwargs):
    """
    ``requests.post``, sent again when the connection is refused or reset before an answer:
    a test server's listen backlog drops some of 60 simultaneous connects, and a request that
    never reached the application is no guess.
    """
    for attempt in range(20):
        try:
            return requests.post(url, timeout=kwargs.pop("timeout", 60), **kwargs)
        except requests.ConnectionError:
            if attempt == 19:
                raise
            time.sleep(0.05 * (attempt + 1))
    raise AssertionError("unreachable")
