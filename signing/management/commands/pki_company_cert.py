"""Issue a company certificate (单位证书) through ``SIGNING_CA_BACKEND``; the back office does the same."""

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError

from contracts.models import Company
from signing.pki.company import company_certificate_issue


class Command(BaseCommand):
    help = "为用人单位签发单位证书（用于合同自动盖章）。--company 可为单位 id 或名称。"

    def add_arguments(self, parser):
        parser.add_argument("--company", required=True, help="用人单位 id 或名称")
        parser.add_argument("--credit-code", default=None, help="统一社会信用代码（默认取单位资料）")

    def handle(self, *args, company, credit_code=None, **options):
        rows = (
            Company.objects.filter(pk=int(company))
            if company.isdigit()
            else Company.objects.filter(company_name=company)
        )
        target = rows.first()
        if target is None:
            raise CommandError(f"找不到用人单位：{company}")
        try:
            record = company_certificate_issue(company=target, credit_code=credit_code)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(
            self.style.SUCCESS(
                f"已签发单位证书：{record.subject}  序列号 {record.serial}  有效期至 {record.not_after:%Y-%m-%d}"
            )
        )
