from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "用人单位与合同"

    def ready(self):
        from . import signals  # noqa: F401  (staff edits clear the cached company list)
