"""
``X-auth-token`` authentication (SPEC §3).

The raw token is never stored: ``employees.tokens`` keeps its SHA-256 digest.
A token authenticates only on the platform it was issued for. A request
without the header is anonymous (views that need a user answer 401/40100);
a header that does not resolve is refused outright with 401/40100.
"""

from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

HEADER = "HTTP_X_AUTH_TOKEN"


class TokenAuthentication(BaseAuthentication):
    keyword = "X-auth-token"

    def authenticate(self, request):
        raw = request.META.get(HEADER, "").strip()
        if not raw:
            return None
        from employees.tokens import resolve_token

        token = resolve_token(raw, platform=getattr(request, "platform", None))
        if token is None:
            raise AuthenticationFailed()
        return token.user, token

    def authenticate_header(self, request):
        # A value here makes DRF answer 401 rather than 403 for missing credentials.
        return self.keyword
