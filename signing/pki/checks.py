"""
System checks of the PKI and the time source (SPEC §10): a misconfiguration
fails ``manage.py check`` / ``runserver`` / ``migrate`` with a clear Chinese
message instead of a failed signature later. gunicorn runs no checks, so the
signing path enforces the same rules (``signing.sealing.pipeline`` answers
503 and logs the reason); deployments run ``manage.py check --deploy`` first.

* ``signing.E001`` — DEBUG off and no ``SIGNING_TSA_URL`` (``none`` is a warning, ``signing.W001``);
* ``signing.E002`` — the development TSA (``SIGNING_TSA_URL=development``) with DEBUG off;
* ``signing.E003`` — no ``SIGNING_KEY_PASSPHRASE`` with DEBUG off (``signing.W002``: shorter than 16;
  ``signing.W003``: the derived development passphrase);
* ``signing.E004`` — the stored CA/TSA keys do not decrypt with the passphrase (the wrong one);
* ``signing.E005`` — ``SIGNING_CA_BACKEND`` cannot be loaded; ``signing.E006`` — ``SIGNING_TSA_TRUST_ROOTS`` unreadable;
* ``signing.W004`` — the hierarchy does not exist yet (run ``manage.py pki_init``).
"""

from pathlib import Path

from django.conf import settings
from django.core.checks import Error, Warning, register
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError

from .backends import get_ca_backend
from .hierarchy import Held
from .keystore import MIN_PASSPHRASE_LENGTH, KeyUndecryptable, PassphraseMissing
from .models import PkiCertificate
from .tsa import load_trust_roots, tsa_mode


def _tsa_messages() -> list:
    mode = tsa_mode()
    if mode == "missing":
        return [
            Error(
                "SIGNING_TSA_URL 未设置：生产模式必须配置可信时间戳服务（RFC 3161），否则签署文件没有可信时间。",
                hint="设置 SIGNING_TSA_URL=https://…（时间戳服务地址）；确需不加时间戳时设置 SIGNING_TSA_URL=none"
                "（不符合人社部《电子劳动合同订立指引》）。",
                id="signing.E001",
            )
        ]
    if mode == "none":
        return [
            Warning(
                "SIGNING_TSA_URL=none：签署文件不带可信时间戳，不符合人社部《电子劳动合同订立指引》的要求。",
                hint="配置一个 RFC 3161 时间戳服务地址。",
                id="signing.W001",
            )
        ]
    if mode == "development" and not settings.DEBUG:
        return [
            Error(
                "SIGNING_TSA_URL=development：开发时间戳服务只能用于开发与测试，不能用于正式签约。",
                hint="设置 SIGNING_TSA_URL 为可信时间戳服务的地址。",
                id="signing.E002",
            )
        ]
    return []


def _passphrase_messages() -> list:
    configured = settings.SIGNING_KEY_PASSPHRASE
    if not configured and not settings.DEBUG:
        return [
            Error(
                "SIGNING_KEY_PASSPHRASE 未设置：生产模式下证书私钥必须加密保存。",
                hint="设置一个足够长的随机口令（例如 openssl rand -base64 32 的输出），并妥善保管。",
                id="signing.E003",
            )
        ]
    if not configured:
        return [
            Warning(
                "SIGNING_KEY_PASSPHRASE 未设置：开发模式下证书私钥以由 SECRET_KEY 派生的开发口令加密。",
                id="signing.W003",
            )
        ]

    if len(configured) < MIN_PASSPHRASE_LENGTH:
        return [
            Warning(
                f"SIGNING_KEY_PASSPHRASE 过短（少于 {MIN_PASSPHRASE_LENGTH} 个字符）。",
                hint="口令保护全部 CA 与单位证书私钥，请使用足够长的随机口令。",
                id="signing.W002",
            )
        ]
    return []


def _hierarchy_messages() -> list:
    try:
        held = [
            row
            for row in PkiCertificate.objects.filter(kind__in=["root", "issuing", "tsa"], revoked_at__isnull=True)
            .exclude(key_pem=b"")
            .order_by("-not_before")[:6]
        ]
    except DatabaseError:
        return []  # not migrated yet: migrate runs the checks before it creates the tables
    if not held:
        return [
            Warning(
                "证书体系尚未初始化：签署合同前请运行 manage.py pki_init。",
                hint="make run 会自动执行；生产环境请在部署时执行一次。",
                id="signing.W004",
            )
        ]
    for row in held:
        try:
            Held.of(row).key()
        except PassphraseMissing:
            return []  # reported by signing.E003
        except KeyUndecryptable as exc:
            return [
                Error(
                    str(exc),
                    hint="SIGNING_KEY_PASSPHRASE 须与执行 manage.py pki_init 时相同；口令错误时任何合同都无法签署。",
                    id="signing.E004",
                )
            ]
    return []


def _backend_messages() -> list:
    try:
        get_ca_backend()
    except ImproperlyConfigured as exc:
        return [Error(str(exc), hint="可选 local，或证书机构后端类的完整路径。", id="signing.E005")]
    path = settings.SIGNING_TSA_TRUST_ROOTS
    if path:
        try:
            load_trust_roots(Path(path))
        except (OSError, ValueError) as exc:
            return [
                Error(
                    f"SIGNING_TSA_TRUST_ROOTS={path} 无法读取（{exc.__class__.__name__}）。",
                    hint="应为时间戳服务根证书的 PEM 或 DER 文件。",
                    id="signing.E006",
                )
            ]
    return []


@register()
def pki_check(app_configs=None, **kwargs):
    return [*_tsa_messages(), *_passphrase_messages(), *_backend_messages(), *_hierarchy_messages()]
