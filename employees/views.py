"""
API views of the employees app. Thin: parse with a serializer, call a service,
return plain data (the renderer wraps it; errors are raised, never returned).

Mini-program API views of the employees app. Views are thin: parse → service/selector → serialize.
"""

from captcha.views import captcha_image
from django.conf import settings
from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.errors import ApiError, Code
from shanqian.parsers import MultiPartParser
from shanqian.throttling import CaptchaThrottle, LoginThrottle, UploadThrottle, VerifyCodeThrottle

from . import serializers as s
from .authentication import TokenAuthentication
from .consent import SensitiveConsentRequired
from .models import SmsPurpose
from .services import identity
from .services.realname import realname_submit
from .uploads import upload_url

CAPTCHA_COOKIE = "captcha_key"
CAPTCHA_HEADER = "X-unique-key"


class WeixinLoginView(APIView):
    """``POST /api/weixin/login`` — seed §3.1.1."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [LoginThrottle]

    @extend_schema(
        operation_id="weixin_login_create",
        summary="小程序登录",
        description="用 wx.login() 的 code 换取会话令牌。em_id 为 0 表示尚未提交简历。",
        request=s.WeixinLoginSerializer,
        responses=s.LoginResultSerializer,
        tags=["登录与验证码"],
    )
    def post(self, request):
        serializer = s.WeixinLoginSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = identity.wechat_login(
            platform=request.platform,
            code=serializer.validated_data["code"],
            ip=request.client.ip,
            user_agent=request.client.user_agent,
        )
        return Response({"session_token": result.session_token, "em_id": result.em_id})


class WeixinLogoutView(APIView):
    """``POST /api/weixin/logout`` — ours (SPEC §4.1): end the calling session."""

    @extend_schema(
        operation_id="weixin_logout_create",
        summary="退出登录",
        description=(
            "吊销本次请求所带的 X-auth-token，之后任何实例都拒绝它（401/40100）；data 为 null。"
            f"每个用户最多保留 {settings.SESSION_TOKENS_PER_USER} 个有效令牌（SESSION_TOKENS_PER_USER），"
            "再次登录时最早的令牌被吊销。"
        ),
        request=None,
        responses={200: OpenApiResponse({"type": "object", "nullable": True, "example": None}, description="成功")},
        tags=["登录与验证码"],
    )
    def post(self, request):
        identity.wechat_logout(token=request.auth)
        return Response(None)


class CaptchaView(APIView):
    """``GET /api/captcha`` — the PNG itself; its key in a cookie and a header (SPEC §4.11)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [CaptchaThrottle]

    @extend_schema(
        operation_id="captcha_retrieve",
        summary="图形验证码",
        description=(
            "返回 PNG 图片本身（不是 JSON）。验证码标识同时放在 Cookie `captcha_key`（HttpOnly，5 分钟）"
            "和响应头 `X-unique-key` 中；/verifycode 从 captcha_key 字段、X-unique-key 请求头或该 Cookie 读取。"
            "每个验证码只能校验一次，5 分钟内有效。"
        ),
        responses={
            (200, "image/png"): OpenApiResponse(
                response={"type": "string", "format": "binary", "title": "raw"}, description="PNG 图片"
            )
        },
        tags=["登录与验证码"],
    )
    def get(self, request):
        key = identity.captcha_create()
        response = captcha_image(request, key)
        response[CAPTCHA_HEADER] = key
        response.set_cookie(
            CAPTCHA_COOKIE,
            key,
            max_age=int(settings.CAPTCHA_TIMEOUT) * 60,
            httponly=True,
            samesite="Lax",
            secure=request.is_secure(),
        )
        return response


class VerifyCodeView(APIView):
    """``POST /api/verifycode`` — check the captcha, then send an SMS code (seed §1.2.4)."""

    authentication_classes = []
    permission_classes = [AllowAny]
    throttle_classes = [VerifyCodeThrottle]

    @extend_schema(
        operation_id="verifycode_create",
        summary="发送短信验证码",
        description=(
            "先校验图形验证码（错误、过期或缺少标识为 42200，验证码随即作废），"
            "再向手机号发送 6 位验证码（5 分钟有效）。"
            "限制：同一 IP 每分钟请求不超过 THROTTLE_VERIFYCODE（默认 20 次）；"
            "同一手机号 60 秒 1 条、24 小时 10 条；同一 IP 每小时 20 条；"
            "超限为 42900，data.retry_after 为需等待的秒数。"
            "purpose=sign 用于签署合同：须带 X-auth-token（否则 401/40100），手机号须为本人简历登记的手机号"
            "（否则 400/40000），且须有待签署的合同（否则 409/40900；未提交简历为 403/40300）。"
        ),
        request=s.VerifyCodeSerializer,
        responses=inline_serializer("VerifyCodeResult", fields={}),
        tags=["登录与验证码"],
    )
    def post(self, request):
        serializer = s.VerifyCodeSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        data = serializer.validated_data
        # The explicit field wins over the header, the header over the cookie.
        key = (
            data.get("captcha_key")
            or request.META.get("HTTP_X_UNIQUE_KEY", "").strip()
            or request.COOKIES.get(CAPTCHA_COOKIE, "")
        )
        if data["purpose"] != SmsPurpose.RESUME:
            # The endpoint is public, but a signing code goes only to the logged-in user's resume phone.
            identity.sms_recipient_check(purpose=data["purpose"], user=_token_user(request), phone=data["phone"])
        identity.captcha_check(key=key, answer=data["captcha_code"])
        identity.sms_code_send(phone=data["phone"], purpose=data["purpose"], ip=request.client.ip)
        return Response({})


def _token_user(request):
    """The X-auth-token user of a request to a public view; 401/40100 without a valid token."""
    result = TokenAuthentication().authenticate(request)
    if result is None:
        raise ApiError("请先登录后再获取签约验证码", code=Code.UNAUTHENTICATED)
    return result[0]


class ImageUploadView(APIView):
    """``POST /api/image`` — seed §1.2.2; private, re-encoded, signed URL back."""

    parser_classes = [MultiPartParser]
    permission_classes = [IsAuthenticated, SensitiveConsentRequired]
    throttle_classes = [UploadThrottle]

    @extend_schema(
        operation_id="image_create",
        summary="上传图片",
        description=(
            "multipart/form-data 字段 file。仅 JPEG、PNG、WebP（按内容判断）；"
            f"不超过 {settings.UPLOAD_MAX_BYTES / 1024 / 1024:g} MB；像素总数 JPEG 不超过 "
            f"{settings.UPLOAD_MAX_PIXELS / 10_000:.0f} 万、PNG {settings.UPLOAD_MAX_PIXELS_PNG / 10_000:.0f} 万、"
            f"WebP {settings.UPLOAD_MAX_PIXELS_WEBP / 10_000:.0f} 万。"
            "图片会重新编码并去除 EXIF（含 GPS），加密保存。返回的 url 为签名链接，过期后需重新获取。"
        ),
        request={"multipart/form-data": s.ImageUploadSerializer},
        responses={200: s.ImageUrlSerializer, 403: SensitiveConsentRequired.SCHEMA_RESPONSE},
        tags=["通用"],
    )
    def post(self, request):
        serializer = s.ImageUploadSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        upload = identity.upload_create(owner=request.user, file=serializer.validated_data["file"])
        return Response({"url": upload_url(upload, request=request)})


# --- real-name -------------------------------------------------------------------------------------


class RealnameView(APIView):
    """``POST /api/realname``: submit the resume's identity for real-name verification (SPEC §4.14)."""

    permission_classes = [IsAuthenticated, SensitiveConsentRequired]

    @extend_schema(
        operation_id="realname_create",
        summary="提交实名认证",
        description=(
            "使用简历中的姓名、身份证号与身份证正反面照片提交实名认证，提交后 verify_status 为 1（实名中），"
            "由后台审核或核验服务给出结果 2（实名成功）或 3（实名失败，附原因）。"
            "未提交简历或正在认证/已认证为 409/40900；缺少身份证照片为 400/40000；实名失败后可重新提交。"
        ),
        request=None,
        responses={200: s.RealnameResultSerializer, 403: SensitiveConsentRequired.SCHEMA_RESPONSE},
        tags=["签约"],
    )
    def post(self, request):
        verification = realname_submit(user=request.user, client=request.client)
        return Response(s.RealnameResultSerializer(verification).data)
