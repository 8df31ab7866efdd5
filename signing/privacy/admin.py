"""
个人信息删除申请 in the back office (SPEC §13): the requests, scoped like applications (a superuser
sees all; anyone else those of the people they handle), read-only, and two review moves through
``shanqian.admin_reviews`` — 执行删除 and 拒绝 (with the reason the person is told), in bulk and on
``<id>/review/<execute|refuse>/``. Phones are masked; the outcome says what was deleted and kept.
"""

from django import forms
from django.contrib import admin

from employees.assignment import handled_user_ids
from employees.masking import mask_phone
from shanqian.admin_reviews import ReviewAction, ReviewActionsMixin
from shanqian.admin_tools import ReadOnlyAdminMixin, local_time, object_from, status_badge
from shanqian.roles import sees_everything
from shanqian.text import TextValidator

from . import services
from .models import DeletionRequest, DeletionStatus

TONES = {
    DeletionStatus.PENDING: "waiting",
    DeletionStatus.DONE: "done",
    DeletionStatus.PARTIAL: "done",
    DeletionStatus.REFUSED: "refused",
}


class DeletionExecuteForm(forms.Form):
    """No fields: the confirmation page of 执行删除."""


class DeletionRefuseForm(forms.Form):
    reason = forms.CharField(
        label="拒绝原因",
        max_length=services.REFUSAL_MAX_LENGTH,
        validators=[TextValidator(message="拒绝原因包含无效字符。")],
        widget=forms.Textarea(attrs={"rows": 3}),
        error_messages={
            "required": "请填写拒绝原因。",
            "max_length": f"拒绝原因不能超过 {services.REFUSAL_MAX_LENGTH} 个字符。",
        },
        help_text="本人会收到这段原因（短信），请写清楚依据。",
    )


DELETION_REVIEWS = {
    "execute": ReviewAction(
        name="execute",
        label="执行删除",
        form_class=DeletionExecuteForm,
        submit_label="确认删除（不可恢复）",
        perform=lambda deletion, *, staff, data, client: services.deletion_execute(
            deletion=deletion, staff=staff, client=client
        ),
        permission="review",
        tone="done",
    ),
    "refuse": ReviewAction(
        name="refuse",
        label="拒绝删除",
        form_class=DeletionRefuseForm,
        submit_label="确认拒绝",
        perform=lambda deletion, *, staff, data, client: services.deletion_refuse(
            deletion=deletion, staff=staff, reason=data["reason"], client=client
        ),
        permission="review",
        tone="refused",
    ),
}


@admin.register(DeletionRequest)
class DeletionRequestAdmin(ReviewActionsMixin, ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("__str__", "person", "masked_phone", "status_label", "requested_at", "decided_by", "decided_at")
    list_filter = ("status", ("requested_at", admin.DateFieldListFilter))
    list_select_related = ("user__employee", "decided_by")
    list_per_page = 50
    review_actions = DELETION_REVIEWS
    review_columns = ("申请", "申请人", "手机号", "申请时间", "原因")
    review_select_related = ("user__employee",)
    fields = (
        "person",
        "masked_phone",
        "status_label",
        "reason",
        "requested_at",
        "ip",
        "decided_by",
        "decided_at",
        "refusal_reason",
        "outcome",
        "retained_until",
        "retained_deleted_at",
    )
    readonly_fields = fields

    def has_review_permission(self, request, obj=None):
        return request.user.has_perm(f"{self.opts.app_label}.change_{self.opts.model_name}")

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_everything(request.user):
            return queryset
        return queryset.filter(user_id__in=handled_user_ids(request.user))

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related("user__employee", "decided_by")
        return object_from(queryset, object_id, opts=self.opts, from_field=from_field)

    @staticmethod
    def _employee(deletion):
        return getattr(deletion.user, "employee", None) if deletion.user_id else None

    @admin.display(description="申请人")
    def person(self, deletion):
        if deletion.user_id is None:
            return "（已删除）"
        employee = self._employee(deletion)
        return employee.real_name if employee else f"未填写简历的用户 #{deletion.user_id}"

    @admin.display(description="手机号")
    def masked_phone(self, deletion):
        employee = self._employee(deletion)
        return mask_phone(employee.phone) if employee else "-"

    @admin.display(description="状态", ordering="status")
    def status_label(self, deletion):
        return status_badge(
            deletion.get_status_display(), tone=TONES[deletion.status], css_class=f"sq-deletion-{deletion.status}"
        )

    # --- the review table above, run by ReviewActionsMixin ---------------------------------------------

    def review_name(self, deletion):
        return self.person(deletion)

    def review_blocked(self, deletion, action):
        if deletion.is_open:
            return ""
        return f"该删除申请已处理（{deletion.get_status_display()}）"

    def review_row(self, request, deletion):
        return (
            str(deletion),
            self.person(deletion),
            self.masked_phone(deletion),
            local_time(deletion.requested_at),
            deletion.reason or "-",
        )
