"""
The person's rights (SPEC §13). Thin: parse, call ``signing.privacy``, shape the answer.

* ``GET /api/me/export`` → everything held about the logged-in person (``export.personal_data_export``).
* ``POST /api/me/deletion`` ``{"reason"?}`` → the new deletion request; 409 while one is open.
* ``GET /api/me/deletion`` → the latest deletion request, or ``null``.

Neither needs a consent: they are the person's rights, not our processing.
"""

import logging

from drf_spectacular.utils import OpenApiResponse, extend_schema
from rest_framework.response import Response
from rest_framework.views import APIView

from . import services
from .export import personal_data_export
from .serializers import DeletionInSerializer, DeletionRequestSerializer

logger = logging.getLogger("signing.privacy")

TAGS = ["个人信息"]

_LIST = {"type": "array", "items": {"type": "object", "additionalProperties": True}}
EXPORT_SCHEMA = {
    "type": "object",
    "properties": {
        "format_version": {"type": "integer", "example": 1},
        "exported_at": {"type": "string", "format": "date-time"},
        "user": {
            "type": "object",
            "description": "小程序账号：平台、OpenID、UnionID、实名状态、注册与最近登录时间",
            "additionalProperties": True,
        },
        "resume": {
            "type": "object",
            "nullable": True,
            "description": "简历（同 GET /api/employee：完整身份证号、紧急联系人、教育与工作经历、身份证照片链接）",
            "additionalProperties": True,
        },
        "uploads": {**_LIST, "description": "上传的图片（签名链接）"},
        "consents": {**_LIST, "description": "全部授权记录（含已撤回）：范围、版本、时间、IP、User-Agent"},
        "realname_verifications": {**_LIST, "description": "实名认证记录（姓名、完整身份证号、结果、照片链接）"},
        "applications": {
            **_LIST,
            "description": "签约申请，每条带 events（签约记录）、个性化合同与已签署文件的签名链接",
        },
        "contracts": {**_LIST, "description": "劳动合同（与 GET /api/contracts 相同）"},
        "sessions": {**_LIST, "description": "登录会话（时间、IP、User-Agent；不含令牌）"},
        "subscriptions": {**_LIST, "description": "订阅消息授权"},
        "deletion_requests": {**_LIST, "description": "删除申请"},
    },
}


class MeExportView(APIView):
    @extend_schema(
        operation_id="me_export",
        summary="导出我的个人信息",
        description=(
            "本人的全部个人信息（《个人信息保护法》第四十五条）：账号、简历（含完整身份证号）、上传图片、授权记录、"
            "实名认证、签约申请及其记录、劳动合同、登录会话、订阅授权、删除申请。文件以短期有效的签名链接给出。"
        ),
        responses={200: OpenApiResponse(EXPORT_SCHEMA, description="本人的个人信息")},
        tags=TAGS,
    )
    def get(self, request):
        data = personal_data_export(user=request.user, request=request)
        logger.info("personal data export: user %s, %s applications", request.user.pk, len(data["applications"]))
        response = Response(data)
        response["Cache-Control"] = "no-store"
        return response


class MeDeletionView(APIView):
    @extend_schema(
        operation_id="me_deletion_retrieve",
        summary="我的删除申请",
        description="最近一次个人信息删除申请的状态与处理结果；从未申请为 null。",
        responses={200: DeletionRequestSerializer},
        tags=TAGS,
    )
    def get(self, request):
        deletion = services.deletion_latest(user=request.user)
        return Response(DeletionRequestSerializer(deletion).data if deletion else None)

    @extend_schema(
        operation_id="me_deletion_create",
        summary="申请删除我的个人信息",
        description=(
            "提交个人信息删除申请（《个人信息保护法》第四十七条），由后台人员处理：法律要求保存的劳动合同及其证据"
            "（合同终止后至少 CONTRACT_RETENTION_YEARS 年）依法保留，其余删除；处理结果以短信通知。"
            "已有待处理的申请为 409/40900；reason 超长或含无效字符为 400/40000。"
        ),
        request=DeletionInSerializer,
        responses={200: DeletionRequestSerializer},
        tags=TAGS,
    )
    def post(self, request):
        serializer = DeletionInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        deletion = services.deletion_request_create(
            user=request.user, reason=serializer.validated_data["reason"], client=request.client
        )
        return Response(DeletionRequestSerializer(deletion).data)
