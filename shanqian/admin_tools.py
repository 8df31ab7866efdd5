"""
Shared machinery of the back office (秒云达 1.0 后台), written once for every app's admin.

Display (read-only fields and list columns; styles in ``shanqian/static/shanqian/admin.css``,
never inline, so a strict Content-Security-Policy can apply):

* ``status_badge(label, tone=…, css_class=…)`` — a status as a coloured pill; the app maps its
  statuses to a tone (waiting, active, done, refused, closed).
* ``masked(path, mask, description=…)`` — a list column showing a personal number through a mask
  (lists are masked for everybody; a detail page's reveal is ``shanqian.admin_personal``).
* ``local_time(dt)`` — ``YYYY-MM-DD HH:MM`` in the configured time zone, ``-`` for none.
* ``table_html(headers, rows, empty=…)`` and ``photos_html(photos, thumbnails=…)`` — template
  includes (``admin/shanqian/table.html``, ``admin/shanqian/photos.html``).
* ``object_from(queryset, object_id, opts=…)`` — ``get_object`` over a page's own queryset.

The review-action framework (the moves staff make on rows, with their confirmation page) is
``shanqian.admin_reviews``.

``ReadOnlyAdminMixin`` — for records nobody edits by hand (resumes, audit events, sealed
documents, verifications): no add, change or delete; the list's action checkboxes written without
a template render per row.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from django.contrib import admin
from django.contrib.admin import helpers
from django.core.exceptions import ValidationError
from django.template.loader import render_to_string
from django.utils import timezone
from django.utils.html import format_html
from django.utils.translation import gettext

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


def object_from(queryset, object_id, *, opts, from_field: str | None = None):
    """
    ``ModelAdmin.get_object`` over ``queryset`` (the scoped queryset plus what the object's page
    shows): an unknown or malformed id is None, which the admin answers as "不存在".
    """
    field = opts.pk if from_field is None else opts.get_field(from_field)
    try:
        return queryset.get(**{field.name: field.to_python(object_id)})
    except (queryset.model.DoesNotExist, ValidationError, ValueError, TypeError):
        return None


class ReadOnlyAdminMixin:
    def action_checkbox(self, obj):
        """
        Django's checkbox column, the same HTML written directly: rendering the checkbox widget's
        template once per row was a third of a 50-row list page's time (``bench/scale.py --ledger``).
        """
        label = format_html(gettext("Select this object for an action - {}"), str(obj))
        return format_html(
            '<input type="checkbox" name="{}" value="{}" class="action-select" aria-label="{}">',
            helpers.ACTION_CHECKBOX_NAME,
            str(obj.pk),
            label,
        )

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
