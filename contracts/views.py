"""
``GET /api/companies`` and ``GET /api/work_pos`` (SPEC §4.7, §4.9). Logged-in users only.

``/work_pos?company_id=``: not a positive integer → 400/40000; no such enabled
company → 404/40400 (the client offered a company that is gone: say so rather than
show an empty picker).
"""

from drf_spectacular.plumbing import build_array_type, build_basic_type
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.errors import NotFound

from .selectors import companies_enabled, company_enabled_exists, work_pos_names
from .serializers import CompanySerializer, WorkPosQuerySerializer


class CompanyListView(APIView):
    @extend_schema(operation_id="companies_list", summary="获取所有用人单位", responses=CompanySerializer(many=True))
    def get(self, request):
        return Response(CompanySerializer(companies_enabled(), many=True).data)


class WorkPosListView(APIView):
    @extend_schema(
        operation_id="work_pos_list",
        summary="获取所有岗位",
        parameters=[OpenApiParameter("company_id", int, description="用人单位 ID；传入时只返回该单位的岗位")],
        responses={200: build_array_type(build_basic_type(OpenApiTypes.STR))},
    )
    def get(self, request):
        query = WorkPosQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        company_id = query.validated_data.get("company_id")
        if company_id is not None and not company_enabled_exists(company_id):
            raise NotFound("用人单位不存在或已停用")
        return Response(work_pos_names(company_id=company_id))
