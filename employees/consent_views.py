"""
The consent endpoints (SPEC §13) and the public page of a policy's text. Thin: parse, call
``employees.consent``, shape the answer.

* ``GET /api/consents`` → ``{"policies": [{"scope","version","title","url"}],
  "given": [{"scope","version","given_at"}]}``
* ``POST /api/consents`` ``{"scope","version"}`` → the consent record ``{"scope","version","given_at"}``
* ``DELETE /api/consents/{scope}`` → ``null``
* ``GET /policies/<id>`` — the text of a published policy as an HTML page (public: it is what the
  mini-program shows before anyone consents).
"""

from django.http import Http404
from django.shortcuts import render
from django.urls import reverse
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework import serializers
from rest_framework.response import Response
from rest_framework.views import APIView

from shanqian.serializers import ApiSerializer, TextField

from . import consent
from .models import ConsentPolicy, ConsentScope

SCOPE_HELP = "privacy_policy（个人信息处理规则）或 sensitive_pi（敏感个人信息单独同意：身份证号、身份证照片、人脸）"


class ConsentInSerializer(ApiSerializer):
    scope = serializers.ChoiceField(
        choices=ConsentScope.choices,
        help_text=SCOPE_HELP,
        error_messages={"required": "请指明授权范围 scope。", "invalid_choice": "授权范围无效。"},
    )
    version = TextField(
        max_length=32,
        help_text="所同意规则的版本，必须是 GET /api/consents 返回的当前版本",
        error_messages={"required": "请提供规则版本 version。", "blank": "请提供规则版本 version。"},
    )


class PolicyOutSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=ConsentScope.choices, help_text=SCOPE_HELP)
    version = serializers.CharField(help_text="当前版本")
    title = serializers.CharField()
    url = serializers.CharField(help_text="规则全文页面")


class GivenOutSerializer(serializers.Serializer):
    scope = serializers.ChoiceField(choices=ConsentScope.choices)
    version = serializers.CharField(help_text="所同意的版本；与 policies 中的当前版本不同时需重新征得同意")
    given_at = serializers.DateTimeField()


class ConsentsOutSerializer(serializers.Serializer):
    policies = PolicyOutSerializer(many=True, help_text="本平台各授权范围的当前规则")
    given = GivenOutSerializer(many=True, help_text="本人尚未撤回的同意（每个范围最新一条）")


def policy_url(policy: ConsentPolicy, request=None) -> str:
    if policy.url:
        return policy.url
    path = reverse("consent-policy-text", args=[policy.pk])
    return request.build_absolute_uri(path) if request is not None else path


def _given(record) -> dict:
    return GivenOutSerializer({"scope": record.scope, "version": record.version, "given_at": record.given_at}).data


class ConsentsView(APIView):
    """``/api/consents``: what to consent to, what was consented to; consent."""

    @extend_schema(
        operation_id="consents_retrieve",
        summary="个人信息授权状态",
        description=(
            "policies 为本平台各授权范围的当前规则（标题、版本、全文链接）；given 为本人尚未撤回的同意。"
            "某范围不在 given 中，或 given 的版本与当前版本不同，就需要展示规则并征得同意。"
            "上传图片、提交/修改简历、提交实名认证需要当前版本的 sensitive_pi 同意，否则为 403/40302。"
        ),
        responses=ConsentsOutSerializer,
        tags=["个人信息"],
    )
    def get(self, request):
        policies = consent.policies_current(platform_id=request.user.platform_id)
        return Response(
            {
                "policies": [
                    {"scope": p.scope, "version": p.version, "title": p.title, "url": policy_url(p, request)}
                    for p in policies.values()
                ],
                "given": [_given(record) for record in consent.consents_given(user=request.user)],
            }
        )

    @extend_schema(
        operation_id="consents_create",
        summary="同意个人信息处理规则",
        description=(
            "记录本人对某一授权范围当前版本规则的同意（时间、IP、User-Agent、版本）。"
            "version 不是当前版本为 409/40900「规则已更新，请重新阅读」，data 带当前版本；"
            "平台未发布该范围的规则为 404/40400。重复同意同一版本返回原记录。"
        ),
        request=ConsentInSerializer,
        responses=GivenOutSerializer,
        tags=["个人信息"],
    )
    def post(self, request):
        serializer = ConsentInSerializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        record = consent.consent_give(user=request.user, client=request.client, **serializer.validated_data)
        return Response(_given(record))


class ConsentWithdrawView(APIView):
    """``DELETE /api/consents/{scope}``."""

    @extend_schema(
        operation_id="consents_destroy",
        summary="撤回个人信息授权",
        description=(
            "撤回本人对该授权范围的同意。撤回后停止相关处理：撤回 sensitive_pi 后不能再上传图片、"
            "提交或修改简历、提交实名认证（403/40302），后台人员可以看到撤回状态。未同意过也返回成功。"
            "授权范围无效为 404/40400。"
        ),
        parameters=[OpenApiParameter("scope", str, OpenApiParameter.PATH, enum=list(ConsentScope.values))],
        responses={200: OpenApiResponse({"type": "object", "nullable": True, "example": None}, description="成功")},
        tags=["个人信息"],
    )
    def delete(self, request, scope):
        consent.consent_withdraw(user=request.user, scope=scope, client=request.client)
        return Response(None)


def policy_text(request, pk: int):
    """The published text of one policy version (never a draft)."""
    policy = ConsentPolicy.objects.filter(pk=pk, published_at__isnull=False).select_related("platform").first()
    if policy is None:
        raise Http404("没有这个规则")
    response = render(request, "consent/policy.html", {"policy": policy})
    response["Cache-Control"] = "public, max-age=300"
    return response
