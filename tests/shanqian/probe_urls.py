"""A URLconf of probe views that raise every kind of error the API machinery must shape."""

from django.core.exceptions import PermissionDenied
from django.core.exceptions import ValidationError as DjangoValidationError
from django.http import Http404
from django.urls import include, path, re_path
from rest_framework import serializers
from rest_framework.decorators import api_view, authentication_classes, permission_classes, throttle_classes
from rest_framework.permissions import AllowAny
from rest_framework.response import Response
from rest_framework.throttling import AnonRateThrottle

from contracts.models import Company
from shanqian import errors
from shanqian.pagination import EnvelopePagination
from shanqian.routing import api_path
from shanqian.serializers import ApiSerializer, FormArrayListSerializer, TextField
from shanqian.views import api_not_found


class ItemSerializer(ApiSerializer):
    school = TextField(max_length=8)
    year = serializers.IntegerField()

    class Meta:
        list_serializer_class = FormArrayListSerializer


class ProbeSerializer(ApiSerializer):
    name = TextField(max_length=16)
    nickname = TextField(max_length=16, required=False)
    items = ItemSerializer(many=True, allow_empty=False)


@api_view(["GET", "POST"])
@authentication_classes([])
@permission_classes([AllowAny])
def echo(request):
    if request.method == "GET":
        return Response({"ok": True, "platform": request.platform.code})
    serializer = ProbeSerializer(data=request.data)
    serializer.is_valid(raise_exception=True)
    return Response(serializer.validated_data)


@api_view(["GET"])
def whoami(request):
    return Response({"user_id": request.user.pk})


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def boom(request, kind):
    if kind == "unhandled":
        raise RuntimeError("secret internal detail /srv/app/settings.py password=hunter2")
    if kind == "http404":
        raise Http404("nope")
    if kind == "denied":
        raise PermissionDenied
    if kind == "django-validation":
        raise DjangoValidationError({"phone": ["手机号格式不正确"]})
    if kind == "conflict":
        raise errors.Conflict("简历已锁定")
    if kind == "rate":
        raise errors.RateLimited(retry_after=42)
    raise errors.UpstreamBusy()


class Throttle(AnonRateThrottle):
    rate = "2/min"


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
@throttle_classes([Throttle])
def throttled(request):
    return Response({})


@api_view(["GET"])
@authentication_classes([])
@permission_classes([AllowAny])
def paged(request):
    paginator = EnvelopePagination()
    page = paginator.paginate_queryset(Company.objects.order_by("id").values_list("company_name", flat=True), request)
    return paginator.get_paginated_response(list(page))


api_patterns = [
    api_path("echo", echo, name="echo"),
    api_path("whoami", whoami, name="whoami"),
    api_path("boom/(?P<kind>[a-z0-9-]+)", boom, name="boom"),
    api_path("throttled", throttled, name="throttled"),
    api_path("paged", paged, name="paged"),
    re_path(r"", api_not_found),
]

urlpatterns = [path("api/", include(api_patterns))]
