"""Project-level views: the /api catch-all 404, health check and the landing redirect."""

from django.db import connection
from django.http import HttpResponseRedirect, JsonResponse
from django.views.decorators.csrf import csrf_exempt

from .errors import Code
from .exceptions import error_response


@csrf_exempt
def api_not_found(request, *args, **kwargs):
    return error_response(Code.NOT_FOUND, "接口不存在")


def healthz(request):
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
    return JsonResponse({"ok": True})


def home(request):
    return HttpResponseRedirect("/api/docs")


def server_error(request, *args, **kwargs):
    if request.path.startswith("/api"):
        return error_response(Code.INTERNAL)
    from django.views.defaults import server_error as default

    return default(request, *args, **kwargs)


def page_not_found(request, exception=None, *args, **kwargs):
    if request.path.startswith("/api"):
        return error_response(Code.NOT_FOUND, "接口不存在")
    from django.views.defaults import page_not_found as default

    return default(request, exception, *args, **kwargs)
