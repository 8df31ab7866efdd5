"""
Per-client throttles (SPEC §4.12). Counters live in the default cache, which is
Redis in production, so the limits hold across app instances. Client identity
follows ``NUM_PROXIES`` = ``TRUSTED_PROXY_COUNT``.
"""

from rest_framework.throttling import SimpleRateThrottle


class _IpThrottle(SimpleRateThrottle):
    def get_cache_key(self, request, view):
        return self.cache_format % {"scope": self.scope, "ident": self.get_ident(request)}


class LoginThrottle(_IpThrottle):
    scope = "login"


class CaptchaThrottle(_IpThrottle):
    scope = "captcha"


class UploadThrottle(SimpleRateThrottle):
    scope = "upload"

    def get_cache_key(self, request, view):
        ident = request.user.pk if request.user else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}


class SignThrottle(SimpleRateThrottle):
    """``POST /api/sign`` per user: sealing a PDF is the most expensive thing a client can ask for."""

    scope = "sign"

    def get_cache_key(self, request, view):
        ident = request.user.pk if request.user else self.get_ident(request)
        return self.cache_format % {"scope": self.scope, "ident": ident}
