"""
Per-client throttles (SPEC §4.12, §8; issue 15, finding 2).

DRF's ``SimpleRateThrottle`` reads a list of timestamps from the cache, decides, and writes
the list back: two requests that read at the same moment both pass, so 60 parallel logins
against 30/min let 56 through. Ours count each request with one atomic operation in the
shared cache (``cache.incr_window``: ``SET NX EX`` + ``INCR`` in one MULTI on Redis, a lock
on the embedded cache), and decide on the count that operation returned — N parallel requests
against a limit of L pass at most L, on one instance and across all instances sharing the
Redis. The window is fixed: it starts with its first request and lasts the rate's period
(``30/min``: 30 requests in the 60 s after the first one); a refusal's ``retry_after`` is the
time until it ends. Refused requests are counted too, so hammering does not open a window.

When Redis cannot be reached the counter raises ``CacheUnavailable`` (503): **no limit fails
open**. Rates come from ``DEFAULT_THROTTLE_RATES`` (``THROTTLE_*`` settings); client identity
follows ``NUM_PROXIES`` = ``TRUSTED_PROXY_COUNT``.
"""

from django.core.cache import cache
from rest_framework.throttling import SimpleRateThrottle


class WindowThrottle(SimpleRateThrottle):
    """A fixed-window limit counted atomically in the shared cache; subclasses name ``scope`` and the client."""

    cache_format = "throttle:%(scope)s:%(ident)s"

    def allow_request(self, request, view):
        if self.rate is None:
            return True
        key = self.get_cache_key(request, view)
        if key is None:
            return True
        count, self._wait = cache.incr_window(key, self.duration)
        return count <= self.num_requests

    def wait(self):
        return self._wait


class _IpThrottle(WindowThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class _UserThrottle(WindowThrottle):
    def get_cache_key(self, request, view):
        ident = f"u{request.user.pk}" if request.user else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class LoginThrottle(_IpThrottle):
    scope = "login"


class CaptchaThrottle(_IpThrottle):
    scope = "captcha"


class VerifyCodeThrottle(_IpThrottle):
    """``POST /api/verifycode`` per client IP, in front of the captcha check and the SMS limits."""

    scope = "verifycode"


class UploadThrottle(_UserThrottle):
    scope = "upload"


class SignThrottle(_UserThrottle):
    """``POST /api/sign`` per user: sealing a PDF is the most expensive thing a client can ask for."""

    scope = "sign"
