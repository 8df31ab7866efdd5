"""
合同台账 — the employment contract records in the back office (SPEC §12).

Nobody edits a record by hand: signing creates it, renewal and ending are moves of their own
(``signing.ledger.services``). Scope as for applications: a superuser sees every record, anyone
else the records of applications assigned to them (``contracts_visible_to``), in the list, the
page, the export and the retention report. Phones and ID numbers are masked for everybody,
superusers included, in the list, on the page and in the export; 显示完整信息 on the page
(``shanqian.admin_personal``) and the full export (superusers only) each write an access record.

The start page's ledger panel (``ledger_board``) draws the figures of ``selectors``: applications
per day for 30 days and the funnel as SVG (``shanqian.charts``), contracts ending in 30/60/90
days, the art. 82 risk list — each a link into the filtered list, each one query.
"""

from __future__ import annotations

import datetime
from urllib.parse import urlencode

from django.contrib import admin
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import HttpResponse, HttpResponseRedirect
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone
from django.utils.html import format_html

from employees.masking import mask_id_number, mask_phone
from employees.resume_display import NumberSearchMixin
from shanqian.admin_export import ExcelExportMixin
from shanqian.admin_personal import PersonalDataRevealMixin, may_export_unmasked, personal
from shanqian.admin_reviews import ActionRefused, ReviewAction, ReviewActionsMixin
from shanqian.admin_site import StartPanel
from shanqian.admin_tools import ReadOnlyAdminMixin, masked, object_from, status_badge
from shanqian.charts import Bar, bar_chart, funnel_chart
from shanqian.client import client_context
from shanqian.errors import ApiError
from shanqian.paginators import EstimatedCountPaginator
from shanqian.roles import sees_everything
from shanqian.storage import signed_file_url

from ..admin import HandlerFilter
from ..evidence.package import evidence_package
from ..models import SignStatus
from ..services import applications as application_services
from . import selectors
from . import services as ledger_services
from .admin_forms import EndForm, RenewForm
from .export import EXPORT_JOB, contracts_xlsx, export_filename
from .models import ContractStatus, EmploymentContract, TermType

TONES = {
    ContractStatus.ACTIVE: "active",
    ContractStatus.EXPIRED: "waiting",
    ContractStatus.RENEWED: "done",
    ContractStatus.TERMINATED: "closed",
    ContractStatus.DISSOLVED: "closed",
}
ENDING_WITHIN_MAX_DAYS = 3650


def contract_badge(contract: EmploymentContract):
    return status_badge(
        contract.get_status_display(), tone=TONES[contract.status], css_class=f"sq-contract-status-{contract.status}"
    )


def term_text(contract: EmploymentContract) -> str:
    if contract.term_type == TermType.FIXED and contract.end_date:
        return f"{contract.start_date:%Y-%m-%d} 至 {contract.end_date:%Y-%m-%d}"
    return f"{contract.get_term_type_display()}，自 {contract.start_date:%Y-%m-%d} 起"


class EndingWithinFilter(admin.SimpleListFilter):
    """``?ending_within=N``: in force and ending today or within N days (any N up to ten years)."""

    title = "到期时间"
    parameter_name = "ending_within"

    def lookups(self, request, model_admin):
        return [(str(days), f"{days} 天内到期") for days in selectors.ENDING_BUCKETS]

    def queryset(self, request, queryset):
        value = self.value()
        if value is None:
            return queryset
        if not (value.isascii() and value.isdigit() and 0 < int(value) <= ENDING_WITHIN_MAX_DAYS):
            raise IncorrectLookupParameters("无效的到期天数")
        return selectors.ending_within(queryset, days=int(value))


# --- the moves: 续签 and 终止/解除, served by shanqian.admin_reviews.ReviewActionsMixin ----------------


def _renew_kwargs(records) -> dict:
    companies = {record.company_id: record.company for record in records}
    if len(companies) > 1:
        raise ActionRefused(
            "所选合同属于多个用人单位，合同模板按用人单位区分：请先按用人单位筛选，再分别续签。未作任何修改。"
        )
    art14 = selectors.art14_reason(records[0]) if len(records) == 1 else ""
    return {"company": next(iter(companies.values())), "records": list(records), "art14": art14}


LEDGER_MOVES = {
    "renew": ReviewAction(
        name="renew",
        label="续签",
        form_class=RenewForm,
        submit_label="确认续签（生成待签约的续签申请）",
        perform=lambda record, *, staff, data, client: application_services.application_renew(
            record=record,
            staff=staff,
            contract=data["contract"],
            salary=data["salary"],
            entry_date=data.get("entry_date"),
            term_type=data.get("term_type"),
            end_date=data.get("end_date"),
            probation_months=data.get("probation_months"),
            work_location=data.get("work_location"),
            working_hours=data.get("working_hours"),
            art14_acknowledged=data.get("art14_acknowledged", False),
            client=client,
        ),
        permission="manage",
        tone="done",
        form_kwargs=_renew_kwargs,
    ),
    "end": ReviewAction(
        name="end",
        label="终止/解除",
        form_class=EndForm,
        submit_label="确认终止/解除并出具证明书",
        perform=lambda record, *, staff, data, client: ledger_services.contract_end(
            contract=record,
            staff=staff,
            ground=data["ground"],
            ended_on=data.get("ended_on"),
            note=data.get("note", ""),
            client=client,
        ),
        permission="manage",
        tone="refused",
    ),
}


@admin.register(EmploymentContract)
class EmploymentContractAdmin(
    PersonalDataRevealMixin,
    NumberSearchMixin,
    ReviewActionsMixin,
    ExcelExportMixin,
    ReadOnlyAdminMixin,
    admin.ModelAdmin,
):
    list_display_links = ("employee_name",)
    list_filter = ("status", "company", EndingWithinFilter, HandlerFilter, "term_type")
    list_select_related = ("employee", "company", "ad_user")
    search_fields = ("employee__real_name",)
    search_help_text = "按姓名搜索；输入完整的手机号或身份证号精确查找。"
    list_per_page = 50
    paginator = EstimatedCountPaginator
    show_full_result_count = False
    actions = ["export_selected", "export_selected_full"]
    number_search_phone = "employee__phone"
    number_search_id_number = "employee__id_number"
    review_actions = LEDGER_MOVES
    review_path = "manage"
    review_columns = ("劳动者", "用人单位", "岗位", "合同期限", "状态")
    review_select_related = ("employee", "company", "ad_user", "application")
    fieldsets = (
        ("劳动者", {"fields": ("employee_link", "employee_phone", "employee_id_number")}),
        (
            "合同",
            {"fields": ("status_badge", "company", "work_pos", "work_location", "salary", "handler_name")},
        ),
        ("期限", {"fields": ("term_type", "start_date", "end_date", "probation_end", "retention")}),
        ("文件", {"fields": ("application_link", "document_link", "proof_link")}),
        ("续签", {"fields": ("previous_link", "renewal_link")}),
        ("终止/解除", {"fields": ("ended_on", "end_ground", "end_note", "ended_by", "ended_at")}),
    )
    readonly_fields = (
        "employee_link",
        "employee_phone",
        "employee_id_number",
        "status_badge",
        "company",
        "work_pos",
        "work_location",
        "salary",
        "handler_name",
        "term_type",
        "start_date",
        "end_date",
        "probation_end",
        "retention",
        "application_link",
        "document_link",
        "proof_link",
        "previous_link",
        "renewal_link",
        "ended_on",
        "end_ground",
        "end_note",
        "ended_by",
        "ended_at",
    )

    # --- permissions: view, and the moves ("change" read as "may manage"); never edit by hand --------

    def has_manage_permission(self, request, obj=None):
        user = request.user
        return user.has_perm("signing.change_employmentcontract") and (
            obj is None or sees_everything(user) or obj.ad_user_id == user.pk
        )

    def review_name(self, contract):
        return contract.employee.real_name

    def review_blocked(self, contract, action):
        if contract.status not in (ContractStatus.ACTIVE, ContractStatus.EXPIRED):
            return f"该合同已「{contract.get_status_display()}」，不能{action.label}"
        if action.name == "renew" and contract.end_date is None:
            return "无固定期限劳动合同无需续签"
        return ""

    def review_row(self, request, contract):
        return (
            contract.employee.real_name,
            contract.company,
            contract.work_pos,
            term_text(contract),
            contract.get_status_display(),
        )

    # --- querysets -----------------------------------------------------------------------------------

    def get_queryset(self, request):
        return selectors.contracts_visible_to(staff=request.user, queryset=super().get_queryset(request))

    def get_object(self, request, object_id, from_field=None):
        queryset = self.get_queryset(request).select_related(
            "employee", "company", "ad_user", "document", "previous", "renewed_by", "renewal_application", "ended_by"
        )
        return object_from(queryset, object_id, opts=self.opts, from_field=from_field)

    def get_list_filter(self, request):
        if sees_everything(request.user):
            return self.list_filter
        return tuple(item for item in self.list_filter if item is not HandlerFilter)

    # Masked for everybody, superusers included (shanqian.admin_personal); 显示完整信息 on the page.
    list_display = (
        "employee_name",
        "masked_phone",
        "masked_id_number",
        "company",
        "work_pos",
        "ad_user",
        "term",
        "probation_end",
        "status_badge",
    )

    def changelist_view(self, request, extra_context=None):
        context = {
            "title": "劳动合同台账",
            "may_export_full": may_export_unmasked(request.user),
            **(extra_context or {}),
        }
        return super().changelist_view(request, context)

    def get_actions(self, request):
        actions = super().get_actions(request)
        if not may_export_unmasked(request.user):
            actions.pop("export_selected_full", None)
        return actions

    # --- columns ---------------------------------------------------------------------------------------

    @admin.display(description="姓名", ordering="employee__real_name")
    def employee_name(self, contract):
        return contract.employee.real_name

    masked_phone = masked("employee.phone", mask_phone, description="手机号")
    masked_id_number = masked("employee.id_number", mask_id_number, description="身份证号")

    @admin.display(description="合同期限", ordering="end_date")
    def term(self, contract):
        return term_text(contract)

    @admin.display(description="合同状态", ordering="status")
    def status_badge(self, contract):
        return contract_badge(contract)

    # --- the page --------------------------------------------------------------------------------------

    @admin.display(description="姓名")
    def employee_link(self, contract):
        url = reverse("admin:employees_employee_change", args=[contract.employee_id], current_app=self.admin_site.name)
        return format_html('<a href="{}">{}</a>', url, contract.employee.real_name)

    employee_phone = personal("手机号", "phone", mask_phone, through="employee")
    employee_id_number = personal("身份证号", "id_number", mask_id_number, through="employee")

    @admin.display(description="处理人")
    def handler_name(self, contract):
        return contract.ad_user.display_name

    @admin.display(description="文件保存至")
    def retention(self, contract):
        until = selectors.retained_until(contract)
        if until is None:
            return f"合同履行期间一直保存；终止后至少保存 {selectors.retention_years()} 年"
        return f"{until:%Y-%m-%d} 之前不得删除（终止后 {selectors.retention_years()} 年）"

    @admin.display(description="签约申请")
    def application_link(self, contract):
        url = reverse(
            "admin:signing_signapplication_change", args=[contract.application_id], current_app=self.admin_site.name
        )
        return format_html(
            '<a href="{}">签约申请 #{}</a>　<a href="{}">下载出证包</a>',
            url,
            contract.application_id,
            self._url("evidence", contract.pk),
        )

    @admin.display(description="已签署合同")
    def document_link(self, contract):
        if contract.document is None:
            return "线下签约（无电子签署文件）"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">下载已签署 PDF</a>　SHA-256：<code>{}</code>',
            signed_file_url(contract.document.file.name),
            contract.document.sha256,
        )

    @admin.display(description="解除（终止）劳动合同证明书")
    def proof_link(self, contract):
        if not contract.proof_file:
            return "-"
        return format_html(
            '<a href="{}" target="_blank" rel="noopener">下载证明书 PDF</a>　SHA-256：<code>{}</code>',
            signed_file_url(contract.proof_file.name),
            contract.proof_sha256,
        )

    def _contract_link(self, contract: EmploymentContract | None) -> str:
        if contract is None:
            return "-"
        url = reverse("admin:signing_employmentcontract_change", args=[contract.pk], current_app=self.admin_site.name)
        return format_html('<a href="{}">劳动合同 #{}（{}）</a>', url, contract.pk, term_text(contract))

    @admin.display(description="续签自")
    def previous_link(self, contract):
        return self._contract_link(contract.previous)

    @admin.display(description="续签为")
    def renewal_link(self, contract):
        try:
            renewed_by = contract.renewed_by
        except EmploymentContract.DoesNotExist:
            renewed_by = None
        if renewed_by is not None:
            return self._contract_link(renewed_by)
        pending = contract.renewal_application
        if pending is not None:
            url = reverse("admin:signing_signapplication_change", args=[pending.pk], current_app=self.admin_site.name)
            return format_html('续签申请 <a href="{}">#{}</a>（{}）', url, pending.pk, pending.get_status_display())
        return "-"

    # --- URLs ------------------------------------------------------------------------------------------

    def _url(self, view: str, *args) -> str:
        return reverse(f"admin:signing_employmentcontract_{view}", args=args, current_app=self.admin_site.name)

    def get_urls(self):
        info = "signing_employmentcontract"
        urls = [
            path("export/", self.admin_site.admin_view(self.export_view), name=f"{info}_export"),
            path("retention/", self.admin_site.admin_view(self.retention_view), name=f"{info}_retention"),
            path("<path:object_id>/evidence/", self.admin_site.admin_view(self.evidence_view), name=f"{info}_evidence"),
        ]
        return urls + super().get_urls()

    # --- export ----------------------------------------------------------------------------------------

    export_job = EXPORT_JOB
    export_row_label = "employee__real_name"
    export_ordering = ("-id",)

    def export_xlsx(self, queryset, *, mask):
        return contracts_xlsx(queryset, mask=mask)

    def export_filename(self):
        return export_filename()

    # --- the evidence package, the retention report -------------------------------------------------

    def evidence_view(self, request, object_id):
        contract = self.get_object(request, object_id)
        if contract is None or not self.has_view_permission(request, contract):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        try:
            package = evidence_package(contract.application, actor=request.user, client=client_context(request))
        except ApiError as exc:
            self.message_user(request, exc.msg, level="error")
            return HttpResponseRedirect(self._url("change", contract.pk))
        response = HttpResponse(package.content, content_type="application/zip")
        response["Content-Disposition"] = f'attachment; filename="{package.filename}"'
        response["Cache-Control"] = "no-store"
        return response

    def retention_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        today = timezone.localdate()
        report = selectors.retention_report(staff=request.user, today=today)
        context = {
            **self.admin_site.each_context(request),
            "opts": self.opts,
            "title": "合同文件保存期限报告",
            "report": report,
            "today": today,
            "changelist_url": self._url("changelist"),
        }
        return TemplateResponse(request, "admin/signing/employmentcontract/retention.html", context)


# --- the start page ----------------------------------------------------------------------------------


def _day_label(day: datetime.date) -> str:
    return f"{day.month}/{day.day}"


def _rows(context):
    return [(row["days"], row["count"], row["url"]) for row in context["ending"]]


def ledger_board(request, site) -> StartPanel | None:
    """The figures HR reads at a glance (module docstring); each a link into the filtered list."""
    applications = site.changelist_for(request, "signing.signapplication")
    contracts = site.changelist_for(request, "signing.employmentcontract")
    if applications is None and contracts is None:
        return None
    staff = request.user
    today = timezone.localdate()
    context: dict = {"today": today}
    if applications is not None:
        per_day = selectors.applications_per_day(staff=staff, today=today)
        bars = []
        for day, count in per_day:
            start = timezone.make_aware(datetime.datetime.combine(day, datetime.time.min))
            query = {"apply_time__gte": str(start), "apply_time__lt": str(start + datetime.timedelta(days=1))}
            bars.append(Bar(_day_label(day), count, f"{applications}?{urlencode(query)}"))
        context["per_day_chart"] = bar_chart(bars, title="近 30 天每日签约申请", css_class="sq-per-day")
        context["per_day_total"] = sum(count for _, count in per_day)
        _, window_start = selectors.chart_window(today)
        since = {"apply_time__gte": str(window_start)}

        def url(**filters):
            return f"{applications}?{urlencode({**since, **filters})}"

        funnel = selectors.application_funnel(staff=staff, today=today)
        context["funnel"] = funnel
        context["funnel_chart"] = funnel_chart(
            [
                Bar("签约申请", funnel["applied"], url()),
                Bar("审核通过", funnel["approved"], url(contract__isnull="False"), tone="waiting"),
                Bar("已签约", funnel["signed"], url(status__exact=SignStatus.SIGNED), tone="done"),
            ],
            title="近 30 天签约漏斗",
        )
        context["funnel_rejected_url"] = url(status__exact=SignStatus.REJECTED)
        context["funnel_cancelled_url"] = url(status__exact=SignStatus.CANCELLED)
        rows, total = selectors.art82_risk(staff=staff, today=today)
        cutoff = selectors.art82_cutoff(today)
        context["risk_rows"] = [
            {
                **row,
                "url": reverse("admin:signing_signapplication_change", args=[row["id"]], current_app=site.name),
                "days": (today - row["entry_date"]).days,
            }
            for row in rows
        ]
        context["risk_total"] = total
        context["risk_url"] = (
            f"{applications}?{urlencode({'status__exact': SignStatus.AWAITING_SIGNATURE, 'entry_date__lt': cutoff})}"
        )
    if contracts is not None:
        ending = selectors.contracts_ending(staff=staff, today=today)
        context["ending"] = [
            {"days": days, "count": count, "url": f"{contracts}?{urlencode({'ending_within': days})}"}
            for days, count in ending.items()
        ]
        context["ending_chart"] = bar_chart(
            [Bar(f"{days} 天内", row_count, row_url, tone="waiting") for days, row_count, row_url in _rows(context)],
            title="即将到期的劳动合同",
            width=620,
            height=140,
            label_every=1,
            css_class="sq-ending",
        )
    return StartPanel("admin/signing/ledger_panel.html", context)


admin.site.add_start_panel(ledger_board)
