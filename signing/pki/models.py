"""
What the PKI keeps (SPEC §10): every certificate it issued or holds, and the
CRLs it published.

One table holds the whole hierarchy — root CA, issuing CA, the TSA of the
development time source, company certificates and per-signing event
certificates — so revocation and the CRL are one query over one table.
Private keys are stored only for the certificates whose key the platform
holds (the CAs, the development TSA, and company certificates, held under the
company's seal authorisation), encrypted with ``SIGNING_KEY_PASSPHRASE``
(PKCS#8, see ``signing.pki.keystore``). An event certificate's key is never
stored: the row keeps the certificate only.
"""

from django.conf import settings
from django.db import models


class CertificateKind(models.TextChoices):
    ROOT = "root", "根 CA"
    ISSUING = "issuing", "签发 CA"
    TSA = "tsa", "时间戳服务"
    COMPANY = "company", "单位证书"
    EVENT = "event", "事件证书"


CA_KINDS = (CertificateKind.ROOT, CertificateKind.ISSUING)


class RevocationReason(models.TextChoices):
    """RFC 5280 §5.3.1 reasons staff may give (the names are ``cryptography``'s ``ReasonFlags``)."""

    UNSPECIFIED = "unspecified", "未说明"
    KEY_COMPROMISE = "key_compromise", "私钥泄露"
    AFFILIATION_CHANGED = "affiliation_changed", "单位信息变更"
    SUPERSEDED = "superseded", "已被新证书取代"
    CESSATION_OF_OPERATION = "cessation_of_operation", "单位停止使用"


class PkiCertificate(models.Model):
    kind = models.CharField("类型", max_length=16, choices=CertificateKind.choices)
    serial = models.CharField("序列号", max_length=64, help_text="十六进制大写")
    issuer = models.ForeignKey(
        "self", verbose_name="签发者", null=True, blank=True, on_delete=models.PROTECT, related_name="issued"
    )
    common_name = models.CharField("名称（CN）", max_length=128)
    subject = models.CharField("主体", max_length=512)
    der = models.BinaryField("证书（DER）")
    fingerprint_sha256 = models.CharField("SHA-256 指纹", max_length=64, unique=True)
    not_before = models.DateTimeField("生效时间")
    not_after = models.DateTimeField("失效时间")
    # Encrypted PKCS#8 PEM; empty when the platform does not hold the key (event certificates,
    # certificates of a licensed CA's remote backend).
    key_pem = models.BinaryField("私钥（加密存储）", blank=True, default=b"", editable=False)
    backend = models.CharField("签发方式", max_length=32, default="local")
    company = models.ForeignKey(
        "contracts.Company", verbose_name="用人单位", null=True, blank=True, on_delete=models.PROTECT, related_name="+"
    )
    application = models.ForeignKey(
        "signing.SignApplication",
        verbose_name="签约申请",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="certificates",
    )
    revoked_at = models.DateTimeField("吊销时间", null=True, blank=True)
    revocation_reason = models.CharField(
        "吊销原因", max_length=32, choices=RevocationReason.choices, blank=True, default=""
    )
    revocation_note = models.CharField("吊销说明", max_length=256, blank=True)
    revoked_by = models.ForeignKey(
        settings.AUTH_USER_MODEL,
        verbose_name="吊销人",
        null=True,
        blank=True,
        on_delete=models.PROTECT,
        related_name="+",
    )
    created_at = models.DateTimeField("签发时间", auto_now_add=True)

    class Meta:
        verbose_name = "数字证书"
        verbose_name_plural = "数字证书"
        db_table = "signing_pki_certificate"
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["issuer", "serial"], name="pki_certificate_issuer_serial_unique"),
        ]
        indexes = [
            # The CRL lists an issuer's revoked certificates; the signing path finds a company's current one.
            models.Index(fields=["issuer", "revoked_at"], name="pki_cert_issuer_revoked"),
            models.Index(fields=["company", "kind", "not_after"], name="pki_cert_company_kind"),
            models.Index(fields=["kind", "not_after"], name="pki_cert_kind_not_after"),
        ]

    def __str__(self):
        return f"{self.get_kind_display()} {self.common_name}（{self.serial[:16]}）"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    @property
    def has_key(self) -> bool:
        return bool(self.key_pem)


class RevocationList(models.Model):
    """A CRL as published: its number, window and bytes. The newest row of an issuer is the current CRL."""

    issuer = models.ForeignKey(
        PkiCertificate, verbose_name="签发 CA", on_delete=models.PROTECT, related_name="revocation_lists"
    )
    number = models.PositiveBigIntegerField("CRL 编号")
    this_update = models.DateTimeField("本次更新")
    next_update = models.DateTimeField("下次更新")
    revoked_count = models.PositiveIntegerField("吊销证书数", default=0)
    der = models.BinaryField("CRL（DER）")
    created_at = models.DateTimeField("生成时间", auto_now_add=True)

    class Meta:
        verbose_name = "证书吊销列表"
        verbose_name_plural = "证书吊销列表"
        db_table = "signing_pki_crl"
        ordering = ["-number"]
        constraints = [models.UniqueConstraint(fields=["issuer", "number"], name="pki_crl_issuer_number_unique")]

    def __str__(self):
        return f"CRL #{self.number}（{self.issuer.common_name}）"
