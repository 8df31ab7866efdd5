from django.contrib import admin

from shanqian.admin_tools import ReadOnlyAdminMixin

from .models import Dictionary, Region


@admin.register(Dictionary)
class DictionaryAdmin(admin.ModelAdmin):
    list_display = ("dict_item", "dict_key", "dict_value", "code", "sort", "enabled")
    list_display_links = ("dict_key",)
    list_editable = ("dict_value", "sort", "enabled")
    list_filter = ("dict_item", "enabled")
    search_fields = ("dict_item", "dict_key", "dict_value")
    ordering = ("dict_item", "sort", "id")
    list_per_page = 100


@admin.register(Region)
class RegionAdmin(ReadOnlyAdminMixin, admin.ModelAdmin):
    """Loaded by ``manage.py seed_dictionaries`` from the national data; read-only here."""

    list_display = ("id", "name", "level", "parent")
    list_filter = ("level",)
    search_fields = ("name", "=id")
    list_select_related = ("parent",)
    ordering = ("id",)
    list_per_page = 100
    show_full_result_count = False
