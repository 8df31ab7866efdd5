"""Employers (用人单位), their positions (岗位) and contract templates (合同模板)."""

from django.db import models


class EnabledStatus(models.IntegerChoices):
    """Seed §2.1.2: 0 未启用, 1 启用."""

    DISABLED = 0, "未启用"
    ENABLED = 1, "启用"


class Company(models.Model):
    company_name = models.CharField("用人单位名称", max_length=64, unique=True)
    # The employer's particulars a labour contract must name (劳动合同法 art. 17(一), SPEC §9).
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    company_address = models.CharField("住所", max_length=128, blank=True)
    legal_representative = models.CharField("法定代表人或主要负责人", max_length=32, blank=True)
    status = models.PositiveSmallIntegerField("状态", choices=EnabledStatus.choices, default=EnabledStatus.ENABLED)
    sort = models.PositiveIntegerField("排序", default=0)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "用人单位"
        verbose_name_plural = "用人单位"
        ordering = ["sort", "id"]

    def __str__(self):
        return self.company_name


class WorkPosition(models.Model):
    """A position offered by a company (seed ``work_pos`` varchar(16))."""

    company = models.ForeignKey(Company, verbose_name="用人单位", on_delete=models.CASCADE, related_name="positions")
    name = models.CharField("岗位名称", max_length=16)
    status = models.PositiveSmallIntegerField("状态", choices=EnabledStatus.choices, default=EnabledStatus.ENABLED)
    sort = models.PositiveIntegerField("排序", default=0)

    class Meta:
        verbose_name = "岗位"
        verbose_name_plural = "岗位"
        ordering = ["sort", "id"]
        constraints = [models.UniqueConstraint(fields=["company", "name"], name="work_position_company_name_unique")]

    def __str__(self):
        return f"{self.name}（{self.company}）"


def contract_upload_to(instance, filename):
    import uuid

    return f"contracts/{uuid.uuid4().hex}.pdf"


class Contract(models.Model):
    """A contract template (seed §2.2.3). The PDF goes through the storage API; its SHA-256 is kept."""

    contract_name = models.CharField("合同名称", max_length=32)
    contract_body = models.CharField("合同主体", max_length=32)
    company = models.ForeignKey(Company, verbose_name="用人单位", on_delete=models.PROTECT, related_name="contracts")
    sign_year = models.PositiveSmallIntegerField("合同年限")
    file = models.FileField("合同文件", upload_to=contract_upload_to, max_length=128)
    sha256 = models.CharField("文件 SHA-256", max_length=64, editable=False, blank=True)
    status = models.PositiveSmallIntegerField("状态", choices=EnabledStatus.choices, default=EnabledStatus.ENABLED)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "合同模板"
        verbose_name_plural = "合同模板"
        ordering = ["company", "id"]

    def __str__(self):
        return f"{self.contract_name}（{self.company}）"

    @property
    def file_url(self) -> str:
        """The seed's ``file_url``: the stored file's name (serve it through a signed link)."""
        return self.file.name
