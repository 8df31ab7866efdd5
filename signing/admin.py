"""
秒云达 1.0 后台: signing applications (签约申请), their audit events and sealed documents.

Nobody edits an application, an event or a document by hand. Every status change
goes through ``signing.services.applications`` — the moves 审核通过 / 驳回 / 取消 / 线下签约,
declared once in ``REVIEWS`` and served by ``shanqian.admin_reviews.ReviewActionsMixin``:
in bulk from the list (the ``delete_selected`` pattern) or one at a time from the
application's page (``<id>/review/<move>/``). So ``has_change_permission`` is False
everywhere here and the model's ``change`` permission is read as "may review"
(``has_review_permission``).

Scope: every queryset starts from ``applications_visible_to`` — a superuser sees
everything, anyone else (a handler) only the applications assigned to them: the
list, the page, the actions, the per-object views and the export. An id outside
that (edited URL, forged POST) is "不存在" like a missing object, and the services
check ``staff_may_act`` again on the locked row. Phones, ID numbers and the emergency
contact's phone are masked for everybody, superusers included, in the list, on the page
and in the export: 显示完整信息 on the page (``shanqian.admin_personal``) and the full
export (superusers only) each write an access record.
"""

from __future__ import annotations

from urllib.parse import urlencode

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.db.models import Prefetch
from django.http import HttpResponse, HttpResponseRedirect
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from employees.masking import mask_id_number, mask_phone
from employees.models import EmployeeEducation, WorkExperience
from employees.resume_display import (
    NumberSearchMixin,
    acct_address,
    age_now,
    current_address,
    education_table,
    emergency_contact,
    id_card_photos,
    nation_label,
    resume_field,
    work_table,
)
from shanqian import bulk
from shanqian.admin_export import ExcelExportMixin
from shanqian.admin_personal import PersonalDataRevealMixin, may_export_unmasked, personal, revealed
from shanqian.admin_reviews import ActionRefused, ReviewAction, ReviewActionsMixin
from shanqian.admin_site import StartPanel
from shanqian.admin_tools import ReadOnlyAdminMixin, local_time, masked, object_from
from shanqian.client import client_context
from shanqian.models import PersonalDataAccess
from shanqian.paginators import EstimatedCountPaginator
from shanqian.pii_access import access_record, export_record
from shanqian.roles import handlers_queryset, sees_everything
from shanqian.storage import signed_file_url

from .admin_forms import ApproveForm, CancelForm, RejectForm, SignOfflineForm
from .admin_preview import contract_preview_urls
from .admin_verify import verify_document_urls
from .display import application_badge
from .evidence.jobs import EVIDENCE_FIELDS, EVIDENCE_JOB, evidence_job_params
from .evidence.package import EvidenceUnavailable, bundle, evidence_package, evidence_packages
from .export import EXPORT_JOB, applications_xlsx, export_filename
from .models import SignApplication, SignedDocument, SignEvent, SignStatus
from .selectors import WORK_QUEUE_ORDERING, application_dashboard, applications_visible_to
from .services import applications as services

# --- the review moves: one table, served by shanqian.admin_reviews.ReviewActionsMixin ---------------


def _one_company(applications) -> dict:
    """Contract templates belong to one company: one approve form cannot fit rows of several."""
    companies = {application.company_id: application.company for application in applications}
    if len(companies) > 1:
        raise ActionRefused(
            "所选申请属于多个用人单位（"
            + "、".join(str(company) for company in companies.values())
            + "），合同模板按用人单位区分：请先按用人单位筛选，再分别审核通过。未作任何修改。"
        )
    return {"company": next(iter(companies.values()))}


# The service is looked up at call time (``services.application_…``), so a test may stand in for it.
REVIEWS = {
    "approve": ReviewAction(
        name="approve",
        label=services.MOVES["approve"].label,
        form_class=ApproveForm,
        submit_label="确认审核通过",
        perform=lambda app, *, staff, data, client: services.application_approve(
            application=app,
            staff=staff,
            contract=data["contract"],
            entry_date=data["entry_date"],
            salary=data["salary"],
            term_type=data.get("term_type"),
            end_date=data.get("end_date"),
            probation_months=data.get("probation_months"),
            work_location=data.get("work_location"),
            working_hours=data.get("working_hours"),
            client=client,
        ),
        permission="review",
        tone="done",
        form_kwargs=_one_company,
    ),
    "reject": ReviewAction(
        name="reject",
        label=services.MOVES["reject"].label,
        form_class=RejectForm,
        submit_label="确认驳回",
        perform=lambda app, *, staff, data, client: services.application_reject(
            application=app, staff=staff, reason=data["reason"], client=client
        ),
        permission="review",
        tone="refused",
    ),
    "cancel": ReviewAction(
        name="cancel",
        label=services.MOVES["cancel"].label,
        form_class=CancelForm,
        submit_label="确认取消申请",
        perform=lambda app, *, staff, data, client: services.application_cancel(
            application=app, actor_staff=staff, note=data["note"], client=client
        ),
        permission="review",
        tone="refused",
    ),
    "sign_offline": ReviewAction(
        name="sign_offline",
        label=services.MOVES["sign_offline"].label,
        form_class=SignOfflineForm,
        submit_label="确认已线下签约",
        perform=lambda app, *, staff, data, client: services.application_sign_offline(
            application=app, staff=staff, note=data["note"], client=client
        ),
        permission="review",
    ),
}


# --- filters -----------------------------------------------------------------------------------------


class HandlerFilter(admin.SimpleListFilter):
    title = "处理人"
    parameter_name = "handler"

    def lookups(self, request, model_admin):
        return [(str(user.pk), user.display_name) for user in handlers_queryset().order_by("id")]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not (value.isascii() and value.isdigit()):
            raise IncorrectLookupParameters("无效的处理人")
        return queryset.filter(ad_user_id=int(value))


# --- inlines -----------------------------------------------------------------------------------------


class ReadOnlyInlineMixin(ReadOnlyAdminMixin):
    extra = 0
    max_num = 0
    can_delete = False
    show_change_link = False


class SignEventInline(ReadOnlyInlineMixin, admin.TabularInline):
    model = SignEvent
    verbose_name = "审计记录"
    verbose_name_plural = "审计记录（状态变更与操作）"
    fields = ("created_at", "kind", "transition", "actor", "ip", "city", "location", "note", "short_user_agent")
    readonly_fields = fields
    ordering = ("created_at", "id")

    def get_queryset(self, request):
        return super().get_queryset(request).select_related("actor_staff")

    @admin.display(description="状态")
    def transition(self, event):
        if event.to_status is None:
            return "-"
        source = SignStatus(event.from_status).label if event.from_status in SignStatus.values else "（新建）"
        return f"{source} → {SignStatus(event.to_status).label}"

    @admin.display(description="操作人")
    def actor(self, event):
        return event.actor_display

    @admin.display(description="位置")
    def location(self, event):
        return f"{event.lng},{event.lat}" if event.lng is not None and event.lat is not None else "-"

    @admin.display(description="User-Agent")
    def short_user_agent(self, event):
        if not event.user_agent:
            return "-"
        text = event.user_agent if len(event.user_agent) <= 40 else f"{event.user_agent[:40]}…"
        return format_html('<span title="{}">{}</span>', event.user_agent, text)


# --- the application admin ---------------------------------------------------------------------------


@admin.register(SignApplication)
class SignApplicationAdmin(
    PersonalDataRevealMixin,
    NumberSearchMixin,
    ReviewActionsMixin,
    ExcelExportMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,
):
    list_display_links = ("employee_name",)
    list_filter = ("status", "company", HandlerFilter, ("apply_time", admin.DateFieldListFilter))
    list_select_related = ("em", "company", "ad_user")
    search_fields = ("em__real_name",)
    search_help_text = "按姓名搜索；输入完整的手机号或身份证号精确查找。"
    list_per_page = 50
    # A million rows must not be counted twice per page (bench/scale.py, docs/scale.md).
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["export_selected", "export_selected_full", "evidence_selected"]
    reveal_fields = ("手机号", "身份证号", "紧急联系人电话")
    number_search_phone = "em__phone"
    number_search_id_number = "em__id_number"
    review_actions = REVIEWS
    review_columns = ("签约人", "手机号", "用人单位", "岗位", "状态", "申请时间")
    review_select_related = ("em", "company", "ad_user")
    inlines = [SignEventInline]
    fieldsets = (
        (
            "申请",
            {"fields": ("status_badge", "company", "work_pos", "handler_name", "apply_time", "updated_at")},
        ),
        (
            "审核结果",
            {
                "fields": (
                    "contract_link",
                    ("entry_date", "term_type", "end_date"),
                    ("probation_months", "probation_end"),
                    "salary",
                    ("work_location", "working_hours"),
                    "reason",
                )
            },
        ),
        (
            "简历",
            {
                "fields": (
                    "employee_link",
                    "em_phone",
                    "em_id_number",
                    ("em_gender", "em_age", "em_nation"),
                    ("em_marital", "em_political", "em_acct_type"),
                    "em_acct_address",
                    "em_address",
                    "em_contact",
                )
            },
        ),
        ("身份证照片", {"fields": ("id_card_photos",)}),
        ("教育经历", {"fields": ("education_table",)}),
        ("工作经历", {"fields": ("work_table",)}),
        ("已签署文件", {"fields": ("document_panel",)}),
    )
    readonly_fields = (
        "status_badge",
        "company",
        "work_pos",
        "handler_name",
        "apply_time",
        "updated_at",
        "contract_link",
        "entry_date",
        "term_type",
        "end_date",
        "probation_months",
        "probation_end",
        "salary",
        "work_location",
        "working_hours",
        "reason",
        "employee_link",
        "em_phone",
        "em_id_number",
        "em_gender",
        "em_age",
        "em_nation",
        "em_marital",
        "em_political",
        "em_acct_type",
        "em_acct_address",
        "em_address",
        "em_contact",
        "id_card_photos",
        "education_table",
        "work_table",
        "document_panel",
    )

    # --- permissions: view, review; never add, edit or delete (ReadOnlyAdminMixin) ------------------

    def has_review_permission(self, request, obj=None):
        opts = self.opts
        return request.user.has_perm(f"{opts.app_label}.change_{opts.model_name}") and (
            obj is None or services.staff_may_act(obj, request.user)
        )

    # --- querysets -----------------------------------------------------------------------------------

    def get_queryset(self, request):
        return applications_visible_to(staff=request.user, queryset=super().get_queryset(request))

    def get_ordering(self, request):
        return list(WORK_QUEUE_ORDERING)

    def get_object(self, request, object_id, from_field=None):
        queryset = (
            self.get_queryset(request)
            .select_related("em__id_card_front", "em__id_card_back", "company", "ad_user", "contract", "document")
            .prefetch_related(
                Prefetch("em__educations", queryset=EmployeeEducation.objects.order_by("start_date", "id")),
                Prefetch("em__work_exps", queryset=WorkExperience.objects.order_by("start_date", "id")),
            )
        )
        return object_from(queryset, object_id, opts=self.opts, from_field=from_field)

    # --- the list ------------------------------------------------------------------------------------

    # Masked for everybody, superusers included (shanqian.admin_personal); 显示完整信息 on the page.
    list_display = (
        "employee_name",
        "masked_phone",
        "masked_id_number",
        "company",
        "work_pos",
        "ad_user",
        "status_badge",
        "apply_time_display",
    )

    def changelist_view(self, request, extra_context=None):
        context = {"title": "签约申请", "may_export_full": may_export_unmasked(request.user), **(extra_context or {})}
        return super().changelist_view(request, context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not may_export_unmasked(request.user):
            actions.pop("export_selected_full", None)
        return actions

    def get_list_filter(self, request):
        if sees_everything(request.user):
            return self.list_filter
        return tuple(item for item in self.list_filter if item is not HandlerFilter)

    @admin.display(description="姓名", ordering="em__real_name")
    def employee_name(self, application):
        return application.em.real_name

    masked_phone = masked("em.phone", mask_phone, description="手机号")
    masked_id_number = masked("em.id_number", mask_id_number, description="身份证号")
    em_phone = personal("手机号", "phone", mask_phone, through="em")
    em_id_number = personal("身份证号", "id_number", mask_id_number, through="em")

    @admin.display(description="签约状态", ordering="status")
    def status_badge(self, application):
        return application_badge(application)

    @admin.display(description="申请时间", ordering="apply_time")
    def apply_time_display(self, application):
        return local_time(application.apply_time)

    # --- the page ------------------------------------------------------------------------------------

    @admin.display(description="处理人")
    def handler_name(self, application):
        return application.ad_user.display_name

    @admin.display(description="签约人")
    def employee_link(self, application):
        url = reverse("admin:employees_employee_change", args=[application.em_id], current_app=self.admin_site.name)
        return format_html('<a href="{}">{}</a>（简历编号 {}）', url, application.em.real_name, application.em_id)

    em_gender = resume_field("性别", lambda e: e.get_gender_display(), through="em")
    em_age = resume_field("年龄", age_now, through="em")
    em_nation = resume_field("民族", nation_label, through="em")
    em_marital = resume_field("婚姻状况", lambda e: e.get_marital_sts_display(), through="em")
    em_political = resume_field("政治面貌", lambda e: e.get_political_sts_display(), through="em")
    em_acct_type = resume_field("户口类型", lambda e: e.get_acct_type_display(), through="em")
    em_acct_address = resume_field("户籍地址", acct_address, through="em")
    em_address = resume_field("现居地址", current_address, through="em")

    @admin.display(description="紧急联系人")
    def em_contact(self, application):
        mask = None if revealed(application) else mask_phone
        return emergency_contact(application.em, mask=mask) or "-"

    id_card_photos = resume_field("身份证照片", lambda e: id_card_photos(e.id_card_front, e.id_card_back), through="em")
    education_table = resume_field("教育经历", education_table, through="em")
    work_table = resume_field("工作经历", work_table, through="em")

    @admin.display(description="合同模板")
    def contract_link(self, application):
        contract = application.contract
        if contract is None:
            return "-"
        if not contract.file:
            return str(contract)
        return format_html(
            '{}　<a href="{}" target="_blank" rel="noopener">查看合同文件</a>',
            contract,
            signed_file_url(contract.file.name),
        )

    @admin.display(description="已签署 PDF")
    def document_panel(self, application):
        try:
            document = application.document
        except SignedDocument.DoesNotExist:
            document = None
        if document is None:
            return "尚未生成（员工在小程序中签署后生成）"
        evidence = ""
        if application.status == SignStatus.SIGNED:
            evidence = format_html(
                '　<a href="{}" class="sq-evidence-link">下载出证包</a>', self._evidence_url(application)
            )
        return format_html(
            '<a href="{}" target="_blank" rel="noopener" class="sq-document-link">下载已签署 PDF</a>{}<br>'
            "SHA-256：<code>{}</code><br>大小：{} 字节　签署时间：{}",
            signed_file_url(document.file.name),
            evidence,
            document.sha256,
            document.size,
            local_time(document.created_at),
        )

    def _evidence_url(self, application) -> str:
        return reverse(
            "admin:signing_signapplication_evidence", args=[application.pk], current_app=self.admin_site.name
        )

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        response = super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
        if obj is not None and obj.status == SignStatus.SIGNED and self.has_view_permission(request, obj):
            # 出证包: a button beside the review moves (the template draws review_buttons).
            response.context_data.setdefault("review_buttons", []).append(
                {"name": "evidence", "label": "下载出证包", "tone": "", "url": self._evidence_url(obj)}
            )
        return response

    # --- URLs: per-object review, export ------------------------------------------------------------

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        urls = [
            path("export/", self.admin_site.admin_view(self.export_view), name="{}_{}_export".format(*info)),
            path(
                "<str:object_id>/evidence/",
                self.admin_site.admin_view(self.evidence_view),
                name="{}_{}_evidence".format(*info),
            ),
            *verify_document_urls(self.admin_site),
            *contract_preview_urls(self.admin_site),
        ]
        # Ours first: super()'s "<path:object_id>/" would swallow them.
        return urls + super().get_urls()

    # --- review: the table above, run by ReviewActionsMixin -----------------------------------------

    def review_name(self, application):
        return application.em.real_name

    def review_blocked(self, application, action):
        if services.can_move(application, action.name):
            return ""
        return f"该申请当前为「{application.get_status_display()}」，不能{action.label}"

    def review_row(self, request, application):
        return (
            self.review_describe(application),
            mask_phone(application.em.phone),
            application.company,
            application.work_pos,
            application.get_status_display(),
            local_time(application.apply_time),
        )

    # --- 出证包 (SPEC §10): one from the page, many from the list (a job above BULK_INLINE_LIMIT) ------

    def evidence_view(self, request, object_id):
        application = None
        if object_id.isascii() and object_id.isdigit() and len(object_id) <= 18:
            application = self.get_queryset(request).filter(pk=int(object_id)).first()
        if application is None or not self.has_view_permission(request, application):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        try:
            package = evidence_package(application, actor=request.user, client=client_context(request), via="admin")
        except EvidenceUnavailable as exc:
            self.message_user(request, f"申请编号 {application.pk}：{exc.msg}", messages.ERROR)
            return HttpResponseRedirect(self._admin_url(request, "change", application.pk))
        # The package holds the contract in full (the ID number in it): an access record, as an export.
        access_record(request=request, obj=application, fields=EVIDENCE_FIELDS, action=PersonalDataAccess.Action.EXPORT)
        return _zip_response(package.content, package.filename)

    @admin.action(description="下载出证包", permissions=["view"])
    def evidence_selected(self, request, queryset):
        queryset = queryset.order_by("pk")
        if bulk.runs_inline(queryset.count()):
            result = evidence_packages(
                list(queryset), actor=request.user, client=client_context(request), via="admin 批量"
            )
            if not result.packages:
                for pk, reason in result.refused:
                    self.message_user(request, f"申请编号 {pk}：{reason}", messages.ERROR)
                return None
            export_record(request=request, model=SignApplication, count=len(result.packages), fields=EVIDENCE_FIELDS)
            stamp = timezone.localtime().strftime("%Y%m%d-%H%M%S")
            return _zip_response(bundle(result), f"evidence-{stamp}.zip")
        rows = [(pk, f"{name}（#{pk}）") for pk, name in queryset.values_list("pk", "em__real_name")]
        job = bulk.start(
            action=EVIDENCE_JOB,
            rows=rows,
            params=evidence_job_params(client_context(request), path=request.path),
            user=request.user,
            return_url=self._admin_url(request, "changelist"),
        )
        self.message_user(
            request,
            f"「下载出证包」共 {job.total} 条，已转为后台任务 #{job.pk}：完成后在本页下载文件。",
            messages.INFO,
        )
        return HttpResponseRedirect(bulk.progress_url(job))

    # --- export --------------------------------------------------------------------------------------

    export_job = EXPORT_JOB
    export_row_label = "em__real_name"
    export_ordering = WORK_QUEUE_ORDERING

    def export_xlsx(self, queryset, *, mask):
        return applications_xlsx(queryset, mask=mask)

    def export_filename(self):
        return export_filename()

    def export_return_url(self, request):
        return self._admin_url(request, "changelist")


def _zip_response(content: bytes, filename: str) -> HttpResponse:
    response = HttpResponse(content, content_type="application/zip")
    response["Content-Disposition"] = f'attachment; filename="{filename}"'
    response["Cache-Control"] = "no-store"
    return response


# --- events and documents: read-only ------------------------------------------------------------------


@admin.register(SignEvent)
class SignEventAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("created_at", "application_link", "kind", "from_status", "to_status", "actor", "ip", "city")
    list_filter = ("kind", "to_status", ("created_at", admin.DateFieldListFilter))
    list_select_related = ("application__em", "actor_staff")
    search_fields = ("application__em__real_name",)
    search_help_text = "按签约人姓名搜索；输入数字按申请编号查找。"
    ordering = ("-created_at", "-id")
    fields = (
        "application_link",
        "kind",
        "from_status",
        "to_status",
        "actor",
        "created_at",
        "ip",
        "user_agent",
        "lng",
        "lat",
        "city",
        "note",
        "document_sha256",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_everything(request.user):
            return queryset
        return queryset.filter(application__ad_user_id=request.user.pk)

    def get_search_results(self, request, queryset, search_term):
        term = search_term.strip()
        if term.isascii() and term.isdigit() and len(term) <= 18:
            return queryset.filter(application_id=int(term)), False
        return super().get_search_results(request, queryset, search_term)

    @admin.display(description="签约申请")
    def application_link(self, event):
        url = reverse(
            "admin:signing_signapplication_change", args=[event.application_id], current_app=self.admin_site.name
        )
        return format_html('<a href="{}">{}（#{}）</a>', url, event.application.em.real_name, event.application_id)

    @admin.display(description="操作人")
    def actor(self, event):
        return event.actor_display


@admin.register(SignedDocument)
class SignedDocumentAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    list_display = ("application_link", "short_sha256", "size", "created_at", "download")
    list_select_related = ("application__em",)
    search_fields = ("application__em__real_name", "=sha256")
    ordering = ("-created_at",)
    fields = (
        "application_link",
        "download",
        "sha256",
        "size",
        "contract_sha256",
        "signature_sha256",
        "created_at",
    )
    readonly_fields = fields

    def get_queryset(self, request):
        queryset = super().get_queryset(request)
        if sees_everything(request.user):
            return queryset
        return queryset.filter(application__ad_user_id=request.user.pk)

    @admin.display(description="签约申请")
    def application_link(self, document):
        url = reverse(
            "admin:signing_signapplication_change", args=[document.application_id], current_app=self.admin_site.name
        )
        name = document.application.em.real_name
        return format_html('<a href="{}">{}（#{}）</a>', url, name, document.application_id)

    @admin.display(description="文件 SHA-256")
    def short_sha256(self, document):
        return f"{document.sha256[:16]}…"

    @admin.display(description="文件")
    def download(self, document):
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">下载 PDF</a>', signed_file_url(document.file.name)
        )


# --- the start page ----------------------------------------------------------------------------------


def applications_board(request, site) -> StartPanel | None:
    """Applications by status, applied today and overall, each count a link to the filtered list."""
    changelist = site.changelist_for(request, "signing.signapplication")
    if changelist is None:
        return None
    board = application_dashboard(staff=request.user)
    start, end = board["today_range"]
    today = {"apply_time__gte": str(start), "apply_time__lt": str(end)}
    rows = [
        {
            "label": status.label,
            "status": status.value,
            "today": board["today"][status.value],
            "total": board["total"][status.value],
            "today_capped": status.value in board["today_capped"],
            "capped": status.value in board["capped"],
            "today_url": f"{changelist}?{urlencode({'status__exact': status.value, **today})}",
            "total_url": f"{changelist}?{urlencode({'status__exact': status.value})}",
            "waiting": status in (SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE),
        }
        for status in SignStatus
    ]
    return StartPanel(
        "admin/signing/start_panel.html",
        {
            "rows": rows,
            "today_all": board["today_all"],
            "total_all": board["total_all"],
            "today_all_capped": bool(board["today_capped"]),
            "total_all_capped": bool(board["capped"]),
            "today_url": f"{changelist}?{urlencode(today)}",
            "total_url": changelist,
            "date": start.date(),
        },
    )


admin.site.add_start_panel(applications_board)
