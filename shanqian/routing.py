"""URL helpers: API paths have no trailing slash, but one is accepted (never redirected)."""

from django.urls import re_path


def api_path(route: str, view, name: str):
    """``route`` is a regex fragment without anchors or slashes, e.g. ``dict/(?P<dict_item>\\w+)``."""
    return re_path(rf"^{route}/?$", view, name=name)
