"""
The signing application (seed table ``sign_apply``), its audit events and the
sealed document. Status changes only through ``signing.services.applications``.
"""

from django.conf import settings
from django.db import models

from contracts.terms import TermType, WorkingHours


class SignStatus(models.IntegerChoices):
    """Seed §2.1.3."""

    APPLIED = 1, "签约申请"
    AWAITING_SIGNATURE = 2, "待签约"
    SIGNED = 3, "已签约"
    REJECTED = 4, "已驳回"
    CANCELLED = 5, "已取消"


class SignApplication(models.Model):
    em = models.ForeignKey(
        "employees.Employee", verbose_name="签约人", on_delete=models.PROTECT, related_name="applications"
    )
    ad_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", on_delete=models.PROTECT, related_name="sign_applications"
    )
    company = models.ForeignKey(
        "contracts.Company", verbose_name="用人单位", on_delete=models.PROTECT, related_name="+"
    )
    work_pos = models.CharField("岗位", max_length=16)
    entry_date = models.DateField("入职日期", null=True, blank=True)
    contract = models.ForeignKey(
        "contracts.Contract", verbose_name="合同", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    salary = models.DecimalField("薪资", max_digits=15, decimal_places=2, default=0)
    # The terms agreed at 审核通过 (contracts.terms; docs/contract-documents.md): the contract names
    # them (art. 17) and the ledger (SPEC §12) reads them back.
    term_type = models.CharField("合同期限类型", max_length=16, choices=TermType.choices, blank=True)
    end_date = models.DateField("合同终止日期", null=True, blank=True)
    probation_months = models.PositiveSmallIntegerField("试用期（月）", default=0)
    probation_end = models.DateField("试用期截止日期", null=True, blank=True)
    work_location = models.CharField("工作地点", max_length=128, blank=True)
    working_hours = models.CharField("工时制度", max_length=16, choices=WorkingHours.choices, blank=True)
    # The personalised contract generated at approval (signing.documents): what the worker reads
    # (GET /api/sign/contract) and signs; regenerated when its inputs (``contract_document_inputs``,
    # a digest of the template, its placements and the values) change before signing.
    contract_document = models.FileField("个性化合同文件", max_length=128, blank=True)
    contract_document_sha256 = models.CharField("个性化合同 SHA-256", max_length=64, blank=True)
    contract_document_inputs = models.CharField("生成依据摘要", max_length=64, blank=True, editable=False)
    apply_time = models.DateTimeField("申请时间", auto_now_add=True)
    status = models.PositiveSmallIntegerField("签约状态", choices=SignStatus.choices, default=SignStatus.APPLIED)
    reason = models.CharField("驳回原因", max_length=256, blank=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "签约申请"
        verbose_name_plural = "签约申请"
        db_table = "sign_apply"
        ordering = ["-apply_time", "-id"]
        # The back office lists newest first, filtered by status, handler, company and date;
        # a handler's list is always filtered by ad_user. Search by name/phone/ID number goes
        # through the employee's indexes (phone, id_number unique, real_name).
        indexes = [
            models.Index(fields=["status", "apply_time"], name="sign_apply_status_time"),
            models.Index(fields=["ad_user", "status", "apply_time"], name="sign_apply_handler_status"),
            # The start page's 30-day chart and funnel count (apply_time, status, contract) from
            # the index alone (an index-only scan), for everybody and for one handler.
            models.Index(fields=["ad_user", "apply_time", "status", "contract"], name="sign_apply_handler_funnel"),
            models.Index(fields=["company", "status", "apply_time"], name="sign_apply_company_status_time"),
            models.Index(fields=["apply_time", "status", "contract"], name="sign_apply_time_funnel"),
            models.Index(fields=["em", "-apply_time"], name="sign_apply_em_latest"),
            # The work-queue indexes (WORK_QUEUE_ORDERING) are PostgreSQL-only expression indexes
            # created by migration 0003_scale_indexes: SQLite refuses NULLS LAST in an index and
            # MariaDB has no expression indexes, so they are not declared here.
        ]

    def __str__(self):
        return f"#{self.pk} {self.get_status_display()}"


class SignEvent(models.Model):
    """An audit event: a status transition, or a non-transition fact such as 'contract viewed'."""

    class Kind(models.TextChoices):
        TRANSITION = "transition", "状态变更"
        VIEWED = "viewed", "查看合同"
        NOTE = "note", "备注"
        # The signing evidence of SPEC §10, written in the signing transaction.
        INTENT_SENT = "intent_sent", "发送签署验证码"
        INTENT_ACCEPTED = "intent_ok", "签署验证码验证通过"
        SIGNATURE = "signature", "提交手写签名"
        EVENT_CERT = "event_cert", "签发事件证书"
        SEAL_APPLIED = "seal_applied", "加盖单位印章"
        TIMESTAMP = "timestamp", "加盖可信时间戳"
        SEALED = "sealed", "签署文件封存"
        EVIDENCE = "evidence", "导出出证包"

    # Indexed by ``sign_event_app_time`` (application first), which also serves the foreign key.
    application = models.ForeignKey(
        SignApplication, verbose_name="签约申请", on_delete=models.CASCADE, related_name="events", db_index=False
    )
    kind = models.CharField("事件类型", max_length=16, choices=Kind.choices, default=Kind.TRANSITION)
    from_status = models.PositiveSmallIntegerField("原状态", choices=SignStatus.choices, null=True, blank=True)
    to_status = models.PositiveSmallIntegerField("新状态", choices=SignStatus.choices, null=True, blank=True)
    actor_user = models.ForeignKey(
        "employees.WechatUser",
        verbose_name="操作人（员工）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    actor_staff = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人（后台）",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("时间", auto_now_add=True)
    ip = models.GenericIPAddressField("IP", null=True, blank=True)
    user_agent = models.CharField("User-Agent", max_length=512, blank=True)
    lng = models.DecimalField("经度", max_digits=10, decimal_places=6, null=True, blank=True)
    lat = models.DecimalField("纬度", max_digits=9, decimal_places=6, null=True, blank=True)
    city = models.CharField("城市", max_length=64, blank=True)
    note = models.CharField("原因/备注", max_length=512, blank=True)
    # For VIEWED events: the SHA-256 of the contract file the employee was shown.
    document_sha256 = models.CharField("文件 SHA-256", max_length=64, blank=True)
    # The machine-readable facts of an evidence event (serials, authorities, digests) for audit.json.
    data = models.JSONField("详情", default=dict, blank=True)

    class Meta:
        verbose_name = "签约事件"
        verbose_name_plural = "签约事件"
        ordering = ["created_at", "id"]
        indexes = [models.Index(fields=["application", "created_at"], name="sign_event_app_time")]

    def __str__(self):
        return f"{self.get_kind_display()} {self.created_at:%Y-%m-%d %H:%M:%S}"

    @property
    def actor_display(self) -> str:
        if self.actor_staff_id:
            return f"后台：{self.actor_staff}"
        if self.actor_user_id:
            return "员工本人"
        return "系统"


class SignedDocument(models.Model):
    """The sealed, digitally signed PDF of a signed application."""

    application = models.OneToOneField(
        SignApplication, verbose_name="签约申请", on_delete=models.PROTECT, related_name="document"
    )
    file = models.FileField("已签署文件", max_length=128)
    sha256 = models.CharField("文件 SHA-256", max_length=64, unique=True)
    size = models.PositiveIntegerField("大小（字节）")
    contract_sha256 = models.CharField("合同文件 SHA-256", max_length=64)
    signature = models.ForeignKey(
        "employees.Upload", verbose_name="手写签名", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    signature_sha256 = models.CharField("签名图片 SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField("签署时间", auto_now_add=True)

    class Meta:
        verbose_name = "已签署文件"
        verbose_name_plural = "已签署文件"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.application} {self.sha256[:12]}"


# The tables of the app's parts, registered here: the contract ledger (signing/ledger/models.py),
# notification settings and subscribe acceptances (signing/notifications/models.py), the PKI's
# certificates and revocation lists (signing/pki/models.py), deletion requests (signing/privacy/models.py).
from .ledger.models import ContractReminder, EmploymentContract  # noqa: E402, F401
from .notifications.models import SubscribeAcceptance, SubscribeTemplate, WebhookEndpoint, WecomRobot  # noqa: E402, F401
from .pki.models import PkiCertificate, RevocationList  # noqa: E402, F401
from .privacy.models import DeletionRequest  # noqa: E402, F401
