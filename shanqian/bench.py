"""The framework ceiling for benchmarks: a bare JsonResponse, enabled only by BENCH_CEILING_VIEW."""

from django.http import JsonResponse


def ceiling(request):
    return JsonResponse({"status": 0, "msg": "", "data": {"ok": True}, "error_code": 0})
