"""The back office's admin site: 秒云达 1.0 后台."""

from django.contrib import admin


class ShanqianAdminSite(admin.AdminSite):
    site_header = "秒云达 1.0 后台"
    site_title = "秒云达 1.0 后台"
    index_title = "工作台"
