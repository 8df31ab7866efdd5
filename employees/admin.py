from django.contrib import admin, messages
from django.db.models import Count, Q
from django.utils import timezone

from .models import SessionToken, WechatUser
from .tokens import revoke_tokens

# --- identity ---------------------------------------------------------------------------


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
