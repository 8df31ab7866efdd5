"""
``manage.py reencrypt_fields [--batch N] [--rebuild-index] [--skip-files]``: bring every encrypted
value and every encrypted file under the current key (the first of ``FIELD_ENCRYPTION_KEYS``), in
batches (``shanqian.reencrypt``). Idempotent and resumable: what is already under the current key
is skipped, so run it again after an interruption. Prints one line of counts per column and per file
field, never a value. Key rotation: docs/privacy.md, “Keys”.
"""

import logging

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shanqian import fieldcrypt, reencrypt

logger = logging.getLogger("shanqian.reencrypt")


class Command(BaseCommand):
    help = (
        "用当前密钥（FIELD_ENCRYPTION_KEYS 的第一个）重新加密所有加密字段与加密文件；可重复运行，中断后再次运行即继续。"
    )

    def add_arguments(self, parser):
        parser.add_argument(
            "--batch", type=int, default=None, help="每批处理的行数（默认 FIELD_REENCRYPT_BATCH，1000）"
        )
        parser.add_argument(
            "--rebuild-index",
            action="store_true",
            help="同时按当前 FIELD_BLIND_INDEX_KEY 重算盲索引（更换盲索引密钥之后）",
        )
        parser.add_argument("--skip-files", action="store_true", help="只处理数据库字段，不处理加密文件")

    def handle(self, *args, batch, rebuild_index, skip_files, **options):
        batch = settings.FIELD_REENCRYPT_BATCH if batch is None else batch
        if batch < 1:
            raise CommandError("--batch 必须是正整数。")
        try:
            ring = fieldcrypt.load_keyring()
        except fieldcrypt.FieldKeyError as exc:
            raise CommandError(str(exc)) from None
        self.stdout.write(f"current key: {ring.current_id}")
        try:
            results = reencrypt.reencrypt_columns(batch=batch, rebuild_index=rebuild_index)
            if not skip_files:
                results += reencrypt.reencrypt_files(batch=batch)
        except fieldcrypt.FieldDecryptionError as exc:
            # The message names the key id, never the value; what was done so far stays done.
            raise CommandError(f"{exc} 已完成的批次保留；加回旧密钥后再次运行即可继续。") from None
        for counts in results:
            self.stdout.write(counts.line())
            logger.info("reencrypt_fields %s", counts.line())
        total = sum(c.reencrypted + c.encrypted for c in results)
        self.stdout.write(self.style.SUCCESS(f"done: {total} written under key {ring.current_id}"))
