"""
The framework ceiling for benchmarks: a bare JsonResponse, enabled only by BENCH_CEILING_VIEW.

Routed twice (``shanqian.urls``): ``/bench/ceiling`` (Django's middleware stack only — the
ceiling the API is measured against) and ``/api/bench/ceiling`` (plus the /api client middleware).
"""

from django.http import JsonResponse


def ceiling(request):
    return JsonResponse({"status": 0, "msg": "", "data": {"ok": True}, "error_code": 0})
