from django.apps import AppConfig


class DictionariesConfig(AppConfig):
    name = "dictionaries"
    verbose_name = "基础字典"
