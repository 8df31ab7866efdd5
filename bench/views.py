"""
The framework ceiling for benchmarks: a bare JsonResponse in the API's envelope, routed by
``bench.urls`` (so it exists only under ``bench.settings``).
"""

from django.http import JsonResponse


def ceiling(request):
    return JsonResponse({"status": 0, "msg": "", "data": {"ok": True}, "error_code": 0})
