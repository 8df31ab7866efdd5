"""
Signing API views.

* ``GET /api/handlers`` → ``[{"id", "name"}]``: active staff in the 人事专员 group (SPEC §4.8).
"""

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.roles import handlers_queryset


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
