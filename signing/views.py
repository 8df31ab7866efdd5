"""
Mini-program API views of the signing app. Views are thin: parse → service/selector → serialize.

* ``GET /api/handlers`` → ``[{"id", "name"}]``: active staff in the 人事专员 group (SPEC §4.8).
* ``GET /api/em_status`` → where the user's latest application stands (seed §3.1.2).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.roles import handlers_queryset

from . import selectors
from .serializers import EmStatusSerializer


class HandlerSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField(source="display_name")


class HandlerListView(APIView):
    @extend_schema(
        operation_id="handlers_list", summary="获取所有处理人（人事专员）", responses=HandlerSerializer(many=True)
    )
    def get(self, request):
        handlers = handlers_queryset().only("id", "name", "first_name", "last_name", "username").order_by("id")
        return Response(HandlerSerializer(handlers, many=True).data)


# --- em_status --------------------------------------------------------------------------------------


class EmStatusView(APIView):
    """``GET /api/em_status``: where the user's latest application stands (seed §3.1.2)."""

    @extend_schema(operation_id="em_status_retrieve", summary="首页状态", responses={200: EmStatusSerializer})
    def get(self, request):
        return Response(EmStatusSerializer(selectors.em_status(user=request.user)).data)
