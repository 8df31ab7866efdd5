"""
Shared machinery of the back office (秒云达 1.0 后台), written once for every app's admin.

Display (read-only fields and list columns; styles in ``shanqian/static/shanqian/admin.css``,
never inline, so a strict Content-Security-Policy can apply):

* ``status_badge(label, tone=…, css_class=…)`` — a status as a coloured pill; the app maps its
  statuses to a tone (waiting, active, done, refused, closed).
* ``masked(path, mask, description=…)`` — a list column showing a personal number through a mask;
  ``personal_columns`` picks masked or full columns for the user (``shanqian.roles``).
* ``local_time(dt)`` — ``YYYY-MM-DD HH:MM`` in the configured time zone, ``-`` for none.
* ``table_html(headers, rows, empty=…)`` and ``photos_html(photos, thumbnails=…)`` — template
  includes (``admin/shanqian/table.html``, ``admin/shanqian/photos.html``).

Actions that change state follow ``django.contrib.admin.actions.delete_selected``:
the first POST (from the changelist) renders ``admin/shanqian/action_form.html``
with the selected ids in hidden fields; the confirming POST (``post=yes``) validates
the form and calls the service once per row. Domain errors
(``shanqian.errors.ApiError`` and its subclasses: ``TransitionNotAllowed``,
``NotYourApplication``, ``InvalidInput``, ``Conflict``…) are caught per row and
reported by name with ``message_user(level=ERROR)``; the other rows are processed.
Nothing here writes a model: the services do.

* ``selected_ids_are_valid`` — refuse hostile ``_selected_action`` values before
  Django's own ``pk__in`` filter turns them into a 500.
* ``report_unavailable`` — ids that were posted but are not in the staff member's
  (scoped) queryset: someone else's rows, forged ids, rows gone from the filter.
* ``perform_each`` — the per-row loop.
* ``render_action_form`` — the intermediate page, for bulk actions and per-object views.
* ``ReadOnlyAdminMixin`` — for records nobody edits by hand (resumes, audit events,
  sealed documents, verifications): no add, change or delete.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field

from django.contrib import admin, messages
from django.contrib.admin import helpers
from django.template.loader import render_to_string
from django.template.response import TemplateResponse
from django.utils import timezone
from django.utils.html import format_html

from .errors import ApiError
from .roles import masks_personal_data

MAX_NAMES = 10
MAX_ID_LENGTH = 18

# --- display -----------------------------------------------------------------------------------------

TONES = frozenset({"waiting", "active", "done", "refused", "closed"})


def status_badge(label: str, *, tone: str, css_class: str = ""):
    """A status as a pill coloured by ``tone`` (one of ``TONES``); ``css_class`` names the status for tests and CSS."""
    if tone not in TONES:
        raise ValueError(f"unknown tone {tone!r}")
    return format_html('<span class="{}" data-tone="{}">{}</span>', f"sq-status {css_class}".strip(), tone, label)


def local_time(moment) -> str:
    return f"{timezone.localtime(moment):%Y-%m-%d %H:%M}" if moment else "-"


def _attribute(obj, path: str):
    for name in path.split("."):
        obj = getattr(obj, name)
    return obj


def masked(path: str, mask: Callable[[str], str], *, description: str):
    """A list column: the attribute at ``path`` (dotted from the row, e.g. ``"em.phone"``) through ``mask``."""

    @admin.display(description=description)
    def column(modeladmin, obj):
        return mask(_attribute(obj, path) or "")

    return column


def personal_columns(request, *, full: Sequence[str], masked: Sequence[str]) -> tuple[str, ...]:
    """The full personal-number columns for a user who sees everything, the masked ones for everybody else."""
    return tuple(masked if masks_personal_data(request.user) else full)


def table_html(headers: Sequence[str], rows: Sequence[Sequence], *, empty: str):
    if not rows:
        return empty
    return render_to_string("admin/shanqian/table.html", {"headers": headers, "rows": rows})


@dataclass(frozen=True)
class Photo:
    caption: str
    url: str = ""  # empty: not uploaded


def photos_html(photos: Sequence[Photo], *, thumbnails: bool = False):
    """Each photo with its caption, linking to the full image; a missing one reads "<caption>未上传"."""
    return render_to_string("admin/shanqian/photos.html", {"photos": photos, "thumbnails": thumbnails})


# --- actions -----------------------------------------------------------------------------------------


def error_text(exc: ApiError) -> str:
    """The Chinese message of a domain error; for field errors, the field messages themselves."""
    data = exc.data if isinstance(exc.data, dict) else {}
    errors = data.get("errors") if isinstance(data.get("errors"), dict) else {}
    details = []
    for messages_ in errors.values():
        details.extend(str(m) for m in (messages_ if isinstance(messages_, list | tuple) else [messages_]))
    return "；".join(details) if details else exc.msg


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


class ReadOnlyAdminMixin:
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
