"""
Mini-program API views of the signing app. Views are thin: parse → service/selector → serialize.

* ``GET /api/handlers`` → ``[{"id", "name"}]``: active staff in the 人事专员 group (SPEC §4.8).
* ``GET /api/em_status`` → where the user's latest application stands (seed §3.1.2).
* ``GET``/``POST``/``PUT /api/employee`` — the resume with the application it opens
  (SPEC §4.3–4.4); the use case lives in ``signing.services.resume_submission``.
* ``GET /api/sign/contract``, ``POST /api/sign``, ``GET /api/sign/document``,
  ``POST /api/sign/cancel``, ``GET /api/sign/history`` — reading, signing and
  withdrawing (SPEC §4.15–4.19); the rules live in ``signing.services.contract_signing``.
"""

from django.core.files.storage import default_storage
from django.http import FileResponse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.generics import ListAPIView
from rest_framework.permissions import IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from employees.consent import SensitiveConsentRequired
from employees.serializers import ResumeInSerializer, ResumeOutSerializer
from employees.services.resume import RESUME_MISSING, employee_check_can_create
from shanqian.errors import NotFound
from shanqian.pagination import EnvelopePagination
from shanqian.roles import handlers_queryset
from shanqian.storage import signed_file_url
from shanqian.throttling import SignThrottle

from . import selectors
from .serializers import (
    CancelInSerializer,
    CancelResultSerializer,
    EmStatusSerializer,
    HistoryItemSerializer,
    SignContractSerializer,
    SignedDocumentSerializer,
    SignInSerializer,
    SignResultSerializer,
)
from .services import contract_signing as sign_services
from .services import resume_submission

SIGN_TAGS = ["签约"]


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


NULL_DATA = OpenApiResponse(
    {"type": "object", "nullable": True, "description": "成功时为 null", "example": None},
    description="成功，data 为 null",
)


class EmployeeView(APIView):
    """
    ``/api/employee``: submit (POST), replace (PUT) and read (GET) the user's resume. It lives with
    signing because submitting opens (or updates) an application (``services.resume_submission``).
    POST and PUT carry the ID number and photos: they need the current ``sensitive_pi`` consent.
    """

    permission_classes = [IsAuthenticated, SensitiveConsentRequired]

    @extend_schema(
        operation_id="employee_retrieve",
        summary="获取简历",
        responses={200: ResumeOutSerializer},
        description="当前用户的简历、教育与工作经历、当前签约申请的用人单位/岗位/处理人，以及新签发的身份证照片链接。"
        "未提交简历为 404/40400。",
    )
    def get(self, request):
        data = selectors.resume_of_user(user=request.user, request=request)
        if data is None:
            raise NotFound(RESUME_MISSING)
        # Already in ResumeOutSerializer's shape (tests/employees pin the two equal); the serializer documents it.
        return Response(data)

    @extend_schema(
        operation_id="employee_create",
        summary="提交简历",
        request=ResumeInSerializer,
        responses={200: NULL_DATA, 403: SensitiveConsentRequired.SCHEMA_RESPONSE},
        description="提交简历并创建状态为 1（签约申请）的签约申请。已提交过简历为 409/40900；"
        "sms_code 错误为 422/42201；身份证号已被他人使用为 409/40900。",
    )
    def post(self, request):
        employee_check_can_create(user=request.user)
        serializer = ResumeInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resume_submission.resume_submit(user=request.user, data=serializer.validated_data, client=request.client)
        return Response(None)

    @extend_schema(
        operation_id="employee_update",
        summary="修改简历（整体替换）",
        request=ResumeInSerializer,
        responses={200: NULL_DATA, 403: SensitiveConsentRequired.SCHEMA_RESPONSE},
        description="字段同提交简历。签约申请处于 2（待签约）或 3（已签约）时为 409/40900；"
        "处于 1 时申请随新的用人单位/岗位/处理人变更；处于 4 或 5 时保存后新开一条状态为 1 的申请。"
        "仅在手机号变更时需要 sms_code。",
    )
    def put(self, request):
        resume_submission.resume_check_can_update(user=request.user)
        serializer = ResumeInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        resume_submission.resume_replace(user=request.user, data=serializer.validated_data, client=request.client)
        return Response(None)


# --- em_status --------------------------------------------------------------------------------------


class EmStatusView(APIView):
    """``GET /api/em_status``: where the user's latest application stands (seed §3.1.2)."""

    @extend_schema(operation_id="em_status_retrieve", summary="首页状态", responses={200: EmStatusSerializer})
    def get(self, request):
        return Response(EmStatusSerializer(selectors.em_status(user=request.user)).data)


# --- signing ----------------------------------------------------------------------------------------


class SignContractView(APIView):
    """``GET /api/sign/contract``: the contract to read (and, in status 2, the reading recorded)."""

    @extend_schema(
        operation_id="sign_contract_retrieve",
        summary="查看待签合同",
        description=(
            "最新签约申请处于 2（待签约）或 3（已签约）时返回合同信息与合同文件的签名链接。"
            "处于 2 时记录一次“查看合同”事件（含文件 SHA-256）：签署前必须先调用本接口查看合同。"
            "未提交简历或没有申请为 404/40400；其他状态为 409/40900。"
        ),
        responses={200: SignContractSerializer},
        tags=SIGN_TAGS,
    )
    def get(self, request):
        view = sign_services.contract_open(user=request.user, client=request.client)
        return Response(SignContractSerializer(view, context={"request": request}).data)


class SignView(APIView):
    """``POST /api/sign``: sign the contract with an SMS code and a handwritten signature (SPEC §4.16, §6)."""

    throttle_classes = [SignThrottle]

    @extend_schema(
        operation_id="sign_create",
        summary="签署合同",
        description=(
            "要求：最新签约申请处于 2（待签约）；已实名认证（verify_status=2）；已查看合同（GET /api/sign/contract）。"
            "sms_code 为通过 /api/verifycode（purpose=sign）发送到简历手机号的验证码；"
            "signature 为本人通过 /api/image 上传的手写签名图片地址。"
            "成功后申请变为 3（已签约），返回加盖数字签名的 PDF 链接及其 SHA-256。"
            "状态不符、未实名、未查看合同、合同文件损坏为 409/40900；签名图片无效为 400/40000；"
            "验证码错误、过期或已使用为 422/42201。"
        ),
        request=SignInSerializer,
        responses={200: SignResultSerializer},
        tags=SIGN_TAGS,
    )
    def post(self, request):
        serializer = SignInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        document = sign_services.sign_submit(
            user=request.user,
            sms_code=serializer.validated_data["sms_code"],
            signature_url=serializer.validated_data["signature"],
            client=request.client,
        )
        return Response(
            {"document_url": signed_file_url(document.file.name, request=request), "sha256": document.sha256}
        )


class SignedDocumentView(APIView):
    """``GET /api/sign/document``: the sealed PDF of the user's signed application."""

    @extend_schema(
        operation_id="sign_document_retrieve",
        summary="已签署的合同文件",
        description=(
            "返回已签署 PDF 的签名链接、SHA-256、签署时间和大小；没有已签署的合同为 404/40400。"
            "带 ?download=1 时直接返回 PDF 文件本身（application/pdf，附件下载）。"
        ),
        parameters=[
            OpenApiParameter("download", str, required=False, description="为 1 时直接下载 PDF 文件", enum=["1"])
        ],
        responses={
            (200, "application/json"): SignedDocumentSerializer,
            (200, "application/pdf"): OpenApiResponse(
                response={"type": "string", "format": "binary", "title": "raw"}, description="PDF 文件（download=1）"
            ),
        },
        tags=SIGN_TAGS,
    )
    def get(self, request):
        document = selectors.signed_document_of_user(user=request.user)
        if document is None:
            raise NotFound("您还没有已签署的合同")
        if request.query_params.get("download") == "1":
            return self._file(document)
        return Response(SignedDocumentSerializer(document, context={"request": request}).data)

    @staticmethod
    def _file(document):
        try:
            handle = default_storage.open(document.file.name, "rb")
        except FileNotFoundError:
            raise NotFound("已签署的文件不存在，请联系人事专员") from None
        response = FileResponse(
            handle,
            as_attachment=True,
            filename=f"signed-contract-{document.application_id}.pdf",
            content_type="application/pdf",
        )
        response["X-Content-Type-Options"] = "nosniff"
        return response


class SignCancelView(APIView):
    """``POST /api/sign/cancel``: the employee withdraws their latest application (1 or 2 → 5)."""

    @extend_schema(
        operation_id="sign_cancel_create",
        summary="取消签约申请",
        description=(
            "取消最新的签约申请（状态 1 签约申请 或 2 待签约 → 5 已取消），reason 可选，记入审计记录。"
            "已签约、已驳回或已取消的申请不能取消（409/40900）；没有申请为 404/40400。"
        ),
        request=CancelInSerializer,
        responses={200: CancelResultSerializer},
        tags=SIGN_TAGS,
    )
    def post(self, request):
        serializer = CancelInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        application = sign_services.application_withdraw(
            user=request.user, reason=serializer.validated_data["reason"], client=request.client
        )
        return Response(CancelResultSerializer(application).data)


class SignHistoryView(ListAPIView):
    """``GET /api/sign/history``: the user's applications newest first, each with its audit events."""

    serializer_class = HistoryItemSerializer
    pagination_class = EnvelopePagination

    def get_queryset(self):
        return selectors.application_history(user=self.request.user)

    @extend_schema(
        operation_id="sign_history_list",
        summary="签约记录",
        description=(
            "当前用户的全部签约申请（新的在前，分页：page、page_size/pageSize，默认 10，最大 100），"
            "每条带审计事件（状态变更、查看合同、备注；操作人为“员工本人”“后台：姓名”或“系统”）。"
        ),
        tags=SIGN_TAGS,
    )
    def get(self, request, *args, **kwargs):
        return super().get(request, *args, **kwargs)
