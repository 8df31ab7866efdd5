"""``manage.py seed_dictionaries``: load the dictionaries and the regions (idempotent)."""

import time

from django.core.management.base import BaseCommand

from dictionaries.services import reference_data_seed


class Command(BaseCommand):
    help = "载入基础字典（学历、民族、婚姻状况等）与全国行政区划；可重复执行，只写入有变化的数据。"

    def handle(self, *args, **options):
        started = time.monotonic()
        results = reference_data_seed()
        for name, label in (("dictionaries", "字典项"), ("regions", "行政区划")):
            self.stdout.write(f"{label}：{results[name]}")
        self.stdout.write(self.style.SUCCESS(f"完成，用时 {time.monotonic() - started:.2f} 秒。"))
