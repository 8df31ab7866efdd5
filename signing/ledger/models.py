"""
The employment contract record (劳动合同台账, SPEC §12) and the reminders sent about it.

* ``EmploymentContract`` — made when an application is signed: who (worker, company, handler),
  the terms copied at signing (so a later change of the application or the template never moves a
  signed term), the status, and the documents: the sealed contract, and the proof of ending
  (证明书, art. 50) once it ended. A renewal (续签) is a new record whose ``previous`` is the old one;
  the application that renews it is ``renewal_application`` on the old record until it is signed.
* ``ContractReminder`` — one row per contract and threshold once its reminder was sent
  (``unique(contract, kind, days)``): the daily task never tells anybody twice.

Status changes only through ``signing.ledger.services``.
"""

from django.conf import settings
from django.db import models

from contracts.terms import TermType, WorkingHours

__all__ = ["ContractReminder", "ContractStatus", "EmploymentContract", "EndGround", "TermType", "WorkingHours"]


class ContractStatus(models.IntegerChoices):
    ACTIVE = 1, "生效中"
    EXPIRED = 2, "已到期"
    RENEWED = 3, "已续签"
    TERMINATED = 4, "已终止"
    DISSOLVED = 5, "已解除"


# A record in one of these may still be renewed or ended; the others are closed.
OPEN_CONTRACT_STATUSES = (ContractStatus.ACTIVE, ContractStatus.EXPIRED)


class EndGround(models.TextChoices):
    """The legal grounds of SPEC §12; ``EXPIRY`` and ``OTHER`` end (终止), the articles dissolve (解除)."""

    EXPIRY = "expiry", "劳动合同期满终止（第四十四条）"
    MUTUAL = "art36", "协商一致解除（第三十六条）"
    WORKER_NOTICE = "art37", "劳动者提前通知解除（第三十七条）"
    WORKER_IMMEDIATE = "art38", "劳动者即时解除（第三十八条）"
    MISCONDUCT = "art39", "过失性辞退（第三十九条）"
    NO_FAULT = "art40", "无过失性辞退（第四十条）"
    REDUNDANCY = "art41", "经济性裁员（第四十一条）"
    OTHER = "other", "其他"


TERMINATING_GROUNDS = frozenset({EndGround.EXPIRY, EndGround.OTHER})


class EmploymentContract(models.Model):
    application = models.OneToOneField(
        "signing.SignApplication",
        verbose_name="签约申请",
        on_delete=models.PROTECT,
        related_name="employment_contract",
    )
    employee = models.ForeignKey(
        "employees.Employee",
        verbose_name="劳动者",
        on_delete=models.PROTECT,
        related_name="employment_contracts",
        db_index=False,  # emp_contract_employee leads with it
    )
    company = models.ForeignKey(
        "contracts.Company", verbose_name="用人单位", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    ad_user = models.ForeignKey(
        settings.AUTH_USER_MODEL, verbose_name="处理人", on_delete=models.PROTECT, related_name="+", db_index=False
    )
    work_pos = models.CharField("岗位", max_length=16)
    work_location = models.CharField("工作地点", max_length=128, blank=True)
    working_hours = models.CharField("工时制度", max_length=16, choices=WorkingHours.choices, blank=True)
    salary = models.DecimalField("薪资", max_digits=15, decimal_places=2, default=0)
    term_type = models.CharField("合同期限类型", max_length=16, choices=TermType.choices, default=TermType.FIXED)
    start_date = models.DateField("合同起始日")
    end_date = models.DateField("合同终止日", null=True, blank=True, help_text="无固定期限合同为空。")
    probation_months = models.PositiveSmallIntegerField("试用期（月）", default=0)
    probation_end = models.DateField("试用期截止日", null=True, blank=True)
    status = models.PositiveSmallIntegerField("合同状态", choices=ContractStatus.choices, default=ContractStatus.ACTIVE)
    document = models.ForeignKey(
        "signing.SignedDocument",
        verbose_name="已签署文件",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
        help_text="线下签约的合同没有电子签署文件。",
    )
    previous = models.OneToOneField(
        "self", verbose_name="续签自", null=True, blank=True, on_delete=models.PROTECT, related_name="renewed_by"
    )
    # The pending renewal (an application in 2 待签约) until it is signed or dropped.
    renewal_application = models.OneToOneField(
        "signing.SignApplication",
        verbose_name="续签申请",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="renews",
    )
    ended_on = models.DateField("终止/解除日期", null=True, blank=True)
    end_ground = models.CharField("终止/解除事由", max_length=8, choices=EndGround.choices, blank=True)
    end_note = models.CharField("终止/解除说明", max_length=512, blank=True)
    ended_at = models.DateTimeField("办理时间", null=True, blank=True)
    ended_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="办理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    proof_file = models.FileField("解除（终止）劳动合同证明书", max_length=128, blank=True)
    proof_sha256 = models.CharField("证明书 SHA-256", max_length=64, blank=True)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "劳动合同"
        verbose_name_plural = "劳动合同台账"
        db_table = "employment_contract"
        ordering = ["-id"]
        # The ledger filters by status and by the end of the term (the reminders, "ending within N
        # days"), a handler's ledger always by ad_user, the worker API by employee.
        indexes = [
            # (…, id): the daily run reads the due records in this order, a batch at a time (keyset).
            models.Index(fields=["status", "end_date", "id"], name="emp_contract_status_end_id"),
            models.Index(fields=["status", "probation_end", "id"], name="emp_contract_status_prob_id"),
            models.Index(fields=["ad_user", "status", "end_date"], name="emp_contract_handler_end"),
            models.Index(fields=["company", "status", "end_date"], name="emp_contract_company_end"),
            models.Index(fields=["employee", "-start_date"], name="emp_contract_employee"),
            models.Index(fields=["ended_on"], name="emp_contract_ended_on"),
        ]

    def __str__(self):
        return f"劳动合同 #{self.pk}（{self.get_status_display()}）"

    @property
    def is_open(self) -> bool:
        return self.status in OPEN_CONTRACT_STATUSES


class ContractReminder(models.Model):
    class Kind(models.TextChoices):
        EXPIRY = "expiry", "合同即将到期"
        PROBATION = "probation", "试用期即将届满"

    contract = models.ForeignKey(
        EmploymentContract, verbose_name="劳动合同", on_delete=models.CASCADE, related_name="reminders", db_index=False
    )
    kind = models.CharField("提醒类型", max_length=16, choices=Kind.choices)
    days = models.PositiveSmallIntegerField("提前天数")
    due_date = models.DateField("到期日")
    sent_at = models.DateTimeField("发送时间", auto_now_add=True)

    class Meta:
        verbose_name = "合同提醒"
        verbose_name_plural = "合同提醒"
        ordering = ["-sent_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["contract", "kind", "days"], name="contract_reminder_once"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()}（提前 {self.days} 天）"
