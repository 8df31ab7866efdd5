"""
Verify a PDF: is it one we sealed, unaltered, and for which application.

Exit code 0 when the file carries our signature and is intact, 1 otherwise
(including unreadable files).
"""

import json as json_module  # the --json option takes the name json in handle()
import sys
from pathlib import Path

from django.core.exceptions import ImproperlyConfigured
from django.core.management.base import BaseCommand, CommandError
from django.db import DatabaseError

from signing.sealing import archived_document
from signing.sealing.verification import VerificationReport, verify_any


def _yes_no(value: bool) -> str:
    return "是" if value else "否"


class Command(BaseCommand):
    # Checking a file must work wherever the database is reachable, even where signing is not
    # configured (an archive host, an auditor's copy): the signing system checks do not apply.
    requires_system_checks = []
    help = "核验签署文件：是否由闪签云签署、签署后是否被改动、属于哪个签约申请。通过时退出码为 0，否则为 1。"

    def add_arguments(self, parser):
        parser.add_argument("file", help="要核验的 PDF 文件路径")
        parser.add_argument("--json", action="store_true", help="以 JSON 输出完整核验报告（与后台页面相同）")

    def handle(self, *args, file, json=False, **options):
        try:
            data = Path(file).read_bytes()
        except OSError as exc:
            raise CommandError(f"无法读取文件：{file}（{exc.strerror or exc.__class__.__name__}）") from exc

        try:
            result = verify_any(data)
        except ImproperlyConfigured as exc:
            raise CommandError(str(exc)) from exc
        out = self.stdout
        if json and isinstance(result, VerificationReport):
            out.write(json_module.dumps(result.as_dict(), ensure_ascii=False, indent=2))
            if not result.ok:
                sys.exit(1)
            return
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
            for signature in getattr(result, "signatures", []):
                out.write(f"  — {signature.role_label}（{signature.field}）：{'有效' if signature.ok else '无效'}")
                out.write(f"      签署人：{signature.signer_subject}")
                out.write(f"      签发者：{signature.issuer}  序列号 {signature.serial}")
                if signature.timestamp:
                    out.write(f"      时间戳：{signature.timestamp.time_display}（{signature.timestamp.authority}）")
                out.write(
                    f"      覆盖：第 {signature.revision}/{signature.revisions} 个修订，{signature.coverage}；"
                    f"级别：{signature.level}"
                )
                if signature.revocation and signature.revocation != "未吊销":
                    out.write(f"      吊销：{signature.revocation}")
                for problem in signature.problems:
                    out.write(f"      问题：{problem}")
            for problem in getattr(result, "problems", []):
                out.write(f"  问题：{problem}")
            try:
                out.write(f"  系统存档：{archived_document(result).message}")
            except DatabaseError:
                out.write("  系统存档：无法查询数据库，未比对。")
        if not result.ok:
            sys.exit(1)
