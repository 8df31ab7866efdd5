"""
The back office's admin site: 秒云达 1.0 后台.

The start page (``index``) puts a work board above the app list. The site knows no
app: each app contributes its part from its ``admin.py`` with
``admin.site.add_start_panel(panel)``, where ``panel(request, site)`` returns a
``StartPanel`` (a template include and its context) or None when the user has
nothing to see there (no permission, say). Panels show in the order they were
added, which is the order of INSTALLED_APPS (admin modules are discovered in it).

Every ModelAdmin registered here gets ``shanqian.admin_search.SearchTokenMixin`` in front of it:
changelist searches never carry their term in a URL.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from django.contrib import admin
from django.urls import NoReverseMatch, reverse

from .admin_search import SearchTokenMixin


@dataclass(frozen=True)
class StartPanel:
    template: str
    context: dict = field(default_factory=dict)


class ShanqianAdminSite(admin.AdminSite):
    site_header = "秒云达 1.0 后台"
    site_title = "秒云达 1.0 后台"
    index_title = "工作台"
    index_template = "admin/shanqian/index.html"
    # "/" is the API's docs, not something HR staff should land on from the admin header.
    site_url = None

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self._start_panels: list[Callable[..., StartPanel | None]] = []

    def register(self, model_or_iterable, admin_class=None, **options):
        """Every ModelAdmin searches through a session token, never a term in the URL (``shanqian.admin_search``)."""
        admin_class = admin_class or admin.ModelAdmin
        if not issubclass(admin_class, SearchTokenMixin):
            attrs = {"__module__": admin_class.__module__, "__qualname__": admin_class.__qualname__}
            admin_class = type(admin_class.__name__, (SearchTokenMixin, admin_class), attrs)
        return super().register(model_or_iterable, admin_class, **options)

    def add_start_panel(self, panel: Callable[..., StartPanel | None]):
        """Show ``panel(request, site)`` on the start page; returns ``panel`` (usable as a decorator)."""
        self._start_panels.append(panel)
        return panel

    def changelist_for(self, request, model: str) -> str | None:
        """The list URL of ``model`` (``"app_label.model_name"``) for a panel; None unless the user may view it here."""
        app_label, model_name = model.split(".")
        if not request.user.has_perm(f"{app_label}.view_{model_name}"):
            return None
        try:
            return reverse(f"admin:{app_label}_{model_name}_changelist", current_app=self.name)
        except NoReverseMatch:  # that admin is not registered on this site
            return None

    def start_panels(self, request) -> list[StartPanel]:
        return [shown for shown in (panel(request, self) for panel in self._start_panels) if shown is not None]

    def index(self, request, extra_context=None):
        context = {"start_panels": self.start_panels(request), **(extra_context or {})}
        return super().index(request, context)
