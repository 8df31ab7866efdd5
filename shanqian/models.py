"""Back-office accounts (the seed's 管理员信息) and mini-program platforms."""

from django.contrib.auth.models import AbstractUser
from django.db import models


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
