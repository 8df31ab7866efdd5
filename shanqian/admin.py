"""Back-office accounts (管理员), mini-program platforms, the personal-data access records, the outbox and bulk jobs."""

import json

from django import forms
from django.contrib import admin, messages
from django.contrib.auth.admin import UserAdmin
from django.core.files.storage import default_storage
from django.db.models import Case, When
from django.http import FileResponse, Http404
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.html import format_html

from . import bulk, outbox
from .admin_tools import ReadOnlyAdminMixin
from .models import AdminUser, BulkJob, BulkJobItem, OutboxAttempt, OutboxMessage, PersonalDataAccess, Platform
from .roles import sees_everything


@admin.register(AdminUser)
class AdminUserAdmin(UserAdmin):
    list_display = ("username", "name", "phone", "email", "is_active", "is_staff", "is_superuser", "last_login")
    list_filter = ("is_active", "is_staff", "is_superuser", "groups")
    search_fields = ("username", "name", "phone", "email")
    fieldsets = (
        (None, {"fields": ("username", "password")}),
        ("个人信息", {"fields": ("name", "phone", "email")}),
        ("状态与权限", {"fields": ("is_active", "is_staff", "is_superuser", "groups", "user_permissions")}),
        ("重要日期", {"fields": ("last_login", "date_joined")}),
    )
    add_fieldsets = (
        (None, {"classes": ("wide",), "fields": ("username", "name", "phone", "email", "password1", "password2")}),
    )


class PlatformForm(forms.ModelForm):
    # The secret is write-only: it is never rendered back into the page.
    wechat_secret = forms.CharField(
        label="小程序 AppSecret",
        required=False,
        widget=forms.PasswordInput(render_value=False),
        help_text="留空表示不修改。",
    )

    class Meta:
        model = Platform
        fields = ("code", "name", "wechat_appid", "wechat_secret", "enabled")

    def clean_wechat_secret(self):
        secret = self.cleaned_data["wechat_secret"]
        return secret or (self.instance.wechat_secret if self.instance.pk else "")


@admin.register(Platform)
class PlatformAdmin(admin.ModelAdmin):
    form = PlatformForm
    list_display = ("code", "name", "wechat_appid", "has_secret", "enabled", "updated_at")
    list_filter = ("enabled",)
    search_fields = ("code", "name", "wechat_appid")

    @admin.display(description="已配置 AppSecret", boolean=True)
    def has_secret(self, obj):
        return bool(obj.wechat_secret)


@admin.register(PersonalDataAccess)
class PersonalDataAccessAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """个人信息访问记录: read-only, and only for superusers (SPEC §13)."""

    list_display = ("accessed_at", "staff", "action", "target_repr", "fields", "rows", "ip")
    list_filter = ("action", "target_type", ("accessed_at", admin.DateFieldListFilter), "staff")
    list_select_related = ("staff",)
    search_fields = ("=staff__username", "=target_id")
    search_help_text = "输入后台账号用户名或对象编号精确查找。"
    ordering = ("-accessed_at", "-id")
    fields = (
        "accessed_at",
        "staff",
        "action",
        "target_type",
        "target_id",
        "target_repr",
        "fields",
        "rows",
        "path",
        "ip",
        "user_agent",
    )
    readonly_fields = fields

    def has_module_permission(self, request):
        return sees_everything(request.user)

    def has_view_permission(self, request, obj=None):
        return sees_everything(request.user)


# --- the outbox: read-only, with retry ------------------------------------------------------------


class OutboxAttemptInline(admin.TabularInline):
    model = OutboxAttempt
    verbose_name_plural = "发送记录"
    fields = ("number", "started_at", "outcome", "response_code", "duration_ms", "error")
    readonly_fields = fields
    extra = 0
    max_num = 0
    can_delete = False
    ordering = ("number", "id")

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class ChannelFilter(admin.SimpleListFilter):
    title = "渠道"
    parameter_name = "channel"

    def lookups(self, request, model_admin):
        return list(outbox.channel_labels().items())

    def queryset(self, request, queryset):
        value = self.value()
        return queryset if value is None else queryset.filter(channel=value)


@admin.register(OutboxMessage)
class OutboxMessageAdmin(admin.ModelAdmin):
    """Every notification and webhook delivery; nobody edits one, staff may retry a failed one."""

    list_display = (
        "id",
        "channel_label",
        "summary",
        "state_label",
        "attempts",
        "last_response_code",
        "short_error",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    )
    list_filter = ("state", ChannelFilter, ("created_at", admin.DateFieldListFilter))
    search_fields = ("=ref", "summary", "=key")
    search_help_text = "按内容搜索；输入关联对象（如 signing.signapplication:12）或幂等键精确查找。"
    list_per_page = 50
    show_full_result_count = False
    ordering = ("-id",)
    actions = ["retry_selected", "redeliver_selected"]
    inlines = [OutboxAttemptInline]
    fields = (
        "channel_label",
        "summary",
        "ref",
        "key",
        "state_label",
        "attempts",
        "max_attempts",
        "retry_until",
        "next_attempt_at",
        "last_response_code",
        "last_error",
        "created_at",
        "delivered_at",
        "payload_json",
    )
    readonly_fields = fields

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_retry_permission(self, request):
        return request.user.has_perm("shanqian.change_outboxmessage")

    @admin.display(description="渠道", ordering="channel")
    def channel_label(self, message):
        return outbox.channel_labels().get(message.channel, message.channel)

    @admin.display(description="状态", ordering="state")
    def state_label(self, message):
        return message.get_state_display()

    @admin.display(description="最后错误")
    def short_error(self, message):
        error = message.last_error
        return error if len(error) <= 40 else f"{error[:40]}…"

    @admin.display(description="参数")
    def payload_json(self, message):
        return format_html("<pre>{}</pre>", json.dumps(message.payload, ensure_ascii=False, indent=2))

    @admin.action(description="重试（已失败的）", permissions=["retry"])
    def retry_selected(self, request, queryset):
        count = outbox.retry(queryset)
        self._report(request, count, "重试")

    @admin.action(description="重新投递（含已送达的 Webhook）", permissions=["retry"])
    def redeliver_selected(self, request, queryset):
        count = outbox.retry(queryset, include_delivered=True)
        self._report(request, count, "重新投递")

    def _report(self, request, count, label):
        if count:
            self.message_user(request, f"已{label} {count} 条，稍后查看结果。", messages.SUCCESS)
        else:
            self.message_user(
                request, f"所选消息都不能{label}（只能处理已失败的，或已送达的 Webhook）。", messages.WARNING
            )


# --- bulk jobs: the progress page -------------------------------------------------------------------


@admin.register(BulkJob)
class BulkJobAdmin(admin.ModelAdmin):
    """A job's page is its progress page; staff see the jobs they started (superusers: all)."""

    list_display = ("id", "label", "total", "state", "created_by", "created_at", "finished_at")
    list_filter = ("state", "action")
    list_select_related = ("created_by",)
    ordering = ("-id",)
    change_form_template = "admin/shanqian/bulkjob/progress.html"
    # The bar refreshes while the job runs (a meta refresh: no script, CSP-friendly).
    REFRESH_SECONDS = 2
    MAX_ITEMS_SHOWN = 2000

    def has_module_permission(self, request):
        return bool(request.user.is_active and request.user.is_staff)

    def has_view_permission(self, request, obj=None):
        user = request.user
        if not (user.is_active and user.is_staff):
            return False
        return obj is None or user.is_superuser or obj.created_by_id == user.pk

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def get_queryset(self, request):
        queryset = super().get_queryset(request).select_related("created_by")
        return queryset if request.user.is_superuser else queryset.filter(created_by_id=request.user.pk)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<int:object_id>/result/",
                self.admin_site.admin_view(self.result_view),
                name="{}_{}_result".format(*info),
            ),
            *super().get_urls(),
        ]

    def change_view(self, request, object_id, form_url="", extra_context=None):
        job = self.get_object(request, object_id)
        if job is None or not self.has_view_permission(request, job):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        state = bulk.progress(job)
        finished = job.state == BulkJob.State.FINISHED
        items = []
        if finished:
            # Failures first: they are what the handler has to look at.
            items = list(
                job.items.order_by(Case(When(state=BulkJobItem.State.FAILED, then=0), default=1), "pk").only(
                    "job_id", "object_id", "label", "state", "message"
                )[: self.MAX_ITEMS_SHOWN]
            )
        context = {
            **self.admin_site.each_context(request),
            "title": f"{job.label}：{job.total} 条",
            "subtitle": None,
            "opts": self.opts,
            "original": job,
            "job": job,
            "progress": state,
            "finished": finished,
            "items": items,
            "items_truncated": finished and job.total > self.MAX_ITEMS_SHOWN,
            "refresh_seconds": None if finished else self.REFRESH_SECONDS,
            "result_url": (
                reverse("admin:shanqian_bulkjob_result", args=[job.pk], current_app=self.admin_site.name)
                if finished and job.result_file
                else ""
            ),
            "has_view_permission": True,
        }
        request.current_app = self.admin_site.name
        return TemplateResponse(request, self.change_form_template, context)

    def result_view(self, request, object_id):
        job = self.get_object(request, str(object_id))
        if job is None or not self.has_view_permission(request, job) or not job.result_file:
            raise Http404("没有结果文件")
        if not default_storage.exists(job.result_file):
            raise Http404("结果文件已不存在")
        extension = job.result_file.rsplit(".", 1)[-1].lower()
        response = FileResponse(
            default_storage.open(job.result_file, "rb"),
            as_attachment=True,
            filename=f"{job.label}-{job.pk}.{extension}",
            content_type=RESULT_CONTENT_TYPES.get(extension, "application/octet-stream"),
        )
        response["Cache-Control"] = "no-store"
        return response


RESULT_CONTENT_TYPES = {
    "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
    "zip": "application/zip",
}
