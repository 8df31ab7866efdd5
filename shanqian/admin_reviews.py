"""
The back office's review-action framework, written once for every app's admin.

Review actions — one framework for every "decide on this row" move of the back office
(applications: 审核通过 / 驳回 / 取消 / 线下签约; real-name: 实名成功 / 实名失败; the seal
authorisations and renewals to come). A ModelAdmin mixes in ``ReviewActionsMixin`` and
declares its moves as a table of ``ReviewAction`` (label, form, the service call, who may use
it); the mixin turns each into

* a changelist action ``<name>_selected`` following
  ``django.contrib.admin.actions.delete_selected``: the first POST renders
  ``admin/shanqian/action_form.html`` with the selected ids in hidden fields (rows that cannot
  take the move are listed with the reason); the confirming POST (``post=yes``) validates the
  form and calls the service once per row. Domain errors (``shanqian.errors.ApiError``:
  ``TransitionNotAllowed``, ``NotYourApplication``, ``InvalidInput``, ``Conflict``…) are
  caught per row and reported by name; the other rows are processed;
* a per-object page ``<id>/<review_path>/<name>/`` (``auth/admin.py``'s ``get_urls`` +
  ``admin_site.admin_view`` pattern) with a button on the object's page for each move it can take;
* forged-id protection: hostile ``_selected_action`` values are refused before Django's
  ``pk__in`` filter can turn them into a 500 (``selected_ids_are_valid``), ids outside the
  staff member's scoped queryset are reported and skipped (``report_unavailable``), an object
  outside it is "不存在" on the per-object page.

Nothing here writes a model: the services do, and they check the actor again on the locked row.
A confirmed bulk run goes through ``ReviewActionsMixin.review_runner``: up to
``BULK_INLINE_LIMIT`` rows run in the request (``run_inline``); more become a background job
(``run_as_job``, ``shanqian.bulk``) and the user lands on its progress page. The job keeps the
action's name, the row ids, the POSTed form fields, the staff id and the client context; the
worker cleans the form again per row (against the database of that moment), checks the staff
member's permission on the row, and calls the same ``action.perform`` — the row's move, its
notices and its item's result commit together (``shanqian.bulk``: each row exactly once).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from decimal import Decimal

from django import forms
from django.contrib import messages
from django.contrib.admin import helpers
from django.contrib.admin.options import IS_POPUP_VAR
from django.contrib.admin.templatetags.admin_urls import add_preserved_filters
from django.contrib.admin.utils import unquote
from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpRequest, HttpResponseRedirect
from django.http.response import HttpResponseBase
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils.datastructures import MultiValueDict

from . import bulk
from .client import ClientContext, client_context
from .errors import ApiError, Conflict, Forbidden, InvalidInput, NotFound, error_text

MAX_NAMES = 10
MAX_ID_LENGTH = 18


def names(labels: Sequence[str]) -> str:
    shown = "、".join(labels[:MAX_NAMES])
    return f"{shown} 等 {len(labels)} 条" if len(labels) > MAX_NAMES else shown


def is_confirmation(request) -> bool:
    return request.method == "POST" and request.POST.get("post") == "yes"


def selected_ids_are_valid(request) -> bool:
    return all(
        value.isascii() and value.isdigit() and len(value) <= MAX_ID_LENGTH
        for value in request.POST.getlist(helpers.ACTION_CHECKBOX_NAME)
    )


def report_unavailable(modeladmin, request, objects: Iterable) -> int:
    """Report posted ids that the scoped queryset did not return; returns how many."""
    if request.POST.get("select_across") == "1":
        return 0
    selected = set(request.POST.getlist(helpers.ACTION_CHECKBOX_NAME))
    missing = selected - {str(obj.pk) for obj in objects}
    if missing:
        modeladmin.message_user(
            request,
            f"所选的 {len(missing)} 条记录不在您可处理的列表中"
            "（不存在、不由您处理，或已不符合当前筛选条件），未作处理。",
            messages.ERROR,
        )
    return len(missing)


def perform_each(
    modeladmin,
    request,
    objects: Iterable,
    perform: Callable,
    *,
    done_label: str,
    describe: Callable[[object], str],
) -> list:
    """Call ``perform(obj)`` per object; each domain error becomes one ERROR message naming the row."""
    done = []
    for obj in objects:
        try:
            perform(obj)
        except ApiError as exc:
            modeladmin.message_user(request, f"{describe(obj)}：{error_text(exc)}", messages.ERROR)
        else:
            done.append(obj)
    if done:
        modeladmin.message_user(
            request, f"已{done_label} {len(done)} 条：{names([describe(obj) for obj in done])}。", messages.SUCCESS
        )
    return done


@dataclass
class ActionRow:
    cells: Sequence
    blocked: str = ""  # why this row will be skipped, shown on the page


@dataclass
class ActionPage:
    title: str
    submit_label: str
    columns: Sequence[str]
    rows: Sequence[ActionRow]
    intro: str = ""
    cancel_url: str = ""
    action_name: str | None = None  # set for a changelist action: the page re-posts it with the ids
    selected_ids: Sequence = field(default_factory=list)
    danger: bool = False


def render_action_form(modeladmin, request, *, page: ActionPage, form, extra_context: dict | None = None):
    opts = modeladmin.model._meta
    media = modeladmin.media
    if form is not None:
        media += form.media
    context = {
        **modeladmin.admin_site.each_context(request),
        "title": page.title,
        "subtitle": None,
        "opts": opts,
        "app_label": opts.app_label,
        "page": page,
        "form": form,
        "media": media,
        "action_checkbox_name": helpers.ACTION_CHECKBOX_NAME,
        **(extra_context or {}),
    }
    request.current_app = modeladmin.admin_site.name
    return TemplateResponse(request, "admin/shanqian/action_form.html", context)


def form_errors_from(form: forms.Form, exc: InvalidInput) -> None:
    """A service's field errors onto the form's fields (a field the form lacks: a form-wide error)."""
    errors = (exc.data or {}).get("errors") or {}
    for name, field_errors in errors.items():
        for message in field_errors if isinstance(field_errors, list) else [field_errors]:
            form.add_error(name if name in form.fields else None, str(message))
    if not errors:
        form.add_error(None, exc.msg)


# --- the review-action framework ------------------------------------------------------------------


class ActionRefused(Exception):
    """Raised by ``ReviewAction.form_kwargs`` when one form cannot serve the selection; nothing changes."""


@dataclass(frozen=True)
class ReviewAction:
    """
    One move of a review table. ``perform(obj, *, staff, data, client)`` calls the service with the
    form's ``cleaned_data``; ``permission`` names the ModelAdmin's ``has_<permission>_permission(request,
    obj=None)`` (who may use it at all, and on this object); ``form_kwargs(objects)`` builds the form's
    keyword arguments from the rows it will serve (or raises ``ActionRefused``). ``tone`` colours the
    button: ``"done"`` green, ``"refused"`` red (and the confirm button red too).
    """

    name: str
    label: str
    form_class: type[forms.Form]
    perform: Callable[..., object]
    submit_label: str
    permission: str = "change"
    tone: str = ""
    form_kwargs: Callable[[Sequence], dict] | None = None

    @property
    def danger(self) -> bool:
        return self.tone == "refused"

    @property
    def action_name(self) -> str:
        return f"{self.name}_selected"


@dataclass(frozen=True)
class BulkRun:
    """
    A confirmed bulk review: what ``review_runner``'s runner gets. A job runner (when more than
    ``BULK_INLINE_LIMIT`` rows are selected) would keep ``action.name``, the objects' ids, the
    POSTed form data (to clean it again in the worker) and ``staff.pk``, queue them, and tell the
    user the run was handed over; the worker then calls ``action.perform`` per row like ``run_inline``.
    """

    action: ReviewAction
    objects: Sequence
    data: dict
    staff: object
    client: ClientContext | None
    # The form's fields as POSTed ({name: [values]}): what a background job cleans again per row.
    posted: dict = field(default_factory=dict)


def run_inline(modeladmin, request, run: BulkRun) -> list:
    """Run now, in the request: one service call per row, each failure reported by name; returns the done rows."""
    done = perform_each(
        modeladmin,
        request,
        run.objects,
        lambda obj: run.action.perform(obj, staff=run.staff, data=run.data, client=run.client),
        done_label=run.action.label,
        describe=modeladmin.review_describe,
    )
    for obj in done:
        modeladmin.log_change(request, obj, run.action.label)
    return done


def client_params(client: ClientContext | None) -> dict | None:
    """A client context as JSON (a job's parameters)."""
    if client is None:
        return None
    return {
        "ip": client.ip,
        "user_agent": client.user_agent,
        "lng": None if client.lng is None else str(client.lng),
        "lat": None if client.lat is None else str(client.lat),
        "city": client.city,
    }


def client_from(params: dict | None) -> ClientContext | None:
    if not params:
        return None
    return ClientContext(
        ip=params.get("ip"),
        user_agent=params.get("user_agent") or "",
        lng=None if params.get("lng") is None else Decimal(params["lng"]),
        lat=None if params.get("lat") is None else Decimal(params["lat"]),
        city=params.get("city"),
    )


def run_as_job(modeladmin, request, run: BulkRun) -> HttpResponseRedirect:
    """Hand the run to a background job (``shanqian.bulk``) and show its progress page."""
    job = bulk.start(
        action=modeladmin.review_job_name(run.action),
        rows=[(obj.pk, modeladmin.review_describe(obj)) for obj in run.objects],
        params={"data": run.posted, "client": client_params(run.client)},
        user=run.staff,
        return_url=modeladmin._admin_url(request, "changelist"),
    )
    modeladmin.message_user(
        request,
        f"「{run.action.label}」共 {job.total} 条，已转为后台任务 #{job.pk}：本页显示进度，完成后列出每一条的结果。",
        messages.INFO,
    )
    return HttpResponseRedirect(bulk.progress_url(job))


def _bulk_action(action: ReviewAction):
    def run(modeladmin, request, queryset):
        return modeladmin.review_bulk(request, queryset, action)

    run.__name__ = action.action_name
    return run


class ReviewActionsMixin:
    """
    Review moves for a ModelAdmin, from the table ``review_actions`` (name → ``ReviewAction``). The
    ModelAdmin provides ``review_name(obj)`` (who the row is about, e.g. the employee's name),
    ``review_row(request, obj)`` (the confirmation page's cells under ``review_columns``) and
    ``review_blocked(obj, action)`` (why the row cannot take the move, "" when it can; the service
    stays the authority and is still asked for every row).
    """

    review_actions: dict[str, ReviewAction] = {}
    review_path = "review"  # <id>/<review_path>/<name>/, URL name "<app>_<model>_<review_path>"
    review_columns: Sequence[str] = ()
    review_select_related: Sequence[str] = ()
    change_form_template = "admin/shanqian/review_change_form.html"

    def review_name(self, obj) -> str:
        return str(obj)

    def review_row(self, request, obj) -> Sequence:
        return (self.review_describe(obj),)

    def review_blocked(self, obj, action: ReviewAction) -> str:
        return ""

    def review_describe(self, obj) -> str:
        return f"{self.review_name(obj)}（#{obj.pk}）"

    def review_runner(self, request, run: BulkRun) -> Callable:
        """How a confirmed bulk run is carried out: in the request up to ``BULK_INLINE_LIMIT`` rows, else a job."""
        return run_inline if bulk.runs_inline(len(run.objects)) else run_as_job

    # --- background jobs: one registered bulk action per review action ------------------------------

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        for action in self.review_actions.values():
            bulk.register(
                bulk.BulkAction(
                    name=self.review_job_name(action),
                    label=action.label,
                    perform=lambda object_id, params, staff, _name=action.name: self.review_job_row(
                        _name, object_id, params, staff
                    ),
                )
            )

    def review_job_name(self, action: ReviewAction) -> str:
        return f"{self.opts.label_lower}.{action.name}"

    def review_job_row(self, name: str, object_id: int, params: dict, staff) -> str:
        """One row of a review job, in the worker: the same checks and service call as ``run_inline``."""
        action = self.review_actions[name]
        queryset = self.model._default_manager.all()
        if self.review_select_related:
            queryset = queryset.select_related(*self.review_select_related)
        obj = queryset.filter(pk=object_id).first()
        if obj is None:
            raise NotFound("记录已不存在")
        # The permission as of now, not as of the click: an account disabled meanwhile stops here.
        request = HttpRequest()
        request.user = staff
        if not (staff.is_active and staff.is_staff) or not self.may_review(request, action, obj):
            raise Forbidden("您已无权处理该记录")
        blocked = self.review_blocked(obj, action)
        if blocked:
            raise Conflict(blocked)
        try:
            kwargs = action.form_kwargs([obj]) if action.form_kwargs else {}
        except ActionRefused as exc:
            raise Conflict(str(exc)) from None
        form = action.form_class(MultiValueDict(params.get("data") or {}), **kwargs)
        if not form.is_valid():
            raise InvalidInput(errors={field: list(errors) for field, errors in form.errors.items()})
        action.perform(obj, staff=staff, data=form.cleaned_data, client=client_from(params.get("client")))
        self.log_change(request, obj, action.label)
        return f"已{action.label}"

    def may_review(self, request, action: ReviewAction, obj=None) -> bool:
        return getattr(self, f"has_{action.permission}_permission")(request, obj)

    # --- wiring into the ModelAdmin -----------------------------------------------------------------

    def get_actions(self, request):
        actions = super().get_actions(request)
        if self.actions is None or IS_POPUP_VAR in request.GET:
            return actions
        reviews = {
            action.action_name: (_bulk_action(action), action.action_name, action.label)
            for action in self.review_actions.values()
            if self.may_review(request, action)
        }
        return {**reviews, **actions}

    def response_action(self, request, queryset):
        if not selected_ids_are_valid(request):
            self.message_user(request, "所选记录的编号无效，未作任何修改。", messages.ERROR)
            return HttpResponseRedirect(request.get_full_path())
        return super().response_action(request, queryset)

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                f"<path:object_id>/{self.review_path}/<slug:name>/",
                self.admin_site.admin_view(self.review_view),
                name=f"{info[0]}_{info[1]}_{self.review_path}",
            ),
            *super().get_urls(),
        ]

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None:
            context["review_buttons"] = [
                {
                    "name": action.name,
                    "label": action.label,
                    "tone": action.tone,
                    "url": self._review_url(request, obj, action),
                }
                for action in self.review_actions.values()
                if not self.review_blocked(obj, action) and self.may_review(request, action, obj)
            ]
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)

    def _preserving_filters(self, request, url: str) -> str:
        return add_preserved_filters({"preserved_filters": self.get_preserved_filters(request), "opts": self.opts}, url)

    def _admin_url(self, request, view: str, *args) -> str:
        info = self.opts.app_label, self.opts.model_name
        url = reverse(f"admin:{info[0]}_{info[1]}_{view}", args=args, current_app=self.admin_site.name)
        return self._preserving_filters(request, url)

    def _review_url(self, request, obj, action: ReviewAction) -> str:
        return self._admin_url(request, self.review_path, obj.pk, action.name)

    def _action_row(self, request, obj, action: ReviewAction) -> ActionRow:
        return ActionRow(cells=self.review_row(request, obj), blocked=self.review_blocked(obj, action))

    # --- one object: <id>/<review_path>/<name>/ ------------------------------------------------------

    def review_view(self, request, object_id, name):
        action = self.review_actions.get(name)
        if action is None:
            raise Http404("没有这个操作")
        obj = self.get_object(request, unquote(object_id))
        if obj is None:
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        if not self.may_review(request, action, obj):
            raise PermissionDenied
        change_url = self._admin_url(request, "change", obj.pk)
        blocked = self.review_blocked(obj, action)
        if blocked:
            self.message_user(request, f"{blocked}。", messages.ERROR)
            return HttpResponseRedirect(change_url)
        kwargs = action.form_kwargs([obj]) if action.form_kwargs else {}
        form = action.form_class(request.POST if request.method == "POST" else None, **kwargs)
        if request.method == "POST" and form.is_valid():
            try:
                action.perform(obj, staff=request.user, data=form.cleaned_data, client=client_context(request))
            except InvalidInput as exc:
                form_errors_from(form, exc)
            except ApiError as exc:
                self.message_user(request, f"{self.review_describe(obj)}：{error_text(exc)}", messages.ERROR)
                return HttpResponseRedirect(change_url)
            else:
                self.log_change(request, obj, action.label)
                self.message_user(request, f"已{action.label}：{self.review_describe(obj)}。", messages.SUCCESS)
                return HttpResponseRedirect(self._admin_url(request, "changelist"))
        page = ActionPage(
            title=f"{action.label}：{self.review_name(obj)}",
            submit_label=action.submit_label,
            columns=self.review_columns,
            rows=[self._action_row(request, obj, action)],
            cancel_url=change_url,
            danger=action.danger,
        )
        return render_action_form(self, request, page=page, form=form, extra_context={"original": obj})

    # --- the selected rows: the changelist action <name>_selected ---------------------------------------

    def review_bulk(self, request, queryset, action: ReviewAction):
        if self.review_select_related:
            queryset = queryset.select_related(*self.review_select_related)
        objects = list(queryset)
        report_unavailable(self, request, objects)
        if not objects:
            return None
        movable = [obj for obj in objects if not self.review_blocked(obj, action)]
        if not movable:
            for obj in objects:
                self.message_user(
                    request, f"{self.review_describe(obj)}：{self.review_blocked(obj, action)}。", messages.ERROR
                )
            return None
        try:
            kwargs = action.form_kwargs(movable) if action.form_kwargs else {}
        except ActionRefused as exc:
            self.message_user(request, str(exc), messages.ERROR)
            return None
        confirmed = is_confirmation(request)
        form = action.form_class(request.POST if confirmed else None, **kwargs)
        if confirmed and form.is_valid():
            run = BulkRun(
                action=action,
                objects=objects,
                data=form.cleaned_data,
                staff=request.user,
                client=client_context(request),
                posted={name: request.POST.getlist(form.add_prefix(name)) for name in form.fields},
            )
            result = self.review_runner(request, run)(self, request, run)
            return result if isinstance(result, HttpResponseBase) else None
        noun = self.opts.verbose_name
        page = ActionPage(
            title=f"{action.label}：{len(objects)} 条{noun}",
            intro=f"将对下列 {len(movable)} 条{noun}执行「{action.label}」。",
            submit_label=action.submit_label,
            columns=self.review_columns,
            rows=[self._action_row(request, obj, action) for obj in objects],
            action_name=action.action_name,
            selected_ids=[obj.pk for obj in objects],
            danger=action.danger,
        )
        return render_action_form(self, request, page=page, form=form)
