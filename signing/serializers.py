"""Output shapes of the signing endpoints."""

from rest_framework import serializers

from employees.models import VerifyStatus
from shanqian.serializers import ApiSerializer, TextField
from shanqian.storage import signed_file_url

from .models import SignEvent, SignStatus

# --- em_status --------------------------------------------------------------------------------------


class EmStatusSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="驳回原因；无则为空字符串")
    company_name = serializers.CharField(help_text="申请的用人单位名称；无申请为空字符串")
    status = serializers.ChoiceField(
        choices=SignStatus.choices, allow_null=True, help_text="签约状态 1–5；从未申请为 null"
    )
    verify_status = serializers.ChoiceField(choices=VerifyStatus.choices, help_text="实名认证状态 0–3")


# --- the signing endpoints (SPEC §4.15–4.19) --------------------------------------------------------


class CompanyBriefSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company_name = serializers.CharField()


def _file_url(serializer, name: str) -> str:
    return signed_file_url(name, request=serializer.context.get("request"))


class SignContractSerializer(serializers.Serializer):
    """``GET /api/sign/contract``; built from ``signing.services.contract_signing.ContractView``."""

    application_id = serializers.IntegerField(source="application.pk", help_text="签约申请 id")
    contract_name = serializers.CharField(source="contract.contract_name", help_text="合同名称")
    contract_body = serializers.CharField(source="contract.contract_body", help_text="合同主体")
    sign_year = serializers.IntegerField(source="contract.sign_year", help_text="合同年限（年）")
    company = CompanyBriefSerializer(source="application.company", help_text="用人单位")
    work_pos = serializers.CharField(source="application.work_pos", help_text="岗位")
    entry_date = serializers.DateField(source="application.entry_date", help_text="入职日期 YYYY-MM-DD")
    salary = serializers.DecimalField(
        source="application.salary", max_digits=15, decimal_places=2, coerce_to_string=True, help_text="薪资，两位小数"
    )
    file_url = serializers.SerializerMethodField(
        help_text="个性化合同（PDF，已填入双方信息和合同条款）的签名链接，过期后重新获取"
    )
    sha256 = serializers.CharField(help_text="该合同文件的 SHA-256（十六进制），可用于核对下载的文件")
    status = serializers.ChoiceField(
        source="application.status", choices=SignStatus.choices, help_text="2 待签约 / 3 已签约"
    )

    def get_file_url(self, view) -> str:
        return _file_url(self, view.file_name or view.contract.file.name)


class SignInSerializer(ApiSerializer):
    sms_code = TextField(
        max_length=16,
        help_text="发送到简历手机号的签约短信验证码（/api/verifycode，purpose=sign）",
        error_messages={"required": "请输入短信验证码。", "blank": "请输入短信验证码。"},
    )
    signature = TextField(
        max_length=2048,
        help_text="手写签名图片的地址（本人通过 /api/image 上传后得到的 url）",
        error_messages={"required": "请先手写签名并上传。", "blank": "请先手写签名并上传。"},
    )


class SignResultSerializer(serializers.Serializer):
    document_url = serializers.CharField(help_text="已签署 PDF 的签名链接，过期后通过 /api/sign/document 重新获取")
    sha256 = serializers.CharField(help_text="已签署 PDF 的 SHA-256")


class SignedDocumentSerializer(serializers.Serializer):
    document_url = serializers.SerializerMethodField(help_text="已签署 PDF 的签名链接")
    sha256 = serializers.CharField(help_text="已签署 PDF 的 SHA-256")
    signed_at = serializers.DateTimeField(help_text="签署时间（与存证证书上的签署时间一致）")
    size = serializers.IntegerField(help_text="文件大小（字节）")

    def get_document_url(self, document) -> str:
        return _file_url(self, document.file.name)


class CancelInSerializer(ApiSerializer):
    reason = TextField(max_length=256, required=False, default="", help_text="取消原因（可选，最多 256 字）")


class CancelResultSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="签约申请 id")
    status = serializers.ChoiceField(choices=SignStatus.choices, help_text="5 已取消")
    status_label = serializers.CharField(source="get_status_display")


class HistoryEventSerializer(serializers.Serializer):
    kind = serializers.ChoiceField(
        choices=SignEvent.Kind.choices, help_text="transition 状态变更 / viewed 查看合同 / note 备注"
    )
    kind_label = serializers.CharField(source="get_kind_display")
    from_status = serializers.ChoiceField(choices=SignStatus.choices, allow_null=True)
    to_status = serializers.ChoiceField(choices=SignStatus.choices, allow_null=True)
    created_at = serializers.DateTimeField()
    actor = serializers.CharField(source="actor_display", help_text="员工本人 / 后台：姓名 / 系统")
    note = serializers.CharField()
    city = serializers.CharField()


class HistoryItemSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    status = serializers.ChoiceField(choices=SignStatus.choices)
    status_label = serializers.CharField(source="get_status_display")
    company = CompanyBriefSerializer()
    work_pos = serializers.CharField()
    apply_time = serializers.DateTimeField()
    entry_date = serializers.DateField(allow_null=True)
    salary = serializers.DecimalField(max_digits=15, decimal_places=2, coerce_to_string=True)
    reason = serializers.CharField(help_text="驳回原因")
    contract_name = serializers.SerializerMethodField()
    events = HistoryEventSerializer(many=True)

    def get_contract_name(self, application) -> str:
        return application.contract.contract_name if application.contract_id else ""
