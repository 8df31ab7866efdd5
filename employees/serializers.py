"""
Input and output shapes of the employees API (no business decisions here).

Input and output shapes of the mini-program's employee endpoints.

Serializers check shape only (types, lengths, formats, dates, the ID number's
own checksum); rules that need the database (dictionaries, regions, uploads,
company/position/handler, uniqueness, SMS code, application state) live in
``employees.services.resume``.
"""

import datetime
import re

from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from dictionaries.reference import AccountType, Gender, MaritalStatus, PoliticalStatus
from shanqian.serializers import ApiSerializer, FormArrayListSerializer, TextField

from .idcard import IdNumberError, parse_id_number
from .models import SmsPurpose
from .phones import MOBILE_MESSAGE, is_contact_phone, is_mobile


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


RESUME_ARRAY_MAX_ITEMS = 30
_MONTH_OR_DATE = re.compile(r"^(\d{4})-(\d{1,2})(?:-(\d{1,2}))?$")
_MAX_ID = 2**31 - 1


@extend_schema_field(
    {
        "type": "string",
        "pattern": r"^\d{4}-\d{1,2}(-\d{1,2})?$",
        "example": "2020-09",
        "description": "YYYY-MM-DD 或 YYYY-MM",
    }
)
class MonthOrDateField(serializers.Field):
    """``YYYY-MM-DD`` or ``YYYY-MM`` (stored as the first day of that month); years 1900–2100."""

    default_error_messages = {
        "invalid": "日期格式应为 YYYY-MM-DD 或 YYYY-MM。",
        "range": "日期超出合理范围。",
    }

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        match = _MONTH_OR_DATE.match(data.strip())
        if not match:
            self.fail("invalid")
        year, month, day = int(match.group(1)), int(match.group(2)), int(match.group(3) or 1)
        try:
            value = datetime.date(year, month, day)
        except ValueError:
            self.fail("invalid")
        if not 1900 <= value.year <= 2100:
            self.fail("range")
        return value

    def to_representation(self, value):
        return value.isoformat() if value else None


def _id_field(label: str, *, required: bool = True, max_value: int = _MAX_ID) -> serializers.IntegerField:
    return serializers.IntegerField(
        required=required,
        min_value=1,
        max_value=max_value,
        error_messages={
            "invalid": f"{label}应为整数 ID。",
            "min_value": f"{label}不存在。",
            "max_value": f"{label}不存在。",
            "max_string_length": f"{label}不存在。",
            "required": f"请选择{label}。",
            "null": f"请选择{label}。",
        },
    )


def _choice_field(choices, label: str, *, required: bool = True) -> serializers.ChoiceField:
    return serializers.ChoiceField(
        choices=choices,
        required=required,
        error_messages={"invalid_choice": f"{label}无效。", "required": f"请选择{label}。", "null": f"请选择{label}。"},
    )


class EducationInSerializer(ApiSerializer):
    edu_type = TextField(max_length=32)
    school = TextField(max_length=64)
    major = TextField(max_length=64, required=False, default="")
    start_date = MonthOrDateField()
    end_date = MonthOrDateField()

    class Meta:
        list_serializer_class = FormArrayListSerializer

    def validate(self, attrs):
        if attrs["start_date"] > timezone.localdate():
            raise serializers.ValidationError({"start_date": ["开始日期不能晚于今天。"]})
        if attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": ["结束日期不能早于开始日期。"]})
        return attrs


class WorkExperienceInSerializer(ApiSerializer):
    """``end_date`` empty (absent, ``""`` or null) means "to this day"."""

    company_name = TextField(max_length=64)
    work_pos = TextField(max_length=32)
    start_date = MonthOrDateField()
    end_date = MonthOrDateField(required=False, default=None)
    description = TextField(max_length=500, required=False, default="")

    class Meta:
        list_serializer_class = FormArrayListSerializer

    def validate(self, attrs):
        if attrs["start_date"] > timezone.localdate():
            raise serializers.ValidationError({"start_date": ["开始日期不能晚于今天。"]})
        if attrs["end_date"] is not None and attrs["end_date"] < attrs["start_date"]:
            raise serializers.ValidationError({"end_date": ["结束日期不能早于开始日期。"]})
        return attrs


class ResumeInSerializer(ApiSerializer):
    """
    The body of ``POST /api/employee`` and ``PUT /api/employee`` (SPEC §4.3–4.4, §5.1).

    * ``employee_edu`` — array, at least one item.
    * ``work_exp`` — array, required. At least one item, **unless it is
      explicitly an empty array** (JSON ``[]``, or the form value ``work_exp=[]``):
      that means "first job, no work history". Leaving the field out is an error,
      so a client that forgot the field is not mistaken for a first-jobber.
    * Both arrays arrive as JSON arrays, in bracket notation
      (``employee_edu[0][school]=…``) or as a JSON string; at most 30 items each.
    * ``age`` and ``gender`` are derived from ``id_number``; when sent they must agree.
    * ``*_name`` region fields are ignored (filled from the region table);
      ``em_contact_relationship`` is a key of dictionary ``Relationship`` (a
      picker, like ``nation``), not free text.
    * ``sms_code`` — the code sent to ``phone``: required on POST, and on PUT when the phone changes.
    """

    real_name = TextField(max_length=16, name=True)
    phone = TextField(max_length=16)
    sms_code = TextField(max_length=16, required=False)
    id_number = TextField(max_length=32)
    age = serializers.IntegerField(required=False, min_value=0, max_value=200)
    gender = _choice_field(Gender.choices, "性别", required=False)
    nation = TextField(max_length=12, required=False, default="")
    marital_sts = _choice_field(MaritalStatus.choices, "婚姻状况")
    political_sts = _choice_field(PoliticalStatus.choices, "政治面貌")
    acct_type = _choice_field(AccountType.choices, "户口类型")
    acct_prc_id = _id_field("户籍省份", required=False, max_value=999999)
    acct_city_id = _id_field("户籍城市", required=False, max_value=999999)
    acct_coy_id = _id_field("户籍区县", required=False, max_value=999999)
    acct_addr = TextField(max_length=255, required=False, default="")
    province_id = _id_field("现居省份", required=False, max_value=999999)
    city_id = _id_field("现居城市", required=False, max_value=999999)
    county_id = _id_field("现居区县", required=False, max_value=999999)
    addr = TextField(max_length=255, required=False, default="")
    em_contact_name = TextField(max_length=16, required=False, default="", name=True)
    em_contact_phone = TextField(max_length=32, required=False, default="")
    em_contact_relationship = TextField(max_length=32, required=False, default="")
    id_card_front = TextField(max_length=2048, required=False, default="")
    id_card_back = TextField(max_length=2048, required=False, default="")
    company_id = _id_field("用人单位")
    work_pos = TextField(max_length=16)
    ad_user_id = _id_field("处理人")
    employee_edu = EducationInSerializer(
        many=True,
        allow_empty=False,
        max_length=RESUME_ARRAY_MAX_ITEMS,
        error_messages={
            "required": "请填写教育经历（至少一条）。",
            "empty": "请填写教育经历（至少一条）。",
            "max_length": f"教育经历最多 {RESUME_ARRAY_MAX_ITEMS} 条。",
            "not_a_list": "教育经历应为数组。",
            "null": "请填写教育经历（至少一条）。",
        },
    )
    work_exp = WorkExperienceInSerializer(
        many=True,
        allow_empty=True,
        max_length=RESUME_ARRAY_MAX_ITEMS,
        error_messages={
            "required": "请填写工作经历；首份工作请提交空数组 []。",
            "max_length": f"工作经历最多 {RESUME_ARRAY_MAX_ITEMS} 条。",
            "not_a_list": "工作经历应为数组。",
            "null": "请填写工作经历；首份工作请提交空数组 []。",
        },
    )

    def validate_phone(self, value):
        if not is_mobile(value):
            raise serializers.ValidationError(MOBILE_MESSAGE)
        return value

    def validate_em_contact_phone(self, value):
        if value and not is_contact_phone(value):
            raise serializers.ValidationError("紧急联系人电话格式不正确。")
        return value

    def validate_id_number(self, value):
        try:
            return parse_id_number(value, today=timezone.localdate()).number
        except IdNumberError as exc:
            raise serializers.ValidationError(str(exc)) from None

    def validate(self, attrs):
        identity = parse_id_number(attrs["id_number"], today=timezone.localdate())
        age, gender = identity.age_on(timezone.localdate()), identity.gender
        errors = {}
        if "age" in attrs and attrs["age"] != age:
            errors["age"] = ["年龄与身份证号不符。"]
        if "gender" in attrs and attrs["gender"] != gender:
            errors["gender"] = ["性别与身份证号不符。"]
        if attrs.get("em_contact_phone") and attrs["em_contact_phone"] == attrs["phone"]:
            errors["em_contact_phone"] = ["紧急联系人电话不能与本人手机号相同。"]
        if errors:
            raise serializers.ValidationError(errors)
        attrs["age"], attrs["gender"] = age, gender
        return attrs


class NamedRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()


class CompanyRefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company_name = serializers.CharField()


class EducationOutSerializer(serializers.Serializer):
    edu_type = serializers.CharField()
    school = serializers.CharField()
    major = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField()


class WorkExperienceOutSerializer(serializers.Serializer):
    company_name = serializers.CharField()
    work_pos = serializers.CharField()
    start_date = serializers.DateField()
    end_date = serializers.DateField(allow_null=True)
    description = serializers.CharField()


class ResumeOutSerializer(serializers.Serializer):
    """``GET /api/employee``: the seed's resume fields plus the current application's picks and fresh photo URLs."""

    id = serializers.IntegerField(help_text="em_id")
    real_name = serializers.CharField()
    phone = serializers.CharField()
    id_number = serializers.CharField()
    age = serializers.IntegerField()
    gender = serializers.IntegerField()
    nation = serializers.CharField()
    marital_sts = serializers.IntegerField()
    political_sts = serializers.IntegerField()
    acct_type = serializers.IntegerField()
    acct_prc_id = serializers.IntegerField(allow_null=True)
    acct_prc_name = serializers.CharField()
    acct_city_id = serializers.IntegerField(allow_null=True)
    acct_city_name = serializers.CharField()
    acct_coy_id = serializers.IntegerField(allow_null=True)
    acct_coy_name = serializers.CharField()
    acct_addr = serializers.CharField()
    province_id = serializers.IntegerField(allow_null=True)
    province_name = serializers.CharField()
    city_id = serializers.IntegerField(allow_null=True)
    city_name = serializers.CharField()
    county_id = serializers.IntegerField(allow_null=True)
    county_name = serializers.CharField()
    addr = serializers.CharField()
    em_contact_name = serializers.CharField()
    em_contact_phone = serializers.CharField()
    em_contact_relationship = serializers.CharField()
    id_card_front = serializers.CharField(help_text="签名链接，有效期见 UPLOAD_URL_TTL；未上传为空字符串")
    id_card_back = serializers.CharField(help_text="签名链接，有效期见 UPLOAD_URL_TTL；未上传为空字符串")
    company_id = serializers.IntegerField(allow_null=True)
    company = CompanyRefSerializer(allow_null=True)
    work_pos = serializers.CharField()
    ad_user_id = serializers.IntegerField(allow_null=True)
    ad_user = NamedRefSerializer(allow_null=True)
    employee_edu = EducationOutSerializer(many=True)
    work_exp = WorkExperienceOutSerializer(many=True)


# --- real-name -------------------------------------------------------------------------------------


class RealnameResultSerializer(serializers.Serializer):
    verify_status = serializers.IntegerField(
        source="user.verify_status", help_text="0 待实名 1 实名中 2 实名成功 3 实名失败"
    )
    verify_reason = serializers.CharField(source="user.verify_reason", help_text="实名失败原因")
    submitted_at = serializers.DateTimeField()
