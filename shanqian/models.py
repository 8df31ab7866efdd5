"""
Back-office accounts (the seed's 管理员信息), mini-program platforms, and the shared background
machinery's rows: the outbox (``shanqian.outbox``) and bulk jobs (``shanqian.bulk``).
"""

import uuid

from django.conf import settings
from django.contrib.auth.models import AbstractUser
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class AdminUser(AbstractUser):
    """A back-office account. The seed's ``status`` (0 禁用, 1 启用) is ``is_active``."""

    name = models.CharField("姓名", max_length=16, blank=True)
    phone = models.CharField("电话", max_length=16, blank=True)

    class Meta:
        verbose_name = "管理员"
        verbose_name_plural = "管理员"
        db_table = "admin_user"

    def __str__(self):
        return self.name or self.username

    @property
    def status(self) -> int:
        return 1 if self.is_active else 0

    @property
    def display_name(self) -> str:
        return self.name or self.get_full_name() or self.username


class Platform(models.Model):
    """A mini-program that talks to this backend, identified by ``X-platform-code``."""

    code = models.SlugField("平台标识", max_length=32, unique=True)
    name = models.CharField("平台名称", max_length=64)
    wechat_appid = models.CharField("小程序 AppID", max_length=64, blank=True)
    # Never rendered back: the admin form shows it as a write-only password input.
    wechat_secret = models.CharField("小程序 AppSecret", max_length=128, blank=True)
    enabled = models.BooleanField("启用", default=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "小程序平台"
        verbose_name_plural = "小程序平台"
        ordering = ["code"]

    def __str__(self):
        return f"{self.name}（{self.code}）"


class PersonalDataAccess(models.Model):
    """
    个人信息访问记录 (SPEC §13): a staff member saw personal data in full — revealed it on a page
    (显示完整信息) or exported it unmasked. Written by ``shanqian.pii_access``; nobody edits it.
    The record names the fields, never their values.
    """

    class Action(models.TextChoices):
        REVEAL = "reveal", "显示完整信息"
        EXPORT = "export", "导出完整信息"

    staff = models.ForeignKey(
        "shanqian.AdminUser", verbose_name="访问人", on_delete=models.PROTECT, related_name="personal_data_accesses"
    )
    action = models.CharField("操作", max_length=16, choices=Action.choices)
    accessed_at = models.DateTimeField("时间", auto_now_add=True, db_index=True)
    target_type = models.CharField("对象类型", max_length=64)
    target_id = models.CharField("对象编号", max_length=64, blank=True)
    target_repr = models.CharField("对象", max_length=128)
    fields = models.CharField("查看的信息", max_length=255)
    rows = models.PositiveIntegerField("条数", default=1)
    path = models.CharField("页面", max_length=255, blank=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    user_agent = models.CharField("User-Agent", max_length=512, blank=True)

    class Meta:
        verbose_name = "个人信息访问记录"
        verbose_name_plural = "个人信息访问记录"
        ordering = ["-accessed_at", "-id"]
        indexes = [
            models.Index(fields=["staff", "accessed_at"], name="pii_access_staff_time"),
            models.Index(fields=["target_type", "target_id"], name="pii_access_target"),
        ]

    def __str__(self):
        return f"{self.staff} {self.get_action_display()} {self.target_repr}"


class OutboxMessage(models.Model):
    """
    One piece of work that must not be lost: a notification or a webhook delivery (``shanqian.outbox``).

    Written in the transaction of the change that causes it; delivered by a task; retried with
    backoff until ``max_attempts`` or ``retry_until``; final in ``delivered`` or ``failed``.
    The payload holds ids and texts, never a phone or an ID number (handlers look them up).
    """

    class State(models.TextChoices):
        PENDING = "pending", "待发送"
        SENDING = "sending", "发送中"
        DELIVERED = "delivered", "已送达"
        FAILED = "failed", "已失败"

    channel = models.CharField("渠道", max_length=32)
    key = models.UUIDField("幂等键", default=uuid.uuid4, unique=True, editable=False)
    summary = models.CharField("内容", max_length=200)
    ref = models.CharField("关联对象", max_length=64, blank=True, db_index=True)
    payload = models.JSONField("参数", default=dict, encoder=DjangoJSONEncoder)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PENDING)
    attempts = models.PositiveIntegerField("已尝试次数", default=0)
    max_attempts = models.PositiveIntegerField("最多尝试次数")
    retry_until = models.DateTimeField("重试截止", null=True, blank=True)
    next_attempt_at = models.DateTimeField("下次尝试时间", default=timezone.now)
    # When a task for this row was last handed to the broker: the re-drive re-queues only rows whose
    # task should long have run.
    queued_at = models.DateTimeField("入队时间", default=timezone.now)
    lease_until = models.DateTimeField("占用至", null=True, blank=True)
    claim = models.UUIDField("占用标识", null=True, blank=True, editable=False)
    last_error = models.CharField("最后错误", max_length=500, blank=True)
    last_response_code = models.PositiveIntegerField("最后响应码", null=True, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    delivered_at = models.DateTimeField("送达时间", null=True, blank=True)

    class Meta:
        verbose_name = "待发消息"
        verbose_name_plural = "待发消息（发件箱）"
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["state", "next_attempt_at"], name="outbox_state_next"),
            models.Index(fields=["channel", "state"], name="outbox_channel_state"),
        ]

    def __str__(self):
        return f"#{self.pk} {self.summary}"


class OutboxAttempt(models.Model):
    """One delivery attempt of an outbox message: when, how long, what came back."""

    class Outcome(models.TextChoices):
        DELIVERED = "delivered", "成功"
        RETRY = "retry", "失败，将重试"
        FAILED = "failed", "失败，不再重试"
        INTERRUPTED = "interrupted", "中断（工作进程退出）"

    message = models.ForeignKey(
        OutboxMessage, verbose_name="消息", on_delete=models.CASCADE, related_name="attempt_log"
    )
    number = models.PositiveIntegerField("第几次")
    started_at = models.DateTimeField("开始时间")
    duration_ms = models.PositiveIntegerField("耗时（毫秒）", null=True, blank=True)
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices)
    response_code = models.PositiveIntegerField("响应码", null=True, blank=True)
    error = models.CharField("错误", max_length=500, blank=True)

    class Meta:
        verbose_name = "发送记录"
        verbose_name_plural = "发送记录"
        ordering = ["message", "number", "id"]

    def __str__(self):
        return f"#{self.message_id} 第 {self.number} 次：{self.get_outcome_display()}"


class BulkJob(models.Model):
    """A back-office action on many rows, run in the background (``shanqian.bulk``)."""

    class State(models.TextChoices):
        PENDING = "pending", "排队中"
        RUNNING = "running", "进行中"
        FINISHED = "finished", "已完成"

    action = models.CharField("操作", max_length=64)
    label = models.CharField("名称", max_length=64)
    params = models.JSONField("参数", default=dict, encoder=DjangoJSONEncoder)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="发起人", on_delete=models.PROTECT, related_name="+"
    )
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PENDING)
    total = models.PositiveIntegerField("行数")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    started_at = models.DateTimeField("开始时间", null=True, blank=True)
    finished_at = models.DateTimeField("完成时间", null=True, blank=True)
    queued_at = models.DateTimeField("入队时间", default=timezone.now)
    # Renewed by the runners while they work: a job whose lease ran out has lost its workers.
    lease_until = models.DateTimeField("占用至", null=True, blank=True)
    result_file = models.CharField("结果文件", max_length=200, blank=True)
    return_url = models.CharField("返回地址", max_length=500, blank=True)

    class Meta:
        verbose_name = "批量任务"
        verbose_name_plural = "批量任务"
        ordering = ["-id"]
        indexes = [models.Index(fields=["state", "lease_until"], name="bulkjob_state_lease")]

    def __str__(self):
        return f"{self.label}（{self.total} 条）#{self.pk}"


class BulkJobItem(models.Model):
    """One row of a bulk job; its state is written in the same transaction as the row's change."""

    class State(models.TextChoices):
        PENDING = "pending", "待处理"
        DONE = "done", "成功"
        FAILED = "failed", "失败"

    job = models.ForeignKey(BulkJob, verbose_name="批量任务", on_delete=models.CASCADE, related_name="items")
    object_id = models.PositiveBigIntegerField("记录编号")
    label = models.CharField("记录", max_length=100)
    state = models.CharField("状态", max_length=16, choices=State.choices, default=State.PENDING)
    message = models.CharField("结果说明", max_length=300, blank=True)
    processed_at = models.DateTimeField("处理时间", null=True, blank=True)

    class Meta:
        verbose_name = "批量任务行"
        verbose_name_plural = "批量任务行"
        ordering = ["job", "id"]
        constraints = [models.UniqueConstraint(fields=["job", "object_id"], name="bulkjobitem_job_object")]
        indexes = [models.Index(fields=["job", "state"], name="bulkjobitem_job_state")]

    def __str__(self):
        return f"{self.label}：{self.get_state_display()}"
