"""
Personal data in the back office (SPEC §13): masked by default, revealed on request, on the record.

Every staff account — handlers *and* superusers — sees phones, ID numbers and emergency-contact
phones masked on every page: lists, detail pages, confirmation pages, exports. A superuser is
masked too: seeing everything (every row) is not the same as needing every digit, and a reveal
that leaves no record because the viewer is a superuser would make the access log worthless.

* ``PersonalDataRevealMixin`` — for a ModelAdmin with a detail page. The page carries a
  显示完整信息 button (a POST to ``<id>/reveal/``) for whoever may view that object. The reveal
  view finds the object through the admin's own ``get_object`` (so a row outside the staff
  member's scope is "不存在" and nothing is written), writes one ``PersonalDataAccess`` row
  (``shanqian.pii_access.access_record``: who, which fields, when, IP, page) *before* rendering,
  then renders the same page with the values in full. Nothing is remembered: the next GET of the
  page is masked again. ``reveal_fields`` names what the page shows in full (labels, not values).
* ``personal(label, value, mask, through=…)`` — a read-only display of one personal value of the
  row (or of ``row.<through>``): masked unless this rendering is a reveal.
* ``revealed(row)`` — whether the row is being rendered for a reveal (for hand-written displays).
* ``may_export_unmasked(user)`` — who may export in full: superusers only, and every such export
  writes an access record with its row count (``shanqian.pii_access.export_record``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from django.contrib import admin
from django.contrib.admin.utils import unquote
from django.http import HttpResponseNotAllowed
from django.urls import path, reverse

from .pii_access import access_record
from .roles import sees_everything

_REVEAL_ATTRIBUTE = "_sq_pii_reveal"
EMPTY = "-"


def revealed(row) -> bool:
    return bool(getattr(row, _REVEAL_ATTRIBUTE, False))


def may_export_unmasked(user) -> bool:
    return sees_everything(user)


def personal(label: str, value: str | Callable, mask: Callable[[str], str], *, through: str = ""):
    """A display method: ``value`` (attribute name or function of the person) through ``mask`` unless revealed."""

    @admin.display(description=label)
    def field(modeladmin, row):
        person = getattr(row, through) if through else row
        text = (getattr(person, value) if isinstance(value, str) else value(person)) or ""
        if not text:
            return EMPTY
        return text if revealed(row) else mask(text)

    return field


class PersonalDataRevealMixin:
    """Masked detail pages with a 显示完整信息 button; see the module docstring."""

    reveal_fields: Sequence[str] = ("手机号", "身份证号")
    change_form_template = "admin/shanqian/review_change_form.html"

    def get_urls(self):
        info = self.opts.app_label, self.opts.model_name
        return [
            path(
                "<path:object_id>/reveal/",
                self.admin_site.admin_view(self.reveal_view),
                name="{}_{}_reveal".format(*info),
            ),
            *super().get_urls(),
        ]

    def reveal_view(self, request, object_id):
        if request.method != "POST":
            return HttpResponseNotAllowed(["POST"])
        obj = self.get_object(request, unquote(object_id))
        if obj is None or not self.has_view_permission(request, obj):
            return self._get_obj_does_not_exist_redirect(request, self.opts, object_id)
        # The record first: if writing it fails, nothing is shown.
        access_record(request=request, obj=obj, fields=self.reveal_fields)
        setattr(request, _REVEAL_ATTRIBUTE, True)
        # The page itself, rendered as for a GET (the POST carried nothing but the CSRF token).
        request.method = "GET"
        return self.change_view(request, object_id, extra_context={"pii_revealed": True})

    def render_change_form(self, request, context, add=False, change=False, form_url="", obj=None):
        if obj is not None and not add:
            # The page's displays read this mark on the row (``personal``, ``revealed``); the
            # template renders after this returns, so they see it.
            setattr(obj, _REVEAL_ATTRIBUTE, bool(getattr(request, _REVEAL_ATTRIBUTE, False)))
            info = self.opts.app_label, self.opts.model_name
            context["reveal_url"] = reverse(
                "admin:{}_{}_reveal".format(*info), args=[obj.pk], current_app=self.admin_site.name
            )
            context["pii_revealed"] = revealed(obj)
        return super().render_change_form(request, context, add=add, change=change, form_url=form_url, obj=obj)
