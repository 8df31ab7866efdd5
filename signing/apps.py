from django.apps import AppConfig


class SigningConfig(AppConfig):
    name = "signing"
    verbose_name = "签约管理"

    def ready(self):
        # Imported here, not at the top: models load only once the app registry is ready.
        from employees import assignment, retention
        from employees.models import SmsPurpose
        from employees.services import identity

        from .assignment import ApplicationAssignment
        from .evidence.jobs import register_evidence_job
        from .export import register_export_job
        from .ledger import admin as ledger_admin  # noqa: F401  (registers the ledger and its start panel)
        from .ledger.export import register_export_job as register_ledger_export_job
        from .ledger.selectors import retained_employee_ids
        from .notifications import admin as notifications_admin  # noqa: F401  (registers its admin pages)
        from .notifications import channels
        from .pki import admin as pki_admin  # noqa: F401  (数字证书: the certificates and their revocation)
        from .pki import checks  # noqa: F401  (registers the PKI and time-source system checks)
        from .privacy import admin as privacy_admin  # noqa: F401  (个人信息删除申请)
        from .services.contract_signing import sign_code_recipient_check

        # What employees needs to know about applications, handed down (it must not import signing):
        # handlers are assigned to people through applications; a signing code needs a contract to sign.
        assignment.install(ApplicationAssignment())
        identity.sms_recipient_check_install(SmsPurpose.SIGN, sign_code_recipient_check)
        # A contract's people are kept while it is retained (SPEC §12): every purge asks first.
        retention.install(retained_employee_ids)
        # The outbox channels this app delivers (shanqian.outbox): worker, HR and webhook notices.
        channels.register()
        # Exports of more than BULK_INLINE_LIMIT rows run as background jobs (shanqian.bulk).
        register_export_job()
        register_ledger_export_job()
        register_evidence_job()
