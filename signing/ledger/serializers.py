"""Output shapes of ``GET /api/contracts`` and ``GET /api/contracts/{id}`` (SPEC §12)."""

from rest_framework import serializers

from shanqian.storage import signed_file_url

from ..serializers import CompanyBriefSerializer
from .models import ContractStatus, EndGround, TermType


class ContractSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="劳动合同 id")
    application_id = serializers.IntegerField(help_text="签约申请 id")
    status = serializers.ChoiceField(
        choices=ContractStatus.choices, help_text="1 生效中 2 已到期 3 已续签 4 已终止 5 已解除"
    )
    status_label = serializers.CharField(source="get_status_display")
    company = CompanyBriefSerializer(help_text="用人单位")
    work_pos = serializers.CharField(help_text="岗位")
    work_location = serializers.CharField(help_text="工作地点")
    term_type = serializers.ChoiceField(
        choices=TermType.choices, help_text="fixed 固定期限 open_ended 无固定期限 task 以完成一定工作任务为期限"
    )
    term_type_label = serializers.CharField(source="get_term_type_display")
    start_date = serializers.DateField(help_text="合同起始日")
    end_date = serializers.DateField(allow_null=True, help_text="合同终止日（无固定期限为 null）")
    probation_end = serializers.DateField(allow_null=True, help_text="试用期截止日（无试用期为 null）")
    renewed_from = serializers.IntegerField(
        source="previous_id", allow_null=True, help_text="续签自（上一份劳动合同 id）"
    )
    ended_on = serializers.DateField(allow_null=True, help_text="终止/解除日期")
    end_ground = serializers.ChoiceField(choices=EndGround.choices, allow_blank=True, help_text="终止/解除事由")
    end_ground_label = serializers.CharField(source="get_end_ground_display", help_text="终止/解除事由（文字）")
    document_url = serializers.SerializerMethodField(help_text="已签署 PDF 的签名链接（线下签约为空）")
    document_sha256 = serializers.SerializerMethodField(help_text="已签署 PDF 的 SHA-256")
    proof_url = serializers.SerializerMethodField(help_text="解除（终止）劳动合同证明书 PDF 的签名链接（未终止为空）")
    proof_sha256 = serializers.CharField(help_text="证明书 PDF 的 SHA-256")

    def _url(self, name: str) -> str:
        return signed_file_url(name, request=self.context.get("request")) if name else ""

    def get_document_url(self, contract) -> str:
        return self._url(contract.document.file.name) if contract.document_id else ""

    def get_document_sha256(self, contract) -> str:
        return contract.document.sha256 if contract.document_id else ""

    def get_proof_url(self, contract) -> str:
        return self._url(contract.proof_file.name if contract.proof_file else "")
