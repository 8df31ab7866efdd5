"""Shapes of ``/api/dict/{dict_item}`` and ``/api/regions``."""

from rest_framework import serializers

from shanqian.serializers import ApiSerializer


class DictEntrySerializer(serializers.Serializer):
    dict_key = serializers.CharField()
    dict_value = serializers.CharField()


class RegionSerializer(serializers.Serializer):
    id = serializers.IntegerField(help_text="6 位行政区划代码（GB/T 2260）")
    name = serializers.CharField()


class RegionQuerySerializer(ApiSerializer):
    parent_id = serializers.RegexField(
        r"^[0-9]{6}\Z",
        required=False,
        help_text="上级行政区划代码；不传返回全部省级",
        error_messages={"invalid": "上级行政区划代码应为 6 位数字。"},
    )

    def validate_parent_id(self, value):
        return int(value)
