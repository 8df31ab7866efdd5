"""
Verify a PDF: is it one we sealed, unaltered, and for which application.

Exit code 0 when the file carries our signature and is intact, 1 otherwise
(including unreadable files).
"""

import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from signing.sealing import archived_document, verify_sealed_pdf


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


class Command(BaseCommand):
    help = "核验签署文件：是否由闪签云签署、签署后是否被改动、属于哪个签约申请。通过时退出码为 0，否则为 1。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要核验的 PDF 文件路径")

    def handle(self, *args, file, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{file}（{exc.strerror or exc.__class__.__name__}）") from exc

        try:
            result = verify_sealed_pdf(data)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout
        out.write(result.message)
        out.write(f"  文件 SHA-256：{result.sha256}")
        out.write(f"  闪签云签章：{_yes_no(result.is_ours)}")
        out.write(f"  未被改动：{_yes_no(result.intact)}")
        if result.is_ours:
            out.write(f"  签章证书：{result.signer_subject}")
            out.write(f"  签章时间：{result.signed_at_display or '未知'}")
            out.write(f"  申请编号：{result.application_id if result.application_id is not None else '未记录'}")
            if result.contract_sha256:
                out.write(f"  合同文件 SHA-256：{result.contract_sha256}")
            try:
                out.write(f"  系统存档：{archived_document(result).message}")
            except DatabaseError:
                out.write("  系统存档：无法查询数据库，未比对。")
        if not result.ok:
            sys.exit(1)
