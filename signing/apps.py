from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "signing"
    verbose_name = "签约管理"

    def ready(self):
        # Imported here, not at the top: models load only once the app registry is ready.
        from employees import assignment

        from .assignment import ApplicationAssignment

        # Handlers are assigned to people through applications; employees asks through this rule.
        assignment.install(ApplicationAssignment())
