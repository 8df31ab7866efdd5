"""
``X-auth-token`` authentication (SPEC §3), DRF's ``DEFAULT_AUTHENTICATION_CLASSES``.

The raw token is never stored: ``employees.tokens`` keeps its SHA-256 digest.
A token authenticates only on the platform it was issued for. A request
without the header is anonymous (views that need a user answer 401/40100);
a header that does not resolve is refused outright with 401/40100.

``TokenAuthenticationScheme`` documents the header in the OpenAPI schema
(drf-spectacular finds it because this module is imported with the class).
"""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from rest_framework.authentication import BaseAuthentication
from rest_framework.exceptions import AuthenticationFailed

from .tokens import resolve_token

HEADER = "HTTP_X_AUTH_TOKEN"


class TokenAuthentication(BaseAuthentication):
    keyword = "X-auth-token"

    def authenticate(self, request):
        raw = request.META.get(HEADER, "").strip()
        if not raw:
            return None
        token = resolve_token(raw, platform=getattr(request, "platform", None))
        if token is None:
            raise AuthenticationFailed()
        return token.user, token

    def authenticate_header(self, request):
        # A value here makes DRF answer 401 rather than 403 for missing credentials.
        return self.keyword


class TokenAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = TokenAuthentication
    name = "sessionToken"

    def get_security_definition(self, auto_schema):
        return {
            "type": "apiKey",
            "in": "header",
            "name": "X-auth-token",
            "description": "登录接口返回的 session_token；缺少、无效或过期为 40100",
        }
