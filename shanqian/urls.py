"""
URL configuration.

``/api`` holds the mini-program API (each app contributes its ``urls.py``),
the OpenAPI schema and Swagger UI; ``/admin/`` is 秒云达 1.0 后台; ``/files/``
serves private media through signed, expiring links; ``/pki/`` publishes the
CA certificates and CRLs.
"""

from django.contrib import admin
from django.urls import include, path, re_path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from . import metrics, views
from .routing import api_path
from .storage import private_file

api_patterns = [
    api_path("schema", SpectacularAPIView.as_view(), name="schema"),
    # The split view serves Swagger UI's start-up script as a file: the CSP allows no inline script.
    api_path("docs", SpectacularSwaggerSplitView.as_view(url_name="schema"), name="docs"),
    path("", include("dictionaries.urls")),
    path("", include("contracts.urls")),
    path("", include("employees.urls")),
    path("", include("signing.urls")),
]
api_patterns.append(re_path(r"", views.api_not_found))

urlpatterns = [
    path("", views.home),
    path("healthz", views.healthz),
    path("readyz", views.readyz),
    path("metrics", metrics.metrics, name="prometheus-django-metrics"),
    path("admin/", admin.site.urls),
    # The PKI's public certificates and CRLs (SPEC §10); every issued certificate names these URLs.
    path("pki/", include("signing.pki.urls")),
    path("api/", include(api_patterns)),
    re_path(r"^api/?$", views.api_not_found),
    re_path(r"^files/(?P<token>[A-Za-z0-9_:.\-]+)/?$", private_file, name="private-file"),
    path("policies/", include("employees.policy_urls")),
]

handler404 = "shanqian.views.page_not_found"
handler500 = "shanqian.views.server_error"
