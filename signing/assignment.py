"""
The assignment rule signing hands down to ``employees.assignment``: a handler handles the
people whose applications are assigned to them (``SignApplication.ad_user``). Installed by
``SigningConfig.ready``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from django.db.models import QuerySet

from employees.assignment import AssignedApplication

from .display import application_badge
from .models import SignApplication
from .selectors import LATEST, applications_visible_to

if TYPE_CHECKING:
    from shanqian.models import AdminUser


class ApplicationAssignment:
    def user_ids(self, staff: AdminUser) -> QuerySet:
        return SignApplication.objects.filter(ad_user_id=staff.pk).values("em__user_id")

    def applications(self, *, employee_id: int, staff: AdminUser) -> list[AssignedApplication]:
        applications = applications_visible_to(
            staff=staff, queryset=SignApplication.objects.filter(em_id=employee_id)
        ).select_related("company", "ad_user")
        return [
            AssignedApplication(
                pk=application.pk,
                company=str(application.company),
                work_pos=application.work_pos,
                handler=str(application.ad_user),
                status_badge=application_badge(application),
                applied_at=application.apply_time,
                admin_url_name="admin:signing_signapplication_change",
            )
            for application in applications.order_by(*LATEST)
        ]
