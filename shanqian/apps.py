from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps


class ShanqianConfig(AppConfig):
    name = "shanqian"
    verbose_name = "系统与平台"

    def ready(self):
        from . import schema  # noqa: F401  (registers the OpenAPI extension for token auth)


class ShanqianAdminConfig(admin_apps.AdminConfig):
    """The Django admin, presented as 秒云达 1.0 后台."""

    default = False
    default_site = "shanqian.admin_site.ShanqianAdminSite"
