"""
Back-office pages of notifications: subscribe templates per platform, webhooks (secret
write-only, recent deliveries with their response codes), 企业微信 group robots (URL write-only,
its key is a credential), and the subscribe acceptances (read-only).

Validation lives in the models' ``clean`` (the mapping, the SSRF guard, the robot URL), which the
admin forms run before anything is saved: a bad mapping or URL is a form error, nothing half-saved.
"""

from __future__ import annotations

from django import forms
from django.contrib import admin
from django.core.exceptions import ValidationError
from django.urls import reverse
from django.utils.html import format_html, format_html_join

from shanqian.models import OutboxMessage

from . import catalog, subscribe
from .channels import WEBHOOK
from .models import SubscribeAcceptance, SubscribeTemplate, WebhookEndpoint, WecomRobot

RECENT_DELIVERIES = 20


def _vocabulary_help() -> str:
    rows = "；".join(f"{key}（{value.label}）" for key, value in catalog.VALUES.items())
    return (
        "每行一个：模板字段=取值，例如 thing1=company_name。模板字段取自小程序后台的模板详情（thing、phrase、"
        f"time、character_string… 加序号），取值可选：{rows}。各类通知可用的取值见文档 docs/notifications.md。"
    )


class SubscribeTemplateForm(forms.ModelForm):
    mapping = forms.CharField(label="字段映射", widget=forms.Textarea(attrs={"rows": 6, "cols": 60}))

    class Meta:
        model = SubscribeTemplate
        fields = ("platform", "kind", "template_id", "title", "page", "mapping", "miniprogram_state", "enabled")

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.fields["mapping"].help_text = _vocabulary_help()
        if self.instance.pk and not self.is_bound:
            self.initial["mapping"] = subscribe.mapping_text(self.instance.mapping)

    def clean_mapping(self):
        return subscribe.parse_mapping_text(self.cleaned_data["mapping"])

    def _post_clean(self):
        if "mapping" in self.errors:
            # Already reported by the field: the model's check of the mapping would only repeat it.
            self.instance.mapping = None
        super()._post_clean()

    def clean_template_id(self):
        value = self.cleaned_data["template_id"].strip()
        if not value.replace("-", "").replace("_", "").isalnum() or not value.isascii():
            raise ValidationError("模板 ID 只能包含字母、数字、- 和 _。")
        return value

    def clean_page(self):
        page = self.cleaned_data["page"].strip()
        if page and (page.startswith(("http:", "https:", "/")) or " " in page or not page.isascii()):
            raise ValidationError("请填写小程序内的页面路径，例如 pages/index/index（可带 ?参数）。")
        return page


@admin.register(SubscribeTemplate)
class SubscribeTemplateAdmin(admin.ModelAdmin):
    form = SubscribeTemplateForm
    list_display = ("platform", "kind", "template_id", "title", "page", "enabled", "updated_at")
    list_filter = ("platform", "kind", "enabled")
    list_select_related = ("platform",)
    search_fields = ("template_id", "title")


class WebhookEndpointForm(forms.ModelForm):
    events = forms.MultipleChoiceField(
        label="订阅事件", choices=catalog.WebhookEvent.choices, widget=forms.CheckboxSelectMultiple
    )
    # Write-only: never rendered back into the page.
    secret = forms.CharField(
        label="签名密钥",
        required=False,
        strip=True,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "new-password"}),
        help_text='至少 16 个字符，例如 python -c "import secrets; print(secrets.token_hex(32))" 的输出。'
        "接收方用它校验 X-Shanqian-Signature。修改时留空表示不修改。",
    )

    class Meta:
        model = WebhookEndpoint
        fields = ("platform", "name", "url", "secret", "events", "include_personal_data", "enabled")

    def clean_secret(self):
        secret = self.cleaned_data["secret"]
        if not secret:
            if self.instance.pk and self.instance.secret:
                return self.instance.secret
            raise ValidationError("请填写签名密钥。")
        if len(secret) < 16:
            raise ValidationError("签名密钥至少 16 个字符。")
        if len(secret) > 128 or not secret.isascii():
            raise ValidationError("签名密钥最多 128 个 ASCII 字符。")
        return secret


@admin.register(WebhookEndpoint)
class WebhookEndpointAdmin(admin.ModelAdmin):
    form = WebhookEndpointForm
    list_display = ("name", "platform", "url", "event_labels", "include_personal_data", "enabled", "updated_at")
    list_filter = ("platform", "enabled")
    list_select_related = ("platform",)
    search_fields = ("name", "url")
    readonly_fields = ("recent_deliveries",)

    def get_fields(self, request, obj=None):
        fields = ["platform", "name", "url", "secret", "events", "include_personal_data", "enabled"]
        return [*fields, "recent_deliveries"] if obj is not None else fields

    @admin.display(description="订阅事件")
    def event_labels(self, endpoint):
        labels = dict(catalog.WebhookEvent.choices)
        return "、".join(labels.get(event, event) for event in endpoint.events or [])

    @admin.display(description="最近投递")
    def recent_deliveries(self, endpoint):
        deliveries = list(
            OutboxMessage.objects.filter(channel=WEBHOOK, payload__endpoint_id=endpoint.pk)
            .order_by("-id")
            .only("pk", "summary", "state", "attempts", "last_response_code", "created_at", "delivered_at")[
                :RECENT_DELIVERIES
            ]
        )
        if not deliveries:
            return "暂无投递"
        rows = format_html_join(
            "",
            '<tr><td><a href="{}">#{}</a></td><td>{}</td><td>{}</td><td>{}</td><td>{}</td><td>{}</td></tr>',
            (
                (
                    reverse("admin:shanqian_outboxmessage_change", args=[d.pk]),
                    d.pk,
                    d.summary,
                    d.get_state_display(),
                    d.attempts,
                    d.last_response_code or "-",
                    f"{d.delivered_at:%Y-%m-%d %H:%M:%S}" if d.delivered_at else "-",
                )
                for d in deliveries
            ),
        )
        outbox_url = reverse("admin:shanqian_outboxmessage_changelist") + f"?channel={WEBHOOK}"
        return format_html(
            '<table class="sq-table"><thead><tr><th>投递</th><th>内容</th><th>状态</th><th>尝试</th><th>响应码</th>'
            '<th>送达时间</th></tr></thead><tbody>{}</tbody></table><p><a href="{}">全部投递记录（可重新投递）</a></p>',
            rows,
            outbox_url,
        )


class WecomRobotForm(forms.ModelForm):
    url = forms.CharField(
        label="机器人 Webhook 地址",
        required=False,
        widget=forms.PasswordInput(render_value=False, attrs={"autocomplete": "off"}),
        help_text="企业微信群 → 群机器人 → 复制 Webhook 地址（https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=…）。"
        "地址中的 key 相当于密码；修改时留空表示不修改。",
    )

    class Meta:
        model = WecomRobot
        fields = ("name", "handler", "company", "url", "enabled")

    def clean_url(self):
        url = self.cleaned_data["url"].strip()
        if not url and self.instance.pk:
            return self.instance.url
        if not url:
            raise ValidationError("请填写机器人 Webhook 地址。")
        return url


@admin.register(WecomRobot)
class WecomRobotAdmin(admin.ModelAdmin):
    form = WecomRobotForm
    list_display = ("name", "handler", "company", "masked_url", "enabled", "created_at")
    list_filter = ("enabled",)
    list_select_related = ("handler", "company")
    search_fields = ("name",)

    @admin.display(description="Webhook 地址")
    def masked_url(self, robot):
        key = robot.url.rsplit("key=", 1)[-1]
        return f"…?key={key[:4]}****" if key else "-"


@admin.register(SubscribeAcceptance)
class SubscribeAcceptanceAdmin(admin.ModelAdmin):
    list_display = ("id", "user", "template_id", "accepted_at", "used_at", "message_id")
    list_filter = (("used_at", admin.EmptyFieldListFilter),)
    list_select_related = ("user__platform",)
    search_fields = ("=template_id",)
    readonly_fields = ("user", "template_id", "accepted_at", "used_at", "message")

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
