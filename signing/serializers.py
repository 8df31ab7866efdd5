"""Output shapes of the signing endpoints."""

from rest_framework import serializers

from employees.models import VerifyStatus

from .models import SignStatus

# --- em_status --------------------------------------------------------------------------------------


class EmStatusSerializer(serializers.Serializer):
    reason = serializers.CharField(help_text="驳回原因；无则为空字符串")
    company_name = serializers.CharField(help_text="申请的用人单位名称；无申请为空字符串")
    status = serializers.ChoiceField(
        choices=SignStatus.choices, allow_null=True, help_text="签约状态 1–5；从未申请为 null"
    )
    verify_status = serializers.ChoiceField(choices=VerifyStatus.choices, help_text="实名认证状态 0–3")
