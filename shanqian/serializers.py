"""
Serializer building blocks shared by every app.

* ``TextField`` — a CharField that refuses the characters ``shanqian.text`` forbids (controls,
  U+FFFD, bidi controls; zero-width characters too with ``name=True``), so hostile text never
  reaches the DB.
* ``FormArrayListSerializer`` — ``list_serializer_class`` for nested arrays that
  also accepts the array as a JSON string (``employee_edu='[{"school": …}]'``).
* ``ApiSerializer`` — treats ``""`` and ``null`` for optional fields as "not given"
  (SPEC §3) and maps model CharFields to ``TextField``.
"""

import json

from django.db import models
from rest_framework import serializers

from .text import forbidden_char


class TextField(serializers.CharField):
    default_error_messages = {
        "invalid": "请输入有效的文本。",
        "blank": "该字段不能为空。",
        "max_length": "长度不能超过 {max_length} 个字符。",
        "min_length": "长度不能少于 {min_length} 个字符。",
        "bad_chars": "包含无效字符。",
    }

    def __init__(self, *, name: bool = False, **kwargs):
        self.name = name
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, (str, int, float)):
            self.fail("invalid")
        value = super().to_internal_value(data)
        if forbidden_char(value, name=self.name) is not None:
            self.fail("bad_chars")
        return value


class FormArrayListSerializer(serializers.ListSerializer):
    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                raise serializers.ValidationError({"non_field_errors": ["应为数组（JSON 格式有误）。"]}) from None
        if isinstance(data, dict):
            raise serializers.ValidationError({"non_field_errors": ["应为数组。"]})
        return super().to_internal_value(data)


class ApiSerializer(serializers.Serializer):
    def to_internal_value(self, data):
        if isinstance(data, dict):
            data = {
                key: value
                for key, value in data.items()
                if not (
                    key in self.fields
                    and not self.fields[key].required
                    and (value is None or (isinstance(value, str) and value.strip() == ""))
                    and not self.fields[key].allow_null
                )
            }
        return super().to_internal_value(data)


class ApiModelSerializer(ApiSerializer, serializers.ModelSerializer):
    serializer_field_mapping = {
        **serializers.ModelSerializer.serializer_field_mapping,
        models.CharField: TextField,
        models.TextField: TextField,
    }
