from django.apps import AppConfig
from django.contrib.admin import apps as admin_apps
from django.db import DEFAULT_DB_ALIAS
from django.db.models.signals import post_migrate


def _ensure_handler_group(sender, using=DEFAULT_DB_ALIAS, **kwargs):
    # Every migrate (and every test-database flush) leaves the 人事专员 group in place,
    # so a fresh install does not depend on seed_demo for its handler role.
    if using != DEFAULT_DB_ALIAS:
        return
    from .roles import ensure_handler_group  # roles imports auth's models: not before the registry is ready

    ensure_handler_group()


class ShanqianConfig(AppConfig):
    name = "shanqian"
    verbose_name = "系统与平台"

    def ready(self):
        # Imported here, not at the top: the checks import the field helpers, which read the app registry.
        from . import fieldcrypt_checks  # noqa: F401  (registers the field-encryption key checks)

        post_migrate.connect(_ensure_handler_group, sender=self, dispatch_uid="shanqian_ensure_handler_group")


class ShanqianAdminConfig(admin_apps.AdminConfig):
    """The Django admin, presented as 秒云达 1.0 后台."""

    default = False
    default_site = "shanqian.admin_site.ShanqianAdminSite"
