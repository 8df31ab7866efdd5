"""Generate a self-signed sealing certificate into SIGNING_CERT_PATH / SIGNING_KEY_PATH (development)."""

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from signing.sealing import SigningCertExists, make_signing_cert
from signing.sealing.keys import DEV_COMMON_NAME


class Command(BaseCommand):
    help = "生成自签名的签章证书与私钥（写入 SIGNING_CERT_PATH / SIGNING_KEY_PATH，仅供开发与测试）。"

    def add_arguments(self, parser):
        parser.add_argument("--force", action="store_true", help="覆盖已存在的证书与私钥")
        parser.add_argument("--cn", default=DEV_COMMON_NAME, help=f"证书通用名称（默认：{DEV_COMMON_NAME}）")
        parser.add_argument("--algorithm", choices=["rsa", "ec"], default="rsa", help="rsa = RSA 2048，ec = P-256")
        parser.add_argument("--days", type=int, default=3650, help="有效期（天，默认 3650）")

    def handle(self, *args, force, cn, algorithm, days, **options):
        if days < 1:
            raise CommandError("有效期必须至少 1 天")
        try:
            material = make_signing_cert(common_name=cn, algorithm=algorithm, days=days, force=force)
        except SigningCertExists as exc:
            raise CommandError(str(exc)) from exc
        self.stdout.write(self.style.SUCCESS("已生成自签名签章证书"))
        self.stdout.write(f"  证书：{material.cert_path}")
        encrypted = "，已用 SIGNING_KEY_PASSPHRASE 加密" if settings.SIGNING_KEY_PASSPHRASE else ""
        self.stdout.write(f"  私钥：{material.key_path}（权限 0600{encrypted}）")
        self.stdout.write(f"  主题：{material.subject}")
        self.stdout.write(f"  SHA-256 指纹：{material.fingerprint_sha256}")
        self.stdout.write(f"  有效期至：{material.not_after:%Y-%m-%d %H:%M:%S} UTC")
