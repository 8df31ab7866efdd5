"""Shapes of ``/api/companies`` and ``/api/work_pos``."""

from rest_framework import serializers

from shanqian.serializers import ApiSerializer

BIGINT_MAX = 2**63 - 1


class CompanySerializer(serializers.Serializer):
    id = serializers.IntegerField()
    company_name = serializers.CharField()


class WorkPosQuerySerializer(ApiSerializer):
    company_id = serializers.IntegerField(
        required=False,
        min_value=1,
        max_value=BIGINT_MAX,
        help_text="只返回该用人单位的岗位",
        error_messages={
            "invalid": "用人单位 ID 应为正整数。",
            "min_value": "用人单位 ID 应为正整数。",
            "max_value": "用人单位 ID 无效。",
            "max_string_length": "用人单位 ID 无效。",
        },
    )
