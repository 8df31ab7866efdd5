from django.apps import AppConfig


class DictionariesConfig(AppConfig):
    name = "dictionaries"
    verbose_name = "基础字典"

    def ready(self):
        # Imported here, not at the top: models load only once the app registry is ready.
        from . import signals  # noqa: F401
