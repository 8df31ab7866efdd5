"""
``DeletionRequest`` — a person's request to delete their personal information (SPEC §13, PIPL
art. 47), what staff decided and what was done. One open (待处理) request per person at a time.

The row outlives the data it asked to delete: after a full deletion ``user`` is null and only the
platform, the dates, the decision and the counts remain (no name, phone or ID number). The phone
the outcome notice goes to is kept encrypted in ``notice_phone`` until that SMS is delivered.
"""

from django.conf import settings
from django.db import models

from shanqian.fields import EncryptedCharField

NOTICE_PHONE_PURPOSE = "deletion-notice-phone"


class DeletionStatus(models.TextChoices):
    PENDING = "pending", "待处理"
    DONE = "done", "已删除"
    PARTIAL = "partial", "已删除（依法保留部分）"
    REFUSED = "refused", "已拒绝"


OPEN_STATUSES = (DeletionStatus.PENDING,)


class DeletionRequest(models.Model):
    user = models.ForeignKey(
        "employees.WechatUser",
        verbose_name="小程序用户",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="deletion_requests",
        help_text="执行完全删除后为空。",
    )
    # "One open request per person", race-safe on every database: the user while the request is
    # open, null once decided. A unique nullable column (many NULLs allowed) works where partial
    # unique indexes do not (MariaDB).
    open_for = models.OneToOneField(
        "employees.WechatUser",
        verbose_name="待处理申请人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
        editable=False,
    )
    platform = models.ForeignKey("shanqian.Platform", verbose_name="平台", on_delete=models.PROTECT, related_name="+")
    status = models.CharField(
        "状态", max_length=16, choices=DeletionStatus.choices, default=DeletionStatus.PENDING, db_index=True
    )
    reason = models.CharField("申请原因", max_length=500, blank=True)
    requested_at = models.DateTimeField("申请时间", auto_now_add=True, db_index=True)
    ip = models.GenericIPAddressField("申请 IP", null=True, blank=True)
    user_agent = models.CharField("申请 User-Agent", max_length=512, blank=True)
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    refusal_reason = models.CharField("拒绝原因", max_length=256, blank=True)
    outcome = models.TextField("处理结果", blank=True, help_text="删除了什么、依法保留了什么（不含个人信息）。")
    deleted = models.JSONField("删除数量", default=dict, blank=True)
    retained_until = models.DateField(
        "保留至", null=True, blank=True, help_text="依法保留的劳动合同及其证据最早可删除的日期；合同履行中为空。"
    )
    retained_deleted_at = models.DateTimeField(
        "保留数据删除时间",
        null=True,
        blank=True,
        editable=False,
        help_text="保留期满后，定期清理删除依法保留数据的时间（signing.privacy.retention）。",
    )
    notice_phone = EncryptedCharField(
        "通知手机号", max_length=16, blank=True, purpose=NOTICE_PHONE_PURPOSE, editable=False
    )

    class Meta:
        verbose_name = "个人信息删除申请"
        verbose_name_plural = "个人信息删除申请"
        ordering = ["-requested_at", "-id"]

    def __str__(self):
        return f"删除申请 #{self.pk}（{self.get_status_display()}）"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_STATUSES
