"""
``POST /api/subscriptions`` (SPEC §11): what the worker accepted in ``wx.requestSubscribeMessage``.

Body ``{"template_ids": ["…", …]}`` (JSON, or a form with the field repeated) — the template ids
the user tapped 允许 for. One acceptance allows one message of that template; the server uses them
up as it sends. Ids that are not an enabled template of the caller's platform → 400/40000 and
nothing is recorded.
"""

import json

from drf_spectacular.utils import extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.serializers import TextField

from . import services


class TemplateIdsField(serializers.ListField):
    """A list of template ids; a form may also send it as one JSON string."""

    def to_internal_value(self, data):
        if isinstance(data, str):
            try:
                data = json.loads(data)
            except ValueError:
                data = [data]
        return super().to_internal_value(data)


class SubscriptionsInSerializer(serializers.Serializer):
    template_ids = TemplateIdsField(
        child=TextField(max_length=64),
        min_length=1,
        max_length=services.MAX_TEMPLATE_IDS,
        help_text="用户在 wx.requestSubscribeMessage 中选择“允许”的订阅模板 ID（至多 3 个）",
        error_messages={
            "not_a_list": "应为订阅模板 ID 的数组。",
            "empty": "请提供至少一个订阅模板 ID。",
            "min_length": "请提供至少一个订阅模板 ID。",
            "max_length": f"一次至多 {services.MAX_TEMPLATE_IDS} 个订阅模板 ID。",
        },
    )


class SubscriptionsOutSerializer(serializers.Serializer):
    accepted = serializers.ListField(child=serializers.CharField(), help_text="已记录的模板 ID")
    available = serializers.DictField(
        child=serializers.IntegerField(), help_text="每个模板当前可用（未使用）的授权次数"
    )


class SubscriptionsView(APIView):
    @extend_schema(
        operation_id="subscriptions_create",
        summary="记录订阅消息授权",
        description=(
            "小程序调用 wx.requestSubscribeMessage 后，把用户选择“允许”的模板 ID 提交到这里。"
            "每次授权可发送一条该模板的订阅消息（审核通过、驳回、签署完成、合同到期/终止等通知）；"
            "没有可用授权时改发短信。模板 ID 须是本平台已启用的订阅模板，否则为 400/40000，且不记录任何一条。"
        ),
        request=SubscriptionsInSerializer,
        responses={200: SubscriptionsOutSerializer},
        tags=["通知"],
    )
    def post(self, request):
        serializer = SubscriptionsInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        result = services.subscriptions_accept(
            user=request.user, template_ids=serializer.validated_data["template_ids"]
        )
        return Response(SubscriptionsOutSerializer(result).data)
