"""``manage.py seed_demo``: demo platform, employers, contract templates and accounts (idempotent)."""

import os

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from shanqian.demo.seed import DEMO_ADMIN_USERNAME, DEMO_PLATFORM_CODE, demo_seed

DEFAULT_PASSWORD = "shanqian-demo"


class Command(BaseCommand):
    help = (
        "创建演示数据：平台 demo、三个用人单位及岗位和合同模板、人事专员 hr1/hr2、超级管理员 admin"
        "（密码取环境变量 DEMO_ADMIN_PASSWORD，默认 shanqian-demo）。可重复执行。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="在 DEBUG 关闭（生产）时也执行")
        parser.add_argument(
            "--reset-passwords", action="store_true", help="把已存在的演示账号密码也重置为 DEMO_ADMIN_PASSWORD"
        )

    def handle(self, *args, force=False, reset_passwords=False, **options):
        if not settings.DEBUG and not force:
            raise CommandError("DEBUG 已关闭：演示数据不应写入生产库。确需执行请加 --force。")
        password = os.environ.get("DEMO_ADMIN_PASSWORD") or DEFAULT_PASSWORD
        summary = demo_seed(password=password, reset_passwords=reset_passwords)
        for line in summary.created:
            self.stdout.write(f"已创建：{line}")
        if not summary.created:
            self.stdout.write("演示数据已存在，无需创建。")
        self.stdout.write(
            self.style.SUCCESS(
                f"演示平台 X-platform-code: {DEMO_PLATFORM_CODE}；后台账号 {DEMO_ADMIN_USERNAME}、hr1、hr2"
                "（密码见 DEMO_ADMIN_PASSWORD）。"
            )
        )
