from django.core.management.base import BaseCommand

from employees.services.identity import identity_purge


class Command(BaseCommand):
    help = "删除过期或已吊销超过保留期的会话令牌、两天前的短信验证码记录和过期的图形验证码（建议每日运行）。"

    def add_arguments(self, parser):
        parser.add_argument("--keep-days", type=int, default=30, help="过期/吊销的会话令牌保留天数（默认 30）")

    def handle(self, *args, **options):
        counts = identity_purge(keep_days=options["keep_days"])
        self.stdout.write(
            f"已删除：会话令牌 {counts['tokens']} 个，短信验证码 {counts['sms_codes']} 条，"
            f"图形验证码 {counts['captchas']} 个。"
        )
