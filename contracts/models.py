"""Employers (用人单位), their positions (岗位) and contract templates (合同模板)."""

import uuid

from django.conf import settings
from django.db import models
from django.utils import timezone

from shanqian.text import validate_name, validate_text


class EnabledStatus(models.IntegerChoices):
    """Seed §2.1.2: 0 未启用, 1 启用."""

    DISABLED = 0, "未启用"
    ENABLED = 1, "启用"


class Company(models.Model):
    company_name = models.CharField("用人单位名称", max_length=64, unique=True, validators=[validate_name])
    # The employer's particulars a labour contract must name (劳动合同法 art. 17(一), SPEC §9).
    credit_code = models.CharField("统一社会信用代码", max_length=18, blank=True)
    company_address = models.CharField("住所", max_length=128, blank=True, validators=[validate_text])
    legal_representative = models.CharField(
        "法定代表人或主要负责人", max_length=32, blank=True, validators=[validate_name]
    )
    # Staff chose "保存（校验位不符）" for an early pilot code that fails the GB 32100 check.
    credit_code_unchecked = models.BooleanField("信用代码校验位不符（已人工核实）", default=False)
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

    def particulars_missing(self) -> list[str]:
        """The art. 17(一) particulars still blank, by their Chinese names (empty when complete)."""
        return [
            label
            for name, label in (
                ("credit_code", "统一社会信用代码"),
                ("company_address", "住所"),
                ("legal_representative", "法定代表人或主要负责人"),
            )
            if not (getattr(self, name) or "").strip()
        ]


class WorkPosition(models.Model):
    """A position offered by a company (seed ``work_pos`` varchar(16))."""

    company = models.ForeignKey(Company, verbose_name="用人单位", on_delete=models.CASCADE, related_name="positions")
    name = models.CharField("岗位名称", max_length=16, validators=[validate_name])
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
    return f"contracts/{uuid.uuid4().hex}.pdf"


class Contract(models.Model):
    """A contract template (seed §2.2.3). The PDF goes through the storage API; its SHA-256 is kept."""

    contract_name = models.CharField("合同名称", max_length=32, validators=[validate_text])
    contract_body = models.CharField("合同主体", max_length=32, validators=[validate_text])
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


def seal_upload_to(instance, filename):
    return f"seals/{uuid.uuid4().hex}.png"


def letter_upload_to(instance, filename):
    extension = filename.rsplit(".", 1)[-1].lower() if "." in filename else "pdf"
    return f"seal-letters/{uuid.uuid4().hex}.{extension}"


class CompanySeal(models.Model):
    """
    The company's electronic seal (电子印章, SPEC §9): one PNG with transparency per company, uploaded
    (checked by ``contracts.seals.seal_image_clean``) or generated (``contracts.seals.round_seal_png``).
    Write it through ``contracts.services.company_seal_save``; a replaced image's file is kept (signed
    documents carry their own copy, and the digest of the one they used).
    """

    class Source(models.TextChoices):
        UPLOADED = "uploaded", "上传"
        GENERATED = "generated", "系统生成"

    company = models.OneToOneField(Company, verbose_name="用人单位", on_delete=models.CASCADE, related_name="seal")
    image = models.FileField("印章图片", upload_to=seal_upload_to, max_length=128)
    sha256 = models.CharField("图片 SHA-256", max_length=64, editable=False)
    width = models.PositiveIntegerField("宽（像素）", editable=False)
    height = models.PositiveIntegerField("高（像素）", editable=False)
    source = models.CharField("来源", max_length=16, choices=Source.choices)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="操作人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "电子印章"
        verbose_name_plural = "电子印章"
        ordering = ["company_id"]

    def __str__(self):
        return f"{self.company}（{self.get_source_display()}）"


class SealAuthorisationQuerySet(models.QuerySet):
    def valid_at(self, at):
        """Authorisations in force at ``at``: begun, not ended, not revoked by then."""
        return self.filter(valid_from__lte=at, valid_until__gt=at).exclude(revoked_at__lte=at)


class SealAuthorisation(models.Model):
    """
    A seal authorisation (印章授权, SPEC §9): the employer authorises the automatic sealing of labour
    contracts with its company seal, from ``valid_from`` until ``valid_until`` (exclusive), until
    revoked. Without one in force, approval is refused for that company (``contracts.selectors
    .seal_authorisation_in_force``); every automatic use is an audit event naming ``label``.
    """

    company = models.ForeignKey(
        Company, verbose_name="用人单位", on_delete=models.PROTECT, related_name="seal_authorisations"
    )
    authoriser = models.CharField(
        "授权人", max_length=32, help_text="签署授权书的法定代表人或其授权的负责人。", validators=[validate_name]
    )
    valid_from = models.DateTimeField("生效时间")
    valid_until = models.DateTimeField("失效时间")
    letter = models.FileField("授权书扫描件", upload_to=letter_upload_to, max_length=128, blank=True)
    letter_sha256 = models.CharField("授权书 SHA-256", max_length=64, editable=False, blank=True)
    created_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="登记人",
        null=True,
        blank=True,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    created_at = models.DateTimeField("登记时间", auto_now_add=True)
    revoked_at = models.DateTimeField("撤销时间", null=True, blank=True, editable=False)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="撤销人",
        null=True,
        blank=True,
        editable=False,
        on_delete=models.SET_NULL,
        related_name="+",
    )
    revoke_reason = models.CharField("撤销原因", max_length=256, blank=True, editable=False, validators=[validate_text])

    objects = SealAuthorisationQuerySet.as_manager()

    class Meta:
        verbose_name = "印章授权"
        verbose_name_plural = "印章授权"
        ordering = ["company_id", "-valid_from", "-id"]
        indexes = [models.Index(fields=["company", "valid_until"], name="seal_auth_company_until")]

    def __str__(self):
        return self.label

    @property
    def label(self) -> str:
        """How the audit trail names it: 印章授权 #3（王建国授权，2026-01-01 至 2026-12-31）."""
        start = timezone.localtime(self.valid_from).date() if self.valid_from else "?"
        end = timezone.localtime(self.valid_until).date() if self.valid_until else "?"
        return f"印章授权 #{self.pk}（{self.authoriser}授权，{start} 至 {end}）"

    def in_force_at(self, at) -> bool:
        return self.valid_from <= at < self.valid_until and (self.revoked_at is None or self.revoked_at > at)

    def refusal_at(self, at) -> str:
        """Why it does not cover ``at`` (Chinese), or "" when it does."""
        if self.revoked_at is not None and self.revoked_at <= at:
            return f"{self.label}已于 {timezone.localtime(self.revoked_at):%Y-%m-%d %H:%M} 撤销"
        if at < self.valid_from:
            return f"{self.label}尚未生效"
        if at >= self.valid_until:
            return f"{self.label}已过期"
        return ""


class Placement(models.Model):
    """
    Where a value of the vocabulary (``contracts.placements.VOCABULARY``) goes on a template: page
    (1-based) and a box in PDF points, origin at the page's top-left corner.
    """

    class Source(models.TextChoices):
        ACROFORM = "acroform", "表单域"
        ANCHOR = "anchor", "关键字定位"
        MANUAL = "manual", "手动放置"

    contract = models.ForeignKey(Contract, verbose_name="合同模板", on_delete=models.CASCADE, related_name="placements")
    key = models.CharField("字段", max_length=32)
    page = models.PositiveSmallIntegerField("页码")
    x = models.FloatField("左边距（pt）")
    y = models.FloatField("上边距（pt）")
    width = models.FloatField("宽（pt）")
    height = models.FloatField("高（pt）")
    source = models.CharField("来源", max_length=16, choices=Source.choices, default=Source.MANUAL)
    anchor = models.CharField("定位关键字", max_length=32, blank=True, validators=[validate_text])

    class Meta:
        verbose_name = "字段位置"
        verbose_name_plural = "字段位置"
        ordering = ["contract_id", "page", "y", "x", "id"]
        indexes = [models.Index(fields=["contract", "page"], name="placement_contract_page")]

    def __str__(self):
        return f"{self.key} p.{self.page}"
