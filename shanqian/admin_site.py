"""
The back office's admin site: 秒云达 1.0 后台.

The start page (``index``) puts a work board above the app list: applications by
status, applied today and overall, each count linking to the filtered list
(``?status__exact=1`` and, for today, ``&apply_time__gte=…&apply_time__lt=…``, the
same parameters as the list's 申请时间 → 今天 filter), plus the real-name queue.
A handler sees the counts of their own applications (the selectors scope them).
"""

from urllib.parse import urlencode

from django.contrib import admin
from django.urls import NoReverseMatch, reverse


class ShanqianAdminSite(admin.AdminSite):
    site_header = "秒云达 1.0 后台"
    site_title = "秒云达 1.0 后台"
    index_title = "工作台"
    index_template = "admin/shanqian/index.html"
    # "/" is the API's docs, not something HR staff should land on from the admin header.
    site_url = None

    def index(self, request, extra_context=None):
        context = {**self.dashboard_context(request), **(extra_context or {})}
        return super().index(request, context)

    def dashboard_context(self, request) -> dict:
        from employees.models import VerifyStatus
        from employees.realname import verifications_visible_to
        from signing.models import SignStatus
        from signing.selectors import application_dashboard

        context = {}
        user = request.user
        if user.has_perm("signing.view_signapplication"):
            try:
                changelist = reverse("admin:signing_signapplication_changelist", current_app=self.name)
            except NoReverseMatch:  # the signing admin is not registered on this site
                return context
            board = application_dashboard(staff=user)
            start, end = board["today_range"]
            today = {"apply_time__gte": str(start), "apply_time__lt": str(end)}
            rows = [
                {
                    "label": status.label,
                    "status": status.value,
                    "today": board["today"][status.value],
                    "total": board["total"][status.value],
                    "today_url": f"{changelist}?{urlencode({'status__exact': status.value, **today})}",
                    "total_url": f"{changelist}?{urlencode({'status__exact': status.value})}",
                    "waiting": status in (SignStatus.APPLIED, SignStatus.AWAITING_SIGNATURE),
                }
                for status in SignStatus
            ]
            context["dashboard"] = {
                "rows": rows,
                "today_all": board["today_all"],
                "total_all": board["total_all"],
                "today_url": f"{changelist}?{urlencode(today)}",
                "total_url": changelist,
                "date": start.date(),
            }
        if user.has_perm("employees.view_realnameverification"):
            try:
                queue_url = reverse("admin:employees_realnameverification_changelist", current_app=self.name)
            except NoReverseMatch:
                return context
            context["realname_queue"] = {
                "count": verifications_visible_to(staff=user).filter(status=VerifyStatus.VERIFYING).count(),
                "url": queue_url,
            }
        return context
