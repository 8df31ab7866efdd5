"""
Input and output shapes of the employees API (no business decisions here).
"""

from rest_framework import serializers

from shanqian.serializers import ApiSerializer, TextField

from .models import SmsPurpose
from .phones import MOBILE_MESSAGE, is_mobile

# --- identity ---------------------------------------------------------------------------


class WeixinLoginSerializer(ApiSerializer):
    code = TextField(
        max_length=128,
        help_text="wx.login() 返回的登录凭证 code（1–128 个可打印字符）",
        error_messages={"required": "请提供登录凭证 code。", "blank": "请提供登录凭证 code。"},
    )

    def validate_code(self, value):
        # SPEC §4.1: 1–128 printable characters (for both backends; WeChat's own codes are ASCII).
        if not value.isprintable():
            raise serializers.ValidationError("登录凭证 code 格式无效。")
        return value


class LoginResultSerializer(serializers.Serializer):
    session_token = serializers.CharField(help_text="会话令牌，之后的请求放在 X-auth-token 请求头")
    em_id = serializers.IntegerField(help_text="员工（简历）id；0 表示尚未提交简历")


class VerifyCodeSerializer(ApiSerializer):
    captcha_code = TextField(
        max_length=32,
        help_text="图形验证码",
        error_messages={"required": "请输入图形验证码。", "blank": "请输入图形验证码。"},
    )
    phone = TextField(
        max_length=16,
        help_text="接收验证码的手机号（中国大陆 11 位）",
        error_messages={"required": "请输入手机号。", "blank": "请输入手机号。"},
    )
    captcha_key = TextField(
        max_length=64,
        required=False,
        help_text="图形验证码标识；也可由 captcha_key Cookie 或 X-unique-key 请求头提供",
    )
    purpose = serializers.ChoiceField(
        choices=SmsPurpose.choices,
        default=SmsPurpose.RESUME,
        help_text="用途：resume 提交简历（默认），sign 签署合同",
        error_messages={"invalid_choice": "用途无效，可选 resume 或 sign。"},
    )

    def validate_phone(self, value):
        if not is_mobile(value):
            raise serializers.ValidationError(MOBILE_MESSAGE)
        return value


class ImageUploadSerializer(serializers.Serializer):
    file = serializers.FileField(
        allow_empty_file=False,
        help_text="图片文件（JPEG、PNG 或 WebP）",
        error_messages={
            "required": "请选择要上传的图片。",
            "invalid": "请以 multipart/form-data 上传图片文件。",
            "no_name": "无法识别上传的文件。",
            "empty": "上传的文件是空的。",
        },
    )


class ImageUrlSerializer(serializers.Serializer):
    url = serializers.CharField(help_text="图片的访问地址（签名链接，有效期见 UPLOAD_URL_TTL）")
