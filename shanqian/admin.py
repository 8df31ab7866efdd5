"""Back-office accounts (管理员), mini-program platforms and the personal-data access records."""

from django import forms
from django.contrib import admin
from django.contrib.auth.admin import UserAdmin

from .admin_tools import ReadOnlyAdminMixin
from .models import AdminUser, PersonalDataAccess, Platform
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
