"""
Export evidence packages (出证包): ``--application N`` or ``--company C --since DATE``.
Each package is written to ``--out`` (default: the current directory) as
``evidence-<id>.zip``; each export is audited like a back-office download.
"""

import datetime
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.utils import timezone

from contracts.models import Company
from signing.evidence.package import EvidenceUnavailable, evidence_package
from signing.models import SignApplication, SignStatus


class Command(BaseCommand):
    help = "导出出证包：--application 申请编号，或 --company 单位（id 或名称）--since 日期（YYYY-MM-DD）。"

    def add_arguments(self, parser):
        target = parser.add_mutually_exclusive_group(required=True)
        target.add_argument("--application", type=int, help="签约申请编号")
        target.add_argument("--company", help="用人单位 id 或名称（与 --since 一起使用）")
        parser.add_argument("--since", help="签署日期起（含），YYYY-MM-DD")
        parser.add_argument("--out", default=".", help="输出目录（默认当前目录）")

    def handle(self, *args, application=None, company=None, since=None, out=".", **options):
        folder = Path(out)
        folder.mkdir(parents=True, exist_ok=True)
        if application is not None:
            rows = list(SignApplication.objects.filter(pk=application))
            if not rows:
                raise CommandError(f"没有申请编号为 {application} 的签约申请")
        else:
            if not since:
                raise CommandError("--company 需要同时给出 --since 日期")
            try:
                start = datetime.date.fromisoformat(since)
            except ValueError as exc:
                raise CommandError(f"--since 日期格式应为 YYYY-MM-DD：{since}") from exc
            found = (
                Company.objects.filter(pk=int(company))
                if company.isdigit()
                else Company.objects.filter(company_name=company)
            ).first()
            if found is None:
                raise CommandError(f"找不到用人单位：{company}")
            since_at = timezone.make_aware(datetime.datetime.combine(start, datetime.time.min))
            rows = list(
                SignApplication.objects.filter(
                    company=found, status=SignStatus.SIGNED, document__created_at__gte=since_at
                ).order_by("pk")
            )
        written = failed = 0
        for row in rows:
            try:
                package = evidence_package(row, via="manage.py evidence_export")
            except EvidenceUnavailable as exc:
                self.stderr.write(f"申请编号 {row.pk}：{exc.msg}")
                failed += 1
                continue
            except ImproperlyConfigured as exc:
                raise CommandError(str(exc)) from exc
            path = folder / package.filename
            path.write_bytes(package.content)
            self.stdout.write(f"申请编号 {row.pk} → {path}（SHA-256 {package.sha256}）")
            written += 1
        self.stdout.write(self.style.SUCCESS(f"已导出 {written} 个出证包" + (f"，{failed} 个未导出" if failed else "")))
        if failed and not written:
            raise CommandError("没有导出任何出证包")
