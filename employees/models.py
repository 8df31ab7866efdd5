"""
Mini-program identity and the resume.

``WechatUser`` is the seed's ``user_wechat``; ``Employee`` is the resume
(seed §2.2.1) with its education and work-history rows. Secrets (session
tokens, SMS codes) are stored only as SHA-256 digests.
"""

import uuid

from django.conf import settings
from django.core.validators import RegexValidator
from django.db import models

# The resume's coded fields take their choices from the dictionaries they are published in.
from dictionaries.reference import AccountType, Gender, MaritalStatus, PoliticalStatus
from shanqian import fieldcrypt
from shanqian.encrypted_storage import encrypted_storage
from shanqian.fields import BlindIndexField, EncryptedCharField
from shanqian.text import validate_name, validate_text

# The purpose (associated data and blind-index key) of every ID number column: one purpose, so the
# index of a number is the same in every table that holds it.
ID_NUMBER_PURPOSE = "id_number"


def id_number_index(number: str) -> str | None:
    """The blind index of an ID number as typed (spaces and a lower-case x forgiven)."""
    number = (number or "").strip().upper()
    return fieldcrypt.blind_index(number, purpose=ID_NUMBER_PURPOSE) if number else None


class IdNumberQuerySet(models.QuerySet):
    """Rows holding an encrypted ``id_number``: ``.by_id_number(n)`` is the only lookup by it."""

    def by_id_number(self, number: str):
        return self.filter(id_number_index=id_number_index(number))


class VerifyStatus(models.IntegerChoices):
    """Seed §3.1.2: 0 待实名, 1 实名中, 2 实名成功, 3 实名失败."""

    PENDING = 0, "待实名"
    VERIFYING = 1, "实名中"
    VERIFIED = 2, "实名成功"
    FAILED = 3, "实名失败"


class WechatUser(models.Model):
    """A WeChat user of one platform (seed table ``user_wechat``)."""

    platform = models.ForeignKey("shanqian.Platform", verbose_name="平台", on_delete=models.PROTECT)
    openid = models.CharField("OpenID", max_length=64)
    unionid = models.CharField("UnionID", max_length=64, blank=True)
    # WeChat's session_key must never leave the server (PROTOCOLS.md).
    session_key = models.CharField("会话密钥", max_length=128, blank=True, editable=False)
    verify_status = models.PositiveSmallIntegerField(
        "实名认证状态", choices=VerifyStatus.choices, default=VerifyStatus.PENDING, db_index=True
    )
    verify_reason = models.CharField("实名失败原因", max_length=256, blank=True)
    created_at = models.DateTimeField("注册时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)
    last_login_at = models.DateTimeField("最近登录", null=True, blank=True)

    class Meta:
        verbose_name = "小程序用户"
        verbose_name_plural = "小程序用户"
        db_table = "user_wechat"
        constraints = [models.UniqueConstraint(fields=["platform", "openid"], name="user_wechat_platform_openid")]

    def __str__(self):
        return f"{self.openid}（{self.platform.code}）" if self.platform_id else self.openid

    # DRF treats request.user as a user object.
    is_authenticated = True
    is_anonymous = False


class SessionToken(models.Model):
    """A login session of one device. Only the SHA-256 of the token is stored."""

    user = models.ForeignKey(WechatUser, verbose_name="用户", on_delete=models.CASCADE, related_name="tokens")
    digest = models.CharField("令牌摘要", max_length=64, unique=True, editable=False)
    created_at = models.DateTimeField("签发时间", auto_now_add=True)
    expires_at = models.DateTimeField("过期时间", db_index=True)
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    ip = models.GenericIPAddressField("登录 IP", null=True, blank=True)
    user_agent = models.CharField("User-Agent", max_length=512, blank=True)

    class Meta:
        verbose_name = "会话令牌"
        verbose_name_plural = "会话令牌"
        ordering = ["-created_at"]

    def __str__(self):
        return f"{self.user} @ {self.created_at:%Y-%m-%d %H:%M}"


def upload_to(instance, filename):
    # Random names: the stored path says nothing about the user or the original file.
    return f"uploads/{uuid.uuid4().hex[:2]}/{uuid.uuid4().hex}.{instance.extension}"


class Upload(models.Model):
    """An image uploaded through ``POST /api/image``: decoded, re-encoded, private to its owner."""

    class Format(models.TextChoices):
        JPEG = "JPEG", "JPEG"
        PNG = "PNG", "PNG"
        WEBP = "WEBP", "WebP"

    owner = models.ForeignKey(WechatUser, verbose_name="上传者", on_delete=models.CASCADE, related_name="uploads")
    # Encrypted at rest (SPEC §13: ID-card photos are uploads like any other image): the stored
    # object is ciphertext on the file system and S3 alike; ``/files/`` decrypts as it serves.
    file = models.FileField("文件", upload_to=upload_to, max_length=128, storage=encrypted_storage)
    format = models.CharField("格式", max_length=8, choices=Format.choices)
    size = models.PositiveIntegerField("大小（字节）")
    width = models.PositiveIntegerField("宽")
    height = models.PositiveIntegerField("高")
    sha256 = models.CharField("SHA-256", max_length=64)
    created_at = models.DateTimeField("上传时间", auto_now_add=True)

    class Meta:
        verbose_name = "上传图片"
        verbose_name_plural = "上传图片"
        ordering = ["-created_at"]

    def __str__(self):
        return self.file.name

    @property
    def extension(self) -> str:
        return {"JPEG": "jpg", "PNG": "png", "WEBP": "webp"}.get(self.format, "bin")


class SmsPurpose(models.TextChoices):
    RESUME = "resume", "提交简历"
    SIGN = "sign", "签署合同"


class SmsCode(models.Model):
    """A one-time SMS code: hashed, expiring, single use, bound to a phone and a purpose."""

    phone = models.CharField("手机号", max_length=16)
    purpose = models.CharField("用途", max_length=16, choices=SmsPurpose.choices)
    code_hash = models.CharField("验证码摘要", max_length=64, editable=False)
    created_at = models.DateTimeField("发送时间", auto_now_add=True, db_index=True)
    expires_at = models.DateTimeField("过期时间")
    failed_tries = models.PositiveSmallIntegerField("错误次数", default=0)
    used_at = models.DateTimeField("使用时间", null=True, blank=True)
    ip = models.GenericIPAddressField("请求 IP", null=True, blank=True)
    sent = models.BooleanField("已发送", default=False)

    class Meta:
        verbose_name = "短信验证码"
        verbose_name_plural = "短信验证码"
        ordering = ["-created_at"]
        indexes = [
            models.Index(fields=["phone", "created_at"], name="sms_phone_created"),
            models.Index(fields=["ip", "created_at"], name="sms_ip_created"),
        ]

    def __str__(self):
        return f"{self.phone[:3]}****{self.phone[-4:]} {self.get_purpose_display()}"


class Employee(models.Model):
    """The resume (seed §2.2.1). Region names are filled from the region table."""

    user = models.OneToOneField(
        WechatUser, verbose_name="小程序用户", on_delete=models.PROTECT, related_name="employee"
    )
    real_name = models.CharField("姓名", max_length=16, validators=[validate_name])
    phone = models.CharField("手机号", max_length=16, db_index=True)
    # Encrypted at rest (SPEC §13); uniqueness and exact search go through the blind index.
    id_number = EncryptedCharField("身份证号", max_length=32, purpose=ID_NUMBER_PURPOSE)
    id_number_index = BlindIndexField("身份证号盲索引", source="id_number", purpose=ID_NUMBER_PURPOSE, unique=True)
    age = models.PositiveSmallIntegerField("年龄", default=0)
    gender = models.PositiveSmallIntegerField("性别", choices=Gender.choices, default=Gender.UNKNOWN)
    nation = models.CharField("民族", max_length=12, blank=True, validators=[validate_text])
    marital_sts = models.PositiveSmallIntegerField("婚姻状况", choices=MaritalStatus.choices)
    political_sts = models.PositiveSmallIntegerField("政治面貌", choices=PoliticalStatus.choices)
    acct_type = models.PositiveSmallIntegerField("户口类型", choices=AccountType.choices)
    acct_prc = models.ForeignKey(
        "dictionaries.Region",
        verbose_name="户籍省份",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acct_prc_name = models.CharField("户籍省份名称", max_length=16, blank=True)
    acct_city = models.ForeignKey(
        "dictionaries.Region",
        verbose_name="户籍城市",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acct_city_name = models.CharField("户籍城市名称", max_length=32, blank=True)
    acct_coy = models.ForeignKey(
        "dictionaries.Region",
        verbose_name="户籍区县",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    acct_coy_name = models.CharField("户籍区县名称", max_length=255, blank=True)
    # The seed's varchar(16) cannot hold a real address (SPEC §5.1).
    acct_addr = models.CharField("户籍详细地址", max_length=255, blank=True, validators=[validate_text])
    province = models.ForeignKey(
        "dictionaries.Region",
        verbose_name="现居省份",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    province_name = models.CharField("现居省份名称", max_length=16, blank=True)
    city = models.ForeignKey(
        "dictionaries.Region",
        verbose_name="现居城市",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    city_name = models.CharField("现居城市名称", max_length=32, blank=True)
    county = models.ForeignKey(
        "dictionaries.Region",
        verbose_name="现居区县",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    county_name = models.CharField("现居区县名称", max_length=255, blank=True)
    addr = models.CharField("现居详细地址", max_length=255, blank=True, validators=[validate_text])
    em_contact_name = models.CharField("紧急联系人姓名", max_length=16, blank=True, validators=[validate_name])
    em_contact_phone = models.CharField("紧急联系人电话", max_length=32, blank=True)
    em_contact_relationship = models.CharField(
        "与紧急联系人的关系", max_length=32, blank=True, validators=[validate_text]
    )
    id_card_front = models.ForeignKey(
        Upload, verbose_name="身份证正面照片", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    id_card_back = models.ForeignKey(
        Upload, verbose_name="身份证反面照片", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    objects = IdNumberQuerySet.as_manager()

    class Meta:
        verbose_name = "员工简历"
        verbose_name_plural = "员工简历"
        ordering = ["-id"]
        indexes = [models.Index(fields=["real_name"], name="employee_real_name")]

    def __str__(self):
        return self.real_name


class EmployeeEducation(models.Model):
    employee = models.ForeignKey(Employee, verbose_name="员工", on_delete=models.CASCADE, related_name="educations")
    edu_type = models.CharField("学历", max_length=32, validators=[validate_text])
    school = models.CharField("学校", max_length=64, validators=[validate_text])
    major = models.CharField("专业", max_length=64, blank=True, validators=[validate_text])
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期")

    class Meta:
        verbose_name = "教育经历"
        verbose_name_plural = "教育经历"
        ordering = ["start_date", "id"]

    def __str__(self):
        return f"{self.school} {self.major}"


class WorkExperience(models.Model):
    employee = models.ForeignKey(Employee, verbose_name="员工", on_delete=models.CASCADE, related_name="work_exps")
    company_name = models.CharField("单位名称", max_length=64, validators=[validate_text])
    work_pos = models.CharField("岗位", max_length=32, validators=[validate_text])
    start_date = models.DateField("开始日期")
    end_date = models.DateField("结束日期", null=True, blank=True, help_text="为空表示至今")
    description = models.CharField("工作描述", max_length=500, blank=True, validators=[validate_text])

    class Meta:
        verbose_name = "工作经历"
        verbose_name_plural = "工作经历"
        ordering = ["start_date", "id"]

    def __str__(self):
        return f"{self.company_name} {self.work_pos}"


class RealnameVerification(models.Model):
    """One real-name submission and its decision; the audit trail of ``verify_status``."""

    user = models.ForeignKey(WechatUser, verbose_name="用户", on_delete=models.CASCADE, related_name="verifications")
    real_name = models.CharField("姓名", max_length=16, validators=[validate_name])
    id_number = EncryptedCharField("身份证号", max_length=32, purpose=ID_NUMBER_PURPOSE)
    id_number_index = BlindIndexField("身份证号盲索引", source="id_number", purpose=ID_NUMBER_PURPOSE, db_index=True)
    id_card_front = models.ForeignKey(
        Upload, verbose_name="身份证正面", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    id_card_back = models.ForeignKey(
        Upload, verbose_name="身份证反面", null=True, blank=True, on_delete=models.SET_NULL, related_name="+"
    )
    backend = models.CharField("核验方式", max_length=32)
    status = models.PositiveSmallIntegerField("状态", choices=VerifyStatus.choices, default=VerifyStatus.VERIFYING)
    reason = models.CharField("失败原因", max_length=256, blank=True, validators=[validate_text])
    submitted_at = models.DateTimeField("提交时间", auto_now_add=True, db_index=True)
    decided_at = models.DateTimeField("处理时间", null=True, blank=True)
    decided_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="处理人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    ip = models.GenericIPAddressField("提交 IP", null=True, blank=True)

    objects = IdNumberQuerySet.as_manager()

    class Meta:
        verbose_name = "实名认证"
        verbose_name_plural = "实名认证"
        ordering = ["-submitted_at"]

    def __str__(self):
        return f"{self.real_name} {self.get_status_display()}"


# --- personal-information consent (SPEC §13) ------------------------------------------------------


class ConsentScope(models.TextChoices):
    """What a consent covers. ``sensitive_pi`` is PIPL art. 29's separate consent."""

    PRIVACY_POLICY = "privacy_policy", "个人信息处理规则"
    SENSITIVE_PI = "sensitive_pi", "敏感个人信息处理（单独同意）"


class ConsentPolicy(models.Model):
    """
    One version of a platform's rules text for one scope. A draft (no ``published_at``) may be
    edited; once published the text is fixed — people consented to exactly these words — and a
    change is a new version, which asks everyone again.
    """

    platform = models.ForeignKey(
        "shanqian.Platform", verbose_name="平台", on_delete=models.PROTECT, related_name="consent_policies"
    )
    scope = models.CharField("授权范围", max_length=24, choices=ConsentScope.choices)
    version = models.CharField(
        "版本",
        max_length=32,
        validators=[
            RegexValidator(r"^[0-9A-Za-z][0-9A-Za-z._-]*$", "版本只能由字母、数字、点、- 和 _ 组成（如 2026.12）。")
        ],
    )
    title = models.CharField("标题", max_length=64)
    body = models.TextField("规则全文")
    url = models.URLField("外部链接", max_length=255, blank=True, help_text="留空则使用本系统提供的规则页面。")
    published_at = models.DateTimeField("发布时间", null=True, blank=True)
    body_sha256 = models.CharField("全文 SHA-256", max_length=64, blank=True, editable=False)
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        verbose_name = "个人信息处理规则"
        verbose_name_plural = "个人信息处理规则"
        ordering = ["platform", "scope", "-published_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["platform", "scope", "version"], name="consent_policy_version"),
        ]
        indexes = [models.Index(fields=["platform", "scope", "published_at"], name="consent_policy_current")]

    def __str__(self):
        return f"{self.title}（{self.get_scope_display()} v{self.version}）"

    @property
    def is_published(self) -> bool:
        return self.published_at is not None


class Consent(models.Model):
    """A person's consent to one exact policy version, with when, from where, and its withdrawal."""

    user = models.ForeignKey(WechatUser, verbose_name="用户", on_delete=models.CASCADE, related_name="consents")
    policy = models.ForeignKey(ConsentPolicy, verbose_name="规则版本", on_delete=models.PROTECT, related_name="+")
    scope = models.CharField("授权范围", max_length=24, choices=ConsentScope.choices)
    version = models.CharField("版本", max_length=32)
    given_at = models.DateTimeField("同意时间")
    ip = models.GenericIPAddressField("同意 IP", null=True, blank=True)
    user_agent = models.CharField("同意 User-Agent", max_length=512, blank=True)
    withdrawn_at = models.DateTimeField("撤回时间", null=True, blank=True)
    withdrawn_ip = models.GenericIPAddressField("撤回 IP", null=True, blank=True)
    withdrawn_user_agent = models.CharField("撤回 User-Agent", max_length=512, blank=True)

    class Meta:
        verbose_name = "个人信息授权记录"
        verbose_name_plural = "个人信息授权记录"
        ordering = ["-given_at", "-id"]
        indexes = [models.Index(fields=["user", "scope", "withdrawn_at"], name="consent_user_scope")]

    def __str__(self):
        return f"{self.get_scope_display()} v{self.version}"

    @property
    def is_active(self) -> bool:
        return self.withdrawn_at is None
