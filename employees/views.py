"""Mini-program API views of the employees app. Views are thin: parse → service/selector → serialize."""

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.errors import NotFound

from . import selectors, services
from .serializers import ResumeInSerializer, ResumeOutSerializer

# --- resume ---------------------------------------------------------------------------------------

NULL_DATA = OpenApiResponse(
    {"type": "object", "nullable": True, "description": "成功时为 null", "example": None},
    description="成功，data 为 null",
)


class EmployeeView(APIView):
    """``/api/employee``: submit (POST), replace (PUT) and read (GET) the user's resume."""

    @extend_schema(
        operation_id="employee_retrieve",
        summary="获取简历",
        responses={200: ResumeOutSerializer},
        description="当前用户的简历、教育与工作经历、当前签约申请的用人单位/岗位/处理人，以及新签发的身份证照片链接。"
        "未提交简历为 404/40400。",
    )
    def get(self, request):
        data = selectors.employee_resume(user=request.user, request=request)
        if data is None:
            raise NotFound(services.RESUME_MISSING)
        return Response(ResumeOutSerializer(data).data)

    @extend_schema(
        operation_id="employee_create",
        summary="提交简历",
        request=ResumeInSerializer,
        responses={200: NULL_DATA},
        description="提交简历并创建状态为 1（签约申请）的签约申请。已提交过简历为 409/40900；"
        "sms_code 错误为 422/42201；身份证号已被他人使用为 409/40900。",
    )
    def post(self, request):
        services.employee_check_can_create(user=request.user)
        serializer = ResumeInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.employee_create(user=request.user, data=serializer.validated_data, client=request.client)
        return Response(None)

    @extend_schema(
        operation_id="employee_update",
        summary="修改简历（整体替换）",
        request=ResumeInSerializer,
        responses={200: NULL_DATA},
        description="字段同提交简历。签约申请处于 2（待签约）或 3（已签约）时为 409/40900；"
        "处于 1 时申请随新的用人单位/岗位/处理人变更；处于 4 或 5 时保存后新开一条状态为 1 的申请。"
        "仅在手机号变更时需要 sms_code。",
    )
    def put(self, request):
        services.employee_check_can_update(user=request.user)
        serializer = ResumeInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        services.employee_update(user=request.user, data=serializer.validated_data, client=request.client)
        return Response(None)
