"""
Notification settings kept in the back office, and the worker's subscribe acceptances.

* ``SubscribeTemplate`` — per platform and worker-notice kind: the WeChat template id, the page a
  tap opens, and the mapping of our values to the template's keys (validated by
  ``subscribe.clean_mapping``).
* ``SubscribeAcceptance`` — one ``wx.requestSubscribeMessage`` acceptance of one template by one
  user (``POST /api/subscriptions``); one acceptance allows one message, so sending marks it used.
* ``WebhookEndpoint`` — a downstream HR system: URL (SSRF-checked), secret (write-only in the
  admin), the events it wants, whether it gets personal data.
* ``WecomRobot`` — a 企业微信 group robot that hears of a handler's or a company's applications.
"""

from django.conf import settings
from django.core.exceptions import ValidationError
from django.db import models

from shanqian.outbound import UnsafeUrl, check_url

from .catalog import WebhookEvent, WorkerNotice
from .subscribe import clean_mapping
from .wecom import WecomUrlError, clean_robot_url


class SubscribeTemplate(models.Model):
    class State(models.TextChoices):
        FORMAL = "formal", "正式版"
        TRIAL = "trial", "体验版"
        DEVELOPER = "developer", "开发版"

    platform = models.ForeignKey(
        "shanqian.Platform", verbose_name="平台", on_delete=models.CASCADE, related_name="subscribe_templates"
    )
    kind = models.CharField("通知类型", max_length=32, choices=WorkerNotice.choices)
    template_id = models.CharField("模板 ID", max_length=64)
    title = models.CharField("模板标题", max_length=32, blank=True, help_text="小程序后台中的模板标题，仅供辨认。")
    page = models.CharField(
        "跳转页面", max_length=128, blank=True, help_text="点击消息打开的小程序页面，例如 pages/index/index。"
    )
    mapping = models.JSONField("字段映射", default=dict)
    miniprogram_state = models.CharField("跳转小程序版本", max_length=16, choices=State.choices, default=State.FORMAL)
    enabled = models.BooleanField("启用", default=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "订阅消息模板"
        verbose_name_plural = "订阅消息模板"
        ordering = ["platform", "kind"]
        constraints = [models.UniqueConstraint(fields=["platform", "kind"], name="subscribe_template_platform_kind")]

    def __str__(self):
        return f"{self.get_kind_display()}（{self.template_id}）"

    def clean(self):
        if self.mapping is None:  # missing: the field's own check reports it
            return
        try:
            self.mapping = clean_mapping(self.mapping, kind=self.kind)
        except ValidationError as exc:
            raise ValidationError({"mapping": exc.messages}) from None


class SubscribeAcceptance(models.Model):
    user = models.ForeignKey(
        "employees.WechatUser", verbose_name="用户", on_delete=models.CASCADE, related_name="subscribe_acceptances"
    )
    template_id = models.CharField("模板 ID", max_length=64)
    accepted_at = models.DateTimeField("同意时间", auto_now_add=True)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    message = models.ForeignKey(
        "shanqian.OutboxMessage",
        verbose_name="所发消息",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )

    class Meta:
        verbose_name = "订阅授权"
        verbose_name_plural = "订阅授权"
        ordering = ["-accepted_at", "-id"]
        indexes = [models.Index(fields=["user", "template_id", "used_at"], name="subscribe_accept_unused")]

    def __str__(self):
        return f"{self.template_id} @ {self.accepted_at:%Y-%m-%d %H:%M}"


class WebhookEndpoint(models.Model):
    platform = models.ForeignKey(
        "shanqian.Platform", verbose_name="平台", on_delete=models.CASCADE, related_name="webhook_endpoints"
    )
    name = models.CharField("名称", max_length=64, help_text="接收方，例如 “集团 HR 系统”。")
    url = models.CharField("回调地址", max_length=500)
    # Never rendered back: the admin form shows a write-only input.
    secret = models.CharField("签名密钥", max_length=128)
    events = models.JSONField("订阅事件", default=list)
    include_personal_data = models.BooleanField(
        "包含个人信息", default=False, help_text="默认只发送编号和状态；勾选后附带签约人姓名和手机号。"
    )
    enabled = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "Webhook"
        verbose_name_plural = "Webhook"
        ordering = ["platform", "id"]

    def __str__(self):
        return f"{self.name}（{self.platform.code}）" if self.platform_id else self.name

    def clean(self):
        errors = {}
        try:
            self.url = check_url(self.url, allow_private=settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES)
        except UnsafeUrl as exc:
            errors["url"] = [str(exc)]
        unknown = [event for event in (self.events or []) if event not in WebhookEvent.values]
        if not isinstance(self.events, list) or not self.events:
            errors["events"] = ["请至少选择一个事件。"]
        elif unknown:
            errors["events"] = [f"未知的事件：{'、'.join(map(str, unknown))}。"]
        if errors:
            raise ValidationError(errors)


class WecomRobot(models.Model):
    name = models.CharField("名称", max_length=64, help_text="例如 “甲公司招聘群”。")
    handler = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="wecom_robots",
        help_text="该处理人的新申请与签署通知发到此群。与“用人单位”二选一。",
    )
    company = models.ForeignKey(
        "contracts.Company",
        verbose_name="用人单位",
        null=True,
        blank=True,
        on_delete=models.CASCADE,
        related_name="+",
        help_text="该用人单位的新申请与签署通知发到此群。与“处理人”二选一。",
    )
    # The key in the URL is the robot's credential: write-only in the admin.
    url = models.CharField("机器人 Webhook 地址", max_length=300)
    enabled = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)

    class Meta:
        verbose_name = "企业微信群机器人"
        verbose_name_plural = "企业微信群机器人"
        ordering = ["id"]
        constraints = [
            models.CheckConstraint(
                condition=models.Q(handler__isnull=True, company__isnull=False)
                | models.Q(handler__isnull=False, company__isnull=True),
                name="wecom_robot_handler_xor_company",
            )
        ]

    def __str__(self):
        return self.name

    def clean(self):
        errors = {}
        if (self.handler_id is None) == (self.company_id is None):
            errors["handler"] = ["请在“处理人”和“用人单位”中选择且只选择一项。"]
        try:
            self.url = clean_robot_url(self.url)
        except WecomUrlError as exc:
            errors["url"] = [str(exc)]
        if errors:
            raise ValidationError(errors)
