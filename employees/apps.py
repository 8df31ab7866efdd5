from django.apps import AppConfig


class EmployeesConfig(AppConfig):
    name = "employees"
    verbose_name = "员工与简历"

    def ready(self):
        # Imported here, not at the top: models load only once the app registry is ready.
        from . import (
            checks,  # noqa: F401  (registers the system checks)
            tokens,  # noqa: F401  (a deleted token leaves the token cache)
        )
