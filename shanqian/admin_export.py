"""
Excel export from a changelist: the selected rows (two actions) or the whole filtered list (the
``export/`` view the changelist links). Masked for everybody; in full (the 完整信息 action or
``?full=1``) only for who may (``may_export_unmasked``), with an access record. Up to
``BULK_INLINE_LIMIT`` rows the file is the response; more become a background job
(``shanqian.bulk``) whose page links the file.

A ModelAdmin mixes in ``ExcelExportMixin``, lists ``export_selected`` and ``export_selected_full``
in its ``actions``, routes ``export/`` to ``export_view``, and declares:

* ``export_job`` — the name of the bulk action that writes the file (the app registers it);
* ``export_row_label`` — the field that names a row on the job's page; ``export_ordering`` — its order;
* ``export_xlsx(queryset, *, mask)`` and ``export_filename()`` — the file;
* ``export_return_url(request)`` (optional) — where the job's page leads back to.
"""

from django.contrib import admin, messages
from django.contrib.admin.options import IncorrectLookupParameters
from django.core.exceptions import PermissionDenied
from django.http import FileResponse, HttpResponseRedirect
from django.urls import reverse

from . import bulk
from .admin_personal import may_export_unmasked
from .admin_search import search_redirect
from .pii_access import export_record
from .xlsx import CONTENT_TYPE


class ExcelExportMixin:
    # What a full export shows unmasked: the access record names it.
    FULL_EXPORT_FIELDS = ("手机号", "身份证号")
    export_job: str
    export_row_label: str
    export_ordering: tuple[str, ...] = ("-pk",)

    def export_xlsx(self, queryset, *, mask: bool):
        raise NotImplementedError

    def export_filename(self) -> str:
        raise NotImplementedError

    def _changelist_url(self) -> str:
        info = self.opts.app_label, self.opts.model_name
        return reverse("admin:{}_{}_changelist".format(*info), current_app=self.admin_site.name)

    def export_return_url(self, request) -> str:
        return self._changelist_url()

    def export_view(self, request):
        if not self.has_view_permission(request):
            raise PermissionDenied
        # A term in ?q= goes to the session first, like the list's; a lost search goes back to the list.
        moved = search_redirect(request, expired_path=self._changelist_url())
        if moved is not None:
            return moved
        full = request.GET.get("full") == "1"
        if full and not may_export_unmasked(request.user):
            raise PermissionDenied
        get = request.GET.copy()
        get.pop("full", None)
        request.GET = get  # the ChangeList reads only its own filters
        try:
            changelist = self.get_changelist_instance(request)
        except IncorrectLookupParameters:
            return HttpResponseRedirect(f"{self._changelist_url()}?e=1")
        # The whole filtered list: more than BULK_INLINE_LIMIT rows is a background job too.
        return self.export_rows(request, changelist.queryset, full=full)

    @admin.action(description="导出 Excel", permissions=["view"])
    def export_selected(self, request, queryset):
        return self.export_rows(request, queryset, full=False)

    @admin.action(description="导出 Excel（完整信息，将记录访问）", permissions=["view"])
    def export_selected_full(self, request, queryset):
        if not may_export_unmasked(request.user):
            raise PermissionDenied
        return self.export_rows(request, queryset, full=True)

    def export_rows(self, request, queryset, *, full: bool):
        # Counted up to the limit only: deciding must not count a million rows.
        if bulk.runs_inline(queryset.order_by()[: bulk.inline_limit() + 1].count()):
            if full:
                export_record(request=request, model=self.model, count=queryset.count(), fields=self.FULL_EXPORT_FIELDS)
            response = FileResponse(
                self.export_xlsx(queryset, mask=not full),
                as_attachment=True,
                filename=self.export_filename(),
                content_type=CONTENT_TYPE,
            )
            response["Cache-Control"] = "no-store"
            return response
        # More rows than BULK_INLINE_LIMIT: a background job writes the file; its page links it.
        rows = [
            (pk, f"{name}（#{pk}）")
            for pk, name in queryset.order_by(*self.export_ordering).values_list("pk", self.export_row_label)
        ]
        if full:
            export_record(request=request, model=self.model, count=len(rows), fields=self.FULL_EXPORT_FIELDS)
        job = bulk.start(
            action=self.export_job,
            rows=rows,
            params={"full": True} if full else {},
            user=request.user,
            return_url=self.export_return_url(request),
        )
        self.message_user(
            request, f"「导出 Excel」共 {job.total} 条，已转为后台任务 #{job.pk}：完成后在本页下载文件。", messages.INFO
        )
        return HttpResponseRedirect(bulk.progress_url(job))
