from django.apps import AppConfig


class DictionariesConfig(AppConfig):
    name = "dictionaries"
    verbose_name = "基础字典"

    def ready(self):
        from . import signals  # noqa: F401
