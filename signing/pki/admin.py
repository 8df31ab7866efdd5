"""
数字证书 in the back office (SPEC §10): every certificate of the hierarchy, read-only, and the one
move staff may make on it — 吊销单位证书.

The move is a review action (``shanqian.admin_reviews``): a button on a company certificate's
page and the changelist action ``revoke_selected``, both asking for an RFC 5280 reason and a
note. It calls ``signing.pki.crl.certificate_revoke``, which marks the certificate revoked (who,
when, why — the row is the audit record, with the admin's LogEntry beside it) and publishes the
issuing CA's next CRL in the same transaction: ``/pki/issuing.crl`` lists it the moment the
click commits (a new CRL number, so a new ``ETag``: conditional GETs get the new list).

Who may: the model's ``change`` permission is read as "may revoke" (nobody edits a certificate);
viewing needs ``view``. Only company certificates are revocable here: a CA certificate takes the
whole hierarchy down (an operator's job) and an event certificate lives for minutes.
"""

from __future__ import annotations

import logging

from django import forms
from django.contrib import admin
from django.utils import timezone

from shanqian.admin_reviews import ReviewAction, ReviewActionsMixin
from shanqian.admin_tools import ReadOnlyAdminMixin, local_time, status_badge
from shanqian.errors import Conflict

from .crl import certificate_revoke
from .models import CertificateKind, PkiCertificate, RevocationList, RevocationReason

logger = logging.getLogger(__name__)

NOTE_MAX_LENGTH = 256
COMPANY_ONLY = "只有单位证书可以在后台吊销"
# Superseded is what re-issuing writes by itself; staff name a reason of their own.
STAFF_REASONS = [(value, label) for value, label in RevocationReason.choices if value != RevocationReason.SUPERSEDED]


class RevokeCertificateForm(forms.Form):
    reason = forms.ChoiceField(label="吊销原因", choices=STAFF_REASONS, initial=RevocationReason.UNSPECIFIED)
    note = forms.CharField(
        label="说明",
        max_length=NOTE_MAX_LENGTH,
        widget=forms.Textarea(attrs={"rows": 3}),
        help_text="写明吊销的事由（例如单位注销、私钥疑似泄露），将记入证书记录。",
    )


def _revoke(certificate, *, staff, data, client):
    if certificate.kind != CertificateKind.COMPANY:
        raise Conflict(COMPANY_ONLY)
    revoked = certificate_revoke(certificate=certificate, reason=data["reason"], note=data["note"], actor=staff)
    # Who and what, for the operator's log: a certificate serial and a staff id are not personal data.
    logger.info(
        "pki: certificate %s revoked by staff %s (%s)", revoked.serial, getattr(staff, "pk", None), data["reason"]
    )
    return revoked


REVIEWS = {
    "revoke": ReviewAction(
        name="revoke",
        label="吊销证书",
        form_class=RevokeCertificateForm,
        perform=_revoke,
        submit_label="确认吊销",
        permission="revoke",
        tone="refused",
    )
}


class StateFilter(admin.SimpleListFilter):
    title = "状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("valid", "有效"), ("revoked", "已吊销"), ("expired", "已过期")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "valid":
            return queryset.filter(revoked_at__isnull=True, not_before__lte=now, not_after__gt=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, not_after__lte=now)
        return queryset


def state_label(certificate: PkiCertificate) -> str:
    if certificate.revoked_at is not None:
        return "已吊销"
    now = timezone.now()
    if now < certificate.not_before:
        return "未生效"
    if now >= certificate.not_after:
        return "已过期"
    return "有效"


@admin.register(PkiCertificate)
class PkiCertificateAdmin(ReviewActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("common_name", "kind", "company", "serial_short", "not_before", "not_after", "state")
    list_filter = ("kind", StateFilter)
    list_select_related = ("company",)
    search_fields = ("common_name", "=serial", "company__company_name")
    search_help_text = "按名称、单位名称搜索；输入完整的序列号精确查找。"
    ordering = ("-created_at", "-id")
    review_actions = REVIEWS
    review_columns = ("证书", "类型", "用人单位", "序列号", "状态")
    review_select_related = ("company",)
    fields = (
        "kind",
        "common_name",
        "subject",
        "serial",
        "issuer",
        "company",
        "application",
        "fingerprint_sha256",
        "not_before",
        "not_after",
        "backend",
        "state",
        "revoked_at",
        "revocation_reason",
        "revocation_note",
        "revoked_by",
        "created_at",
    )
    readonly_fields = fields

    def has_revoke_permission(self, request, obj=None):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("company", "issuer", "revoked_by")

    def review_name(self, certificate):
        return certificate.common_name

    def review_row(self, request, certificate):
        return (
            self.review_describe(certificate),
            certificate.get_kind_display(),
            certificate.company or "-",
            certificate.serial,
            state_label(certificate),
        )

    def review_blocked(self, certificate, action):
        if certificate.kind != CertificateKind.COMPANY:
            return COMPANY_ONLY
        if certificate.revoked_at is not None:
            return f"该证书已于 {local_time(certificate.revoked_at)} 吊销"
        return ""

    @admin.display(description="序列号")
    def serial_short(self, certificate):
        return f"{certificate.serial[:16]}…" if len(certificate.serial) > 16 else certificate.serial

    @admin.display(description="状态")
    def state(self, certificate):
        label = state_label(certificate)
        return status_badge(label, tone="done" if label == "有效" else "refused", css_class=f"sq-cert-{label}")


@admin.register(RevocationList)
class RevocationListAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("number", "issuer", "this_update", "next_update", "revoked_count")
    list_select_related = ("issuer",)
    fields = ("issuer", "number", "this_update", "next_update", "revoked_count", "created_at")
    readonly_fields = fields
    ordering = ("-created_at", "-id")
