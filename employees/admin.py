"""
The employees app in 秒云达 1.0 后台.

Identity: mini-program users (read-only; ``session_key`` never shown) and their
session tokens, with 吊销 actions.

Resumes (员工简历) are the employee's own data, entered and proven (SMS code) in
the mini-program: the back office only reads them — with education and work
history inline and the ID card photos through signed links. A handler sees only
the resumes of applicants assigned to them, phones and ID numbers masked in the list.

The real-name queue lists verifications 实名中 by default (oldest first); the
decisions 实名成功 / 实名失败 (reason required) go through
``employees.services.realname.realname_decide`` — as bulk actions with a confirmation page,
or from a verification's page. A handler sees and decides only verifications of
users with an application assigned to them (``verifications_visible_to``; the
service checks ``staff_may_decide`` again on the locked row).
"""

from django import forms
from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Count, Q
from django.urls import reverse
from django.utils import timezone
from django.utils.html import format_html

from dictionaries.selectors import dict_value
from shanqian.admin_personal import PersonalDataRevealMixin, personal
from shanqian.admin_reviews import ReviewAction, ReviewActionsMixin
from shanqian.admin_site import StartPanel
from shanqian.admin_tools import (
    ReadOnlyAdminMixin,
    local_time,
    masked,
    object_from,
    status_badge,
    table_html,
)
from shanqian.roles import sees_everything
from shanqian.text import TextValidator

from . import resume_display
from .assignment import applications_shown_to, handled_user_ids
from .masking import mask_id_number, mask_phone
from .models import (
    Employee,
    EmployeeEducation,
    RealnameVerification,
    SessionToken,
    SmsCode,
    Upload,
    VerifyStatus,
    WechatUser,
    WorkExperience,
)
from .realname_providers import REASON_MAX_LENGTH
from .resume_display import NumberSearchMixin, id_card_photos, resume_field
from .selectors import verifications_visible_to
from .services import realname
from .tokens import revoke_tokens
from .uploads import upload_url


def _live_tokens():
    return Q(tokens__revoked_at__isnull=True, tokens__expires_at__gt=timezone.now())


class SessionTokenInline(admin.TabularInline):
    model = SessionToken
    fields = ("created_at", "expires_at", "revoked_at", "ip", "user_agent")
    readonly_fields = fields
    extra = 0
    can_delete = False
    show_change_link = True
    verbose_name_plural = "会话令牌（吊销请在“会话令牌”列表中操作或使用用户列表的吊销动作）"

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(WechatUser)
class WechatUserAdmin(admin.ModelAdmin):
    """Read-only view of mini-program users; ``session_key`` is never shown (editable=False, not listed)."""

    list_display = ("openid", "platform", "verify_status", "live_tokens", "last_login_at", "created_at")
    # Date filters rather than date_hierarchy: the latter needs time-zone tables loaded into MySQL/MariaDB.
    list_filter = ("platform", "verify_status", "created_at", "last_login_at")
    search_fields = ("openid", "unionid")
    list_select_related = ("platform",)
    fields = (
        "platform",
        "openid",
        "unionid",
        "verify_status",
        "verify_reason",
        "created_at",
        "updated_at",
        "last_login_at",
    )
    readonly_fields = fields
    inlines = [SessionTokenInline]
    actions = ["revoke_all_tokens"]

    def has_add_permission(self, request):
        # Users come into being only through WeChat login.
        return False

    def get_queryset(self, request):
        return super().get_queryset(request).annotate(_live_tokens=Count("tokens", filter=_live_tokens()))

    @admin.display(description="有效会话", ordering="_live_tokens")
    def live_tokens(self, obj):
        return obj._live_tokens

    @admin.action(description="吊销所选用户的全部会话令牌（强制重新登录）", permissions=["change"])
    def revoke_all_tokens(self, request, queryset):
        count = revoke_tokens(SessionToken.objects.filter(user__in=queryset))
        self.message_user(request, f"已吊销 {count} 个会话令牌。", messages.SUCCESS)


class TokenStateFilter(admin.SimpleListFilter):
    title = "状态"
    parameter_name = "state"

    def lookups(self, request, model_admin):
        return [("live", "有效"), ("revoked", "已吊销"), ("expired", "已过期")]

    def queryset(self, request, queryset):
        now = timezone.now()
        if self.value() == "live":
            return queryset.filter(revoked_at__isnull=True, expires_at__gt=now)
        if self.value() == "revoked":
            return queryset.filter(revoked_at__isnull=False)
        if self.value() == "expired":
            return queryset.filter(revoked_at__isnull=True, expires_at__lte=now)
        return queryset


@admin.register(SessionToken)
class SessionTokenAdmin(admin.ModelAdmin):
    """Sessions are issued by login only; staff can look at them and revoke them."""

    list_display = ("user", "platform", "state", "created_at", "expires_at", "revoked_at", "ip")
    list_filter = (TokenStateFilter, "user__platform", "created_at")
    search_fields = ("user__openid", "ip")
    list_select_related = ("user__platform",)
    fields = ("user", "created_at", "expires_at", "revoked_at", "ip", "user_agent")
    readonly_fields = fields
    actions = ["revoke"]

    def has_add_permission(self, request):
        return False

    @admin.display(description="平台")
    def platform(self, obj):
        return obj.user.platform

    @admin.display(description="状态")
    def state(self, obj):
        if obj.revoked_at:
            return "已吊销"
        if obj.expires_at <= timezone.now():
            return "已过期"
        return "有效"

    @admin.action(description="吊销", permissions=["change"])
    def revoke(self, request, queryset):
        count = revoke_tokens(queryset)
        self.message_user(request, f"已吊销 {count} 个会话令牌。", messages.SUCCESS)


@admin.register(Upload)
class UploadAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Uploaded images: decoded, re-encoded and private; shown through a fresh signed link."""

    list_display = ("id", "owner", "format", "dimensions", "size", "created_at")
    list_filter = ("format", "created_at")
    search_fields = ("=sha256", "owner__openid")
    list_select_related = ("owner__platform",)
    fields = ("preview", "owner", "format", "width", "height", "size", "sha256", "created_at")
    readonly_fields = fields

    @admin.display(description="尺寸")
    def dimensions(self, obj):
        return f"{obj.width}×{obj.height}"

    @admin.display(description="预览")
    def preview(self, obj):
        url = upload_url(obj)
        return format_html(
            '<a href="{}" target="_blank" rel="noopener"><img src="{}" class="sq-preview"></a>', url, url
        )


@admin.register(SmsCode)
class SmsCodeAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """SMS codes as an audit of what was sent; the code itself is stored only as a keyed hash, never shown."""

    list_display = ("masked_phone", "purpose", "created_at", "expires_at", "failed_tries", "used_at", "sent", "ip")
    list_filter = ("purpose", "sent", "created_at")
    search_fields = ("=phone", "=ip")
    fields = ("masked_phone", "purpose", "created_at", "expires_at", "failed_tries", "used_at", "sent", "ip")
    readonly_fields = fields

    masked_phone = masked("phone", mask_phone, description="手机号")


# --- resume & real-name (back office) ---------------------------------------------------------


# --- resumes -----------------------------------------------------------------------------------------------


class EmployeeEducationInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = EmployeeEducation
    fields = ("edu_type_label", "school", "major", "start_date", "end_date")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False

    @admin.display(description="学历")
    def edu_type_label(self, education):
        return dict_value("Edu_Type", education.edu_type) or education.edu_type


class WorkExperienceInline(ReadOnlyAdminMixin, admin.TabularInline):
    model = WorkExperience
    fields = ("company_name", "work_pos", "start_date", "end_date", "description")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False


@admin.register(Employee)
class EmployeeAdmin(PersonalDataRevealMixin, NumberSearchMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display_links = ("real_name",)
    list_filter = ("gender", "acct_type", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("user",)
    search_fields = ("real_name",)
    search_help_text = "按姓名搜索；输入完整的手机号或身份证号精确查找。"
    list_per_page = 50
    ordering = ("-id",)
    inlines = [EmployeeEducationInline, WorkExperienceInline]
    fieldsets = (
        (
            "基本信息",
            {"fields": ("real_name", "phone_shown", "id_number_shown", ("gender", "age_now"), "nation_label")},
        ),
        ("婚姻、政治面貌与户口", {"fields": (("marital_sts", "political_sts", "acct_type"),)}),
        ("户籍地址", {"fields": ("acct_address",)}),
        ("现居地址", {"fields": ("current_address",)}),
        ("紧急联系人", {"fields": (("em_contact_name", "em_contact_relationship_label", "em_contact_phone_shown"),)}),
        ("身份证照片", {"fields": ("photos",)}),
        ("签约申请", {"fields": ("applications_table",)}),
        ("小程序账号", {"fields": ("verify_status", "created_at", "updated_at")}),
    )
    readonly_fields = (
        "real_name",
        "phone_shown",
        "id_number_shown",
        "gender",
        "age_now",
        "nation_label",
        "marital_sts",
        "political_sts",
        "acct_type",
        "acct_address",
        "current_address",
        "em_contact_name",
        "em_contact_relationship_label",
        "em_contact_phone_shown",
        "photos",
        "applications_table",
        "verify_status",
        "created_at",
        "updated_at",
    )

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_everything(request.user):
            return queryset
        return queryset.filter(user_id__in=handled_user_ids(request.user))

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related("user", "id_card_front", "id_card_back")
        employee = object_from(queryset, object_id, opts=self.opts, from_field=from_field)
        if employee is None:
            return None
        # The applications section lists only what this staff member may see (the rule's one query).
        employee.shown_applications = applications_shown_to(request.user, employee_id=employee.pk)
        return employee

    # Masked for everybody, superusers included (shanqian.admin_personal); 显示完整信息 on the page.
    list_display = ("real_name", "masked_phone", "masked_id_number", "gender", "age_now", "verify_status", "created_at")
    reveal_fields = ("手机号", "身份证号", "紧急联系人电话")

    masked_phone = masked("phone", mask_phone, description="手机号")
    masked_id_number = masked("id_number", mask_id_number, description="身份证号")
    phone_shown = personal("手机号", "phone", mask_phone)
    id_number_shown = personal("身份证号", "id_number", mask_id_number)
    em_contact_phone_shown = personal("紧急联系人电话", "em_contact_phone", mask_phone)

    age_now = resume_field("年龄", resume_display.age_now)
    nation_label = resume_field("民族", resume_display.nation_label)
    em_contact_relationship_label = resume_field("与紧急联系人的关系", resume_display.relationship_label)
    acct_address = resume_field("户籍地址", resume_display.acct_address)
    current_address = resume_field("现居地址", resume_display.current_address)
    photos = resume_field("身份证照片", lambda e: id_card_photos(e.id_card_front, e.id_card_back))

    @admin.display(description="实名认证状态", ordering="user__verify_status")
    def verify_status(self, employee):
        return employee.user.get_verify_status_display()

    @admin.display(description="签约申请")
    def applications_table(self, employee):
        rows = [
            (
                format_html(
                    '<a href="{}">#{}</a>',
                    reverse(app.admin_url_name, args=[app.pk], current_app=self.admin_site.name),
                    app.pk,
                ),
                app.company,
                app.work_pos,
                app.handler,
                app.status_badge,
                local_time(app.applied_at),
            )
            for app in getattr(employee, "shown_applications", [])
        ]
        return table_html(("编号", "用人单位", "岗位", "处理人", "状态", "申请时间"), rows, empty="无")


# --- the real-name queue ----------------------------------------------------------------------------------


BACKEND_LABELS = {"manual": "人工审核", "provider": "核验服务"}
VERIFY_TONES = {VerifyStatus.VERIFYING: "waiting", VerifyStatus.VERIFIED: "done", VerifyStatus.FAILED: "refused"}


class RealnameStatusFilter(admin.SimpleListFilter):
    """实名中 unless another status (or 全部) is chosen: the page opens on the work queue."""

    title = "实名状态"
    parameter_name = "status"
    ALL = "all"

    def lookups(self, request, model_admin):
        return [
            (str(VerifyStatus.VERIFYING.value), "实名中（待处理）"),
            (str(VerifyStatus.VERIFIED.value), VerifyStatus.VERIFIED.label),
            (str(VerifyStatus.FAILED.value), VerifyStatus.FAILED.label),
            (self.ALL, "全部"),
        ]

    def choices(self, changelist):
        current = self.value() or str(VerifyStatus.VERIFYING.value)
        for value, label in self.lookup_choices:
            yield {
                "selected": current == value,
                "query_string": changelist.get_query_string({self.parameter_name: value}),
                "display": label,
            }

    def queryset(self, request, queryset):
        value = self.value() or str(VerifyStatus.VERIFYING.value)
        if value == self.ALL:
            return queryset
        if value not in {str(status.value) for status in VerifyStatus}:
            raise IncorrectLookupParameters("无效的实名状态")
        return queryset.filter(status=int(value))


class BackendFilter(admin.SimpleListFilter):
    title = "核验方式"
    parameter_name = "backend"

    def lookups(self, request, model_admin):
        return list(BACKEND_LABELS.items())

    def queryset(self, request, queryset):
        return queryset.filter(backend=self.value()) if self.value() else queryset


class RealnameFailForm(forms.Form):
    reason = forms.CharField(
        label="实名失败原因",
        max_length=REASON_MAX_LENGTH,
        validators=[TextValidator(message="失败原因包含无效字符。")],
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "请填写实名失败原因。",
            "max_length": f"失败原因不能超过 {REASON_MAX_LENGTH} 个字符。",
        },
        help_text="用户会在小程序中看到这段原因，请写清楚如何处理（如：身份证照片模糊，请重新上传）。",
    )


class RealnamePassForm(forms.Form):
    """No fields: the confirmation page of 实名成功."""


# The decisions, served by shanqian.admin_reviews.ReviewActionsMixin (the service is looked up at call time).
DECISIONS = {
    "pass": ReviewAction(
        name="pass",
        label="实名成功",
        form_class=RealnamePassForm,
        submit_label="确认实名成功",
        perform=lambda verification, *, staff, data, client: realname.realname_decide(
            verification=verification, staff=staff, approved=True
        ),
        permission="decide",
        tone="done",
    ),
    "fail": ReviewAction(
        name="fail",
        label="实名失败",
        form_class=RealnameFailForm,
        submit_label="确认实名失败",
        perform=lambda verification, *, staff, data, client: realname.realname_decide(
            verification=verification, staff=staff, approved=False, reason=data["reason"]
        ),
        permission="decide",
        tone="refused",
    ),
}


@admin.register(RealnameVerification)
class RealnameVerificationAdmin(
    PersonalDataRevealMixin, NumberSearchMixin, ReviewActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin
):
    list_display = (
        "real_name",
        "masked_id_number",
        "thumbnails",
        "status_label",
        "backend_label",
        "submitted_at",
        "decided_by",
        "decided_at",
    )
    list_display_links = ("real_name",)
    list_filter = (RealnameStatusFilter, BackendFilter, ("submitted_at", admin.DateFieldListFilter))
    list_select_related = ("id_card_front", "id_card_back", "decided_by")
    list_per_page = 50
    # 实名成功 / 实名失败, in bulk and at <id>/decide/<pass|fail>/
    review_actions = DECISIONS
    review_path = "decide"
    review_columns = ("姓名", "身份证号", "身份证照片", "提交时间")
    review_select_related = ("id_card_front", "id_card_back")
    # Verifications carry no phone: a whole ID number is the exact search.
    number_search_phone = None
    search_fields = ("real_name",)
    search_help_text = "按姓名搜索；输入完整的身份证号精确查找。"
    reveal_fields = ("身份证号",)
    fields = (
        "real_name",
        "id_number_shown",
        "photos",
        "status_label",
        "reason",
        "backend_label",
        "submitted_at",
        "ip",
        "decided_by",
        "decided_at",
        "user_verify_status",
    )
    readonly_fields = fields

    def changelist_view(self, request, extra_context=None):
        return super().changelist_view(request, {"title": "实名审核队列", **(extra_context or {})})

    def has_decide_permission(self, request, obj=None):
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def get_queryset(self, request):
        return verifications_visible_to(staff=request.user, queryset=super().get_queryset(request))

    def get_ordering(self, request):
        # The queue (实名中) is worked oldest first; history reads newest first.
        if request.GET.get(RealnameStatusFilter.parameter_name, str(VerifyStatus.VERIFYING.value)) == str(
            VerifyStatus.VERIFYING.value
        ):
            return ("submitted_at", "id")
        return ("-submitted_at", "-id")

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related("user", "id_card_front", "id_card_back", "decided_by")
        return object_from(queryset, object_id, opts=self.opts, from_field=from_field)

    masked_id_number = masked("id_number", mask_id_number, description="身份证号")
    id_number_shown = personal("身份证号", "id_number", mask_id_number)

    @admin.display(description="身份证照片")
    def thumbnails(self, verification):
        return id_card_photos(verification.id_card_front, verification.id_card_back, thumbnails=True)

    @admin.display(description="身份证照片")
    def photos(self, verification):
        return id_card_photos(verification.id_card_front, verification.id_card_back)

    @admin.display(description="状态", ordering="status")
    def status_label(self, verification):
        return status_badge(
            verification.get_status_display(),
            tone=VERIFY_TONES.get(verification.status, "closed"),
            css_class=f"sq-verify-{verification.status}",
        )

    @admin.display(description="核验方式", ordering="backend")
    def backend_label(self, verification):
        return BACKEND_LABELS.get(verification.backend, verification.backend)

    @admin.display(description="用户当前实名状态")
    def user_verify_status(self, verification):
        return verification.user.get_verify_status_display()

    # --- decisions: the table above, run by ReviewActionsMixin --------------------------------------

    def review_name(self, verification):
        return verification.real_name

    def review_blocked(self, verification, action):
        if verification.status == VerifyStatus.VERIFYING:
            return ""
        return f"该实名认证已处理（{verification.get_status_display()}）"

    def review_row(self, request, verification):
        return (
            verification.real_name,
            mask_id_number(verification.id_number),
            id_card_photos(verification.id_card_front, verification.id_card_back, thumbnails=True),
            local_time(verification.submitted_at),
        )


# --- the start page ----------------------------------------------------------------------------------


def realname_queue_panel(request, site) -> StartPanel | None:
    """How many verifications wait (实名中) among those this user may see, linking to the queue."""
    url = site.changelist_for(request, "employees.realnameverification")
    if url is None:
        return None
    count = verifications_visible_to(staff=request.user).filter(status=VerifyStatus.VERIFYING).count()
    return StartPanel("admin/employees/start_panel.html", {"count": count, "url": url})


admin.site.add_start_panel(realname_queue_panel)
