"""
Create the PKI (SPEC §10): root CA, issuing CA, the first CRLs and, under
DEBUG (or with ``--dev-tsa``), the development TSA certificate. Idempotent:
what exists is kept (after checking its key decrypts with
``SIGNING_KEY_PASSPHRASE``), what is missing is created. Keys are stored
encrypted; nothing secret is printed.
"""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from signing.pki.setup import pki_init


class Command(BaseCommand):
    help = "初始化证书体系（根 CA、签发 CA、吊销列表、开发时间戳服务证书）；可重复执行，已有的保持不变。"
    # The checks report an uninitialised or undecryptable hierarchy: this command is what fixes that.
    requires_system_checks = []

    def add_arguments(self, parser):
        group = parser.add_mutually_exclusive_group()
        group.add_argument("--dev-tsa", action="store_true", help="也创建开发时间戳服务证书（DEBUG 下默认创建）")
        group.add_argument("--no-dev-tsa", action="store_true", help="不创建开发时间戳服务证书")
        parser.add_argument("--organization", default=None, help="证书中的机构名称（默认 SIGNING_PKI_ORGANIZATION）")

    def handle(self, *args, dev_tsa=False, no_dev_tsa=False, organization=None, **options):
        try:
            report = pki_init(dev_tsa=True if dev_tsa else False if no_dev_tsa else None, organization=organization)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        except DatabaseError as exc:
            raise CommandError(
                f"数据库不可用或尚未迁移（{exc.__class__.__name__}）：请先运行 manage.py migrate。"
            ) from exc
        for record in report.created:
            self.stdout.write(
                f"已创建 {record.get_kind_display()}：{record.subject}  序列号 {record.serial}  "
                f"SHA-256 {record.fingerprint_sha256}"
            )
        for record in report.kept:
            self.stdout.write(f"已存在 {record.get_kind_display()}：{record.subject}  序列号 {record.serial}")
        self.stdout.write(self.style.SUCCESS("证书体系就绪。" if report.created else "证书体系已存在，无需变更。"))
