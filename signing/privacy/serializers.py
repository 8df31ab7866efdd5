"""Input and output shapes of ``/api/me/deletion`` and the export's deletion requests."""

from rest_framework import serializers

from shanqian.serializers import ApiSerializer, TextField

from .models import DeletionStatus

REASON_MAX_LENGTH = 500


class DeletionInSerializer(ApiSerializer):
    reason = TextField(
        max_length=REASON_MAX_LENGTH,
        required=False,
        default="",
        help_text=f"申请原因（可选，最多 {REASON_MAX_LENGTH} 字）",
        error_messages={
            "max_length": f"申请原因不能超过 {REASON_MAX_LENGTH} 个字符。",
            "bad_chars": "申请原因包含无效字符。",
        },
    )


class DeletionRequestSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="删除申请 id")
    status = serializers.ChoiceField(
        choices=DeletionStatus.choices,
        help_text="pending 待处理 / done 已删除 / partial 已删除（依法保留部分） / refused 已拒绝",
    )
    status_label = serializers.CharField(source="get_status_display")
    reason = serializers.CharField(help_text="申请原因")
    requested_at = serializers.DateTimeField()
    decided_at = serializers.DateTimeField(allow_null=True, help_text="处理时间（待处理为 null）")
    refusal_reason = serializers.CharField(help_text="拒绝原因")
    outcome = serializers.CharField(help_text="处理结果：删除了什么、依法保留了什么")
    retained_until = serializers.DateField(
        allow_null=True, help_text="依法保留的劳动合同及其证据最早可删除的日期（合同履行中或无保留为 null）"
    )
