from django.apps import AppConfig


class EmployeesConfig(AppConfig):
    name = "employees"
    verbose_name = "员工与简历"

    def ready(self):
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            tokens,  # noqa: F401  (a deleted token leaves the token cache)
        )
