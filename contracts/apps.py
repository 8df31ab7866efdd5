from django.apps import AppConfig


class ContractsConfig(AppConfig):
    name = "contracts"
    verbose_name = "用人单位与合同"

    def ready(self):
        # Imported here, not at the top: models load only once the app registry is ready.
        from . import signals  # noqa: F401  (staff edits clear the cached company list)
