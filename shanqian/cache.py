"""
The Redis cache backend: Django's own, minus one cost on the hot path.

Django's ``RedisCacheClient.get_client`` builds a new ``redis.Redis`` object on every
cache call, and each build copies redis-py's ~170 response callbacks. With three or four
cache reads per API request (platform, token, reference data) that was measurable in the
benchmarks (docs/benchmarks.md). A ``redis.Redis`` over a connection pool is thread-safe
and the pool reconnects after a fork, so one client per pool is kept and reused.
"""

from django.core.cache.backends.redis import RedisCache as DjangoRedisCache
from django.core.cache.backends.redis import RedisCacheClient


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


class RedisCache(DjangoRedisCache):
    def __init__(self, server, params):
        super().__init__(server, params)
        self._class = ReusingRedisCacheClient
