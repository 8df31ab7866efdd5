"""
The Redis cache backend: Django's own, minus one cost on the hot path, plus an honest outage.

Reuse: Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object on every
cache call, and each build copies redis-py's ~170 response callbacks. With three or four
cache reads per API request (platform, token, reference data) that was measurable in the
benchmarks (docs/benchmarks.md). A ``redis.Redis`` over a connection pool is thread-safe
and the pool reconnects after a fork, so one client per pool is kept and reused.

Outage (issue 15, finding 6): every cache call that cannot reach Redis raises
``CacheUnavailable`` — a domain error, 503/50300 "服务繁忙，请稍后重试" in the envelope — instead
of redis-py's ``ConnectionError``/``TimeoutError`` (a 500). Socket connect and read timeouts
come from ``REDIS_SOCKET_TIMEOUT`` (well under a second, settings), and after a failure the
process stops calling Redis for ``REDIS_RETRY_AFTER`` seconds (a small circuit breaker), so a
frozen Redis costs one timeout per process per interval, not one per cache call. Callers that
can answer without the cache (reference reads: platform, dictionaries, tokens) catch
``CacheUnavailable`` and read the database; callers that need it (limits, locks, the WeChat
access token) let it through, so **no limit fails open**.

``incr_window(key, ttl) -> (count, seconds left)`` is the one atomic counter primitive for rate
limits: on the first hit the counter is created with its expiry, then INCR, in one round trip (a
fixed window of ``ttl`` seconds); see ``shanqian.throttling``.
"""

import functools
import logging
import math
import pickle
import threading
import time

from django.conf import settings
from django.core.cache.backends.locmem import LocMemCache as DjangoLocMemCache
from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from .errors import UpstreamBusy

BUSY_MESSAGE = "服务繁忙，请稍后重试"
logger = logging.getLogger("shanqian.cache")


class CacheUnavailable(UpstreamBusy):
    """The shared cache (Redis) cannot be reached: 503/50300."""

    def __init__(self, msg: str | None = None):
        super().__init__(msg or BUSY_MESSAGE)


class _Breaker:
    """Per-process: once Redis failed, fail fast until ``REDIS_RETRY_AFTER`` seconds have passed."""

    def __init__(self):
        self.open_until = 0.0
        self._lock = threading.Lock()

    def check(self):
        if time.monotonic() < self.open_until:
            raise CacheUnavailable()

    def trip(self, exc: BaseException):
        with self._lock:
            was_closed = time.monotonic() >= self.open_until
            self.open_until = time.monotonic() + settings.REDIS_RETRY_AFTER
        if was_closed:
            # One line per trip, not per refused call: the cause, and how long calls now fail fast.
            logger.warning(
                "Redis unavailable (%s: %s): cache calls fail fast for %s s",
                type(exc).__name__,
                str(exc)[:200],
                settings.REDIS_RETRY_AFTER,
            )

    def reset(self):
        self.open_until = 0.0


breaker = _Breaker()


def _guarded(method):
    @functools.wraps(method)
    def call(*args, **kwargs):
        breaker.check()
        try:
            return method(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError, OSError) as exc:
            breaker.trip(exc)
            raise CacheUnavailable() from None

    return call


class ReusingRedisCacheClient(RedisCacheClient):
    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._clients = {}

    def get_client(self, key=None, *, write=False):
        pool = self._get_connection_pool(write)
        client = self._clients.get(id(pool))
        if client is None:
            client = self._clients[id(pool)] = self._client(connection_pool=pool)
        return client

    def incr_window(self, key, ttl: int) -> tuple[int, int]:
        client = self.get_client(key, write=True)
        # One MULTI/EXEC: create the counter with its expiry if it is new, then count. Any Redis
        # version (EXPIRE … NX needs 7), and no window is ever left without an expiry.
        pipe = client.pipeline(transaction=True)
        pipe.set(key, 0, ex=ttl, nx=True)
        pipe.incr(key)
        pipe.ttl(key)
        _, count, left = pipe.execute()
        return int(count), max(1, int(left))

    def ping(self) -> bool:
        return bool(self.get_client(write=True).ping())


_CALLS = ("add", "get", "set", "touch", "delete", "get_many", "has_key", "incr", "set_many", "delete_many", "clear")
for _name in (*_CALLS, "incr_window", "ping"):
    setattr(ReusingRedisCacheClient, _name, _guarded(getattr(ReusingRedisCacheClient, _name)))


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient

    def incr_window(self, key, ttl: int, version=None) -> tuple[int, int]:
        """One hit in ``key``'s window of ``ttl`` seconds (started by its first hit): (hits, seconds left); atomic."""
        return self._cache.incr_window(self.make_and_validate_key(key, version=version), ttl)

    def ping(self) -> bool:
        return self._cache.ping()


class LocMemCache(DjangoLocMemCache):
    """The embedded default, with the same counter primitive (atomic within the one process it serves)."""

    def incr_window(self, key, ttl: int, version=None) -> tuple[int, int]:
        key = self.make_and_validate_key(key, version=version)
        with self._lock:
            if self._has_expired(key):
                self._delete(key)
            if key in self._cache:
                count = pickle.loads(self._cache[key]) + 1  # noqa: S301 (our own counter, never client data)
                self._cache[key] = pickle.dumps(count, self.pickle_protocol)
                self._cache.move_to_end(key, last=False)
            else:
                count = 1
                self._set(key, pickle.dumps(count, self.pickle_protocol), ttl)
            left = self._expire_info[key] - time.time()
        return count, max(1, math.ceil(left))

    def ping(self) -> bool:
        return True
