"""
``GET /api/dict/{dict_item}`` and ``GET /api/regions`` (SPEC §4.6, §4.13). Logged-in users only.

Unknown dictionary or parent region → 404/40400; a ``parent_id`` that is not a
6-digit code → 400/40000.
"""

from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.errors import NotFound

from .selectors import dict_entries, region_children
from .serializers import DictEntrySerializer, RegionQuerySerializer, RegionSerializer


class DictView(APIView):
    @extend_schema(
        operation_id="dict_retrieve",
        summary="获取字典",
        description="如 Edu_Type（学历）、Nation（民族）、Relationship（与紧急联系人关系）；按显示顺序返回启用的项。",
        responses=DictEntrySerializer(many=True),
    )
    def get(self, request, dict_item):
        entries = dict_entries(dict_item)
        if entries is None:
            raise NotFound("字典不存在")
        return Response(DictEntrySerializer(entries, many=True).data)


class RegionListView(APIView):
    @extend_schema(
        operation_id="regions_list",
        summary="行政区划（省/市/区县）",
        parameters=[OpenApiParameter("parent_id", int, description="上级代码；不传为全部省级")],
        responses=RegionSerializer(many=True),
    )
    def get(self, request):
        query = RegionQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        children = region_children(query.validated_data.get("parent_id"))
        if children is None:
            raise NotFound("上级行政区划不存在")
        return Response(RegionSerializer(children, many=True).data)
