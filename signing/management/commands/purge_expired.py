"""
``manage.py purge_expired`` — the daily purge, also run by Celery beat (``signing.privacy.tasks``).
It lives in ``signing``, the app that knows the applications and contracts the retention rules ask about.
"""

from django.conf import settings
from django.core.management.base import BaseCommand

from employees.services.identity import identity_purge
from signing.privacy.retention import applicant_purge, retained_purge, upload_purge


class Command(BaseCommand):
    help = (
        "删除过期或已吊销超过保留期的会话令牌、两天前的短信验证码记录和过期的图形验证码；"
        "删除保留期（APPLICANT_RETENTION_DAYS）已满、没有合同的申请人的简历、上传图片和实名认证资料；"
        "删除依法保留期满的已删除申请数据；"
        "删除上传超过 UPLOAD_UNUSED_RETENTION_DAYS 天、未被任何简历、实名认证或签署文件引用的上传图片"
        "（建议每日运行，Celery beat 已每日运行）。"
    )

    def add_arguments(self, parser):
        parser.add_argument("--keep-days", type=int, default=30, help="过期/吊销的会话令牌保留天数（默认 30）")

    def handle(self, *args, **options):
        counts = identity_purge(keep_days=options["keep_days"])
        self.stdout.write(
            f"已删除：会话令牌 {counts['tokens']} 个，短信验证码 {counts['sms_codes']} 条，"
            f"图形验证码 {counts['captchas']} 个。"
        )
        applicants = applicant_purge()
        self.stdout.write(
            f"申请人（结束超过 {settings.APPLICANT_RETENTION_DAYS} 天）：删除简历 {applicants.get('resume', 0)} 份、"
            f"上传图片 {applicants.get('uploads', 0)} 张、实名认证记录 {applicants.get('verifications', 0)} 条，"
            f"签约申请 {applicants.get('applications', 0)} 条已去标识化保留。"
        )
        retained = retained_purge()
        self.stdout.write(
            f"依法保留期满：删除申请 {retained['requests']} 个已删除保留数据，{retained['held']} 个仍须保留。"
        )
        uploads = upload_purge()
        self.stdout.write(
            f"未被引用的上传图片（超过 {settings.UPLOAD_UNUSED_RETENTION_DAYS} 天）：删除 {uploads['uploads']} 张。"
        )
