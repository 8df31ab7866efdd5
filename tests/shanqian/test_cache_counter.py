"""
``incr_window``, the atomic counter every rate limit is built on (issue 15, finding 2; SPEC §8):
on the embedded cache and on a real Redis (``REDIS_TEST_URL``), N parallel increments give
exactly 1..N, each with the seconds left in the window, and the window expires.
"""

import time

import pytest
from django.test import override_settings

from shanqian.cache import breaker
from tests.support.parallel import fire
from tests.support.servers import redis_url_or_skip


def _parallel_counts(cache, key: str, n: int = 60) -> list[int]:
    hits = fire(n, lambda i: cache.incr_window(key, 5))
    assert {left for _, left in hits} <= {1, 2, 3, 4, 5}
    return sorted(count for count, _ in hits)


def test_the_local_cache_counts_atomically_across_threads():
    from django.core.cache import cache

    assert _parallel_counts(cache, "t:local") == list(range(1, 61))


def test_redis_counts_atomically_and_the_window_expires():
    url = redis_url_or_skip(db_number=12)
    breaker.reset()
    with override_settings(CACHES={"default": {"BACKEND": "shanqian.cache.RedisCache", "LOCATION": url}}):
        from django.core.cache import cache

        cache.delete("t:redis")
        cache.delete("t:expiring")
        assert _parallel_counts(cache, "t:redis") == list(range(1, 61))
        assert cache.incr_window("t:expiring", 1) == (1, 1)
        time.sleep(1.2)
        assert cache.incr_window("t:expiring", 1) == (1, 1)
        cache.delete("t:redis")


@pytest.fixture(autouse=True)
def _clean_breaker():
    breaker.reset()
    yield
    breaker.reset()
