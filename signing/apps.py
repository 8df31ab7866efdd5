from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "signing"
    verbose_name = "签约管理"

    def ready(self):
        # Imported here, not at the top: models load only once the app registry is ready.
        from employees import assignment
        from employees.models import SmsPurpose
        from employees.services import identity

        from .assignment import ApplicationAssignment
        from .notifications import admin as notifications_admin  # noqa: F401  (registers its admin pages)
        from .notifications import channels
        from .services.contract_signing import sign_code_recipient_check

        # What employees needs to know about applications, handed down (it must not import signing):
        # handlers are assigned to people through applications; a signing code needs a contract to sign.
        assignment.install(ApplicationAssignment())
        identity.sms_recipient_check_install(SmsPurpose.SIGN, sign_code_recipient_check)
        # The outbox channels this app delivers (shanqian.outbox): worker, HR and webhook notices.
        channels.register()
        from .pki import checks  # noqa: F401  (registers the PKI and time-source system checks)
