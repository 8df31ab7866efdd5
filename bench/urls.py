"""
The product's URLs plus the framework ceiling (``bench.views.ceiling``), routed twice:
``/bench/ceiling`` (Django's middleware stack only — the ceiling the API is measured against)
and ``/api/bench/ceiling`` (plus the /api client middleware: header parsing, the platform cache).
Ours come first, ahead of the API's catch-all 404.
"""

from django.urls import path, re_path

from shanqian.urls import handler404, handler500
from shanqian.urls import urlpatterns as product_urlpatterns

from .views import ceiling

__all__ = ["handler404", "handler500", "urlpatterns"]

urlpatterns = [
    path("bench/ceiling", ceiling, name="bench-ceiling"),
    re_path(r"^api/bench/ceiling/?$", ceiling, name="bench-ceiling-api"),
    *product_urlpatterns,
]
