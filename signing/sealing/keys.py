"""
The sealing key and certificate.

Production points ``SIGNING_CERT_PATH`` / ``SIGNING_KEY_PATH`` (PEM; the key
optionally encrypted with ``SIGNING_KEY_PASSPHRASE``) at a certificate issued
for the company. Development generates a self-signed one: ``manage.py
make_signing_cert``, or automatically through :func:`ensure_dev_signing_cert`
when DEBUG is on. With DEBUG off a missing or unreadable certificate is a
configuration error (``ImproperlyConfigured``), never a silently generated key.
"""

import contextlib
import datetime
import logging
import os
from dataclasses import dataclass
from pathlib import Path

from asn1crypto import keys as asn1_keys
from asn1crypto import x509 as asn1_x509
from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec, padding, rsa
from cryptography.x509.oid import NameOID
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured
from pyhanko.sign.signers import SimpleSigner
from pyhanko_certvalidator.registry import SimpleCertificateStore
from pyhanko_certvalidator.util import get_pyca_cryptography_hash

logger = logging.getLogger(__name__)

DEV_COMMON_NAME = "闪签云电子签约（开发）"
DEV_ORGANIZATION = "闪签云"


class SigningCertExists(Exception):
    """The configured key or certificate file already exists (and overwriting was not asked for)."""


@dataclass(frozen=True)
class SigningMaterial:
    cert_path: Path
    key_path: Path
    subject: str
    fingerprint_sha256: str
    not_after: datetime.datetime


def _paths() -> tuple[Path, Path]:
    return Path(settings.SIGNING_CERT_PATH), Path(settings.SIGNING_KEY_PATH)


def _passphrase() -> bytes | None:
    return settings.SIGNING_KEY_PASSPHRASE.encode() if settings.SIGNING_KEY_PASSPHRASE else None


def make_signing_cert(
    *,
    common_name: str = DEV_COMMON_NAME,
    organization: str = DEV_ORGANIZATION,
    algorithm: str = "rsa",
    days: int = 3650,
    force: bool = False,
) -> SigningMaterial:
    """Generate a self-signed document-signing certificate into the configured paths."""
    cert_path, key_path = _paths()
    if not force and (cert_path.exists() or key_path.exists()):
        raise SigningCertExists(f"签名证书或私钥已存在：{cert_path} / {key_path}（如需覆盖请加 --force）")

    if algorithm == "rsa":
        key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    elif algorithm == "ec":
        key = ec.generate_private_key(ec.SECP256R1())
    else:
        raise ValueError(f"unknown key algorithm {algorithm!r}")

    name = x509.Name(
        [
            x509.NameAttribute(NameOID.COUNTRY_NAME, "CN"),
            x509.NameAttribute(NameOID.ORGANIZATION_NAME, organization),
            x509.NameAttribute(NameOID.COMMON_NAME, common_name),
        ]
    )
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(minutes=5))
        .not_valid_after(now + datetime.timedelta(days=days))
        .add_extension(x509.BasicConstraints(ca=False, path_length=None), critical=True)
        .add_extension(
            x509.KeyUsage(
                digital_signature=True,
                content_commitment=True,
                key_encipherment=False,
                data_encipherment=False,
                key_agreement=False,
                key_cert_sign=False,
                crl_sign=False,
                encipher_only=False,
                decipher_only=False,
            ),
            critical=True,
        )
        .add_extension(x509.SubjectKeyIdentifier.from_public_key(key.public_key()), critical=False)
        .sign(key, hashes.SHA256())
    )

    passphrase = _passphrase()
    encryption = serialization.BestAvailableEncryption(passphrase) if passphrase else serialization.NoEncryption()
    key_pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, encryption)
    cert_pem = cert.public_bytes(serialization.Encoding.PEM)

    for path in (cert_path, key_path):
        path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    _write_atomically(key_path, key_pem, mode=0o600)
    _write_atomically(cert_path, cert_pem, mode=0o644)
    logger.info("已生成自签名签章证书 %s（%s）", cert_path, common_name)
    return _describe(cert, cert_path, key_path)


def _write_atomically(path: Path, data: bytes, *, mode: int) -> None:
    # The key is created 0600 from the first byte, not chmod-ed after being written.
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, mode)
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
        os.chmod(tmp, mode)
        os.replace(tmp, path)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
        raise


def _describe(cert: x509.Certificate, cert_path: Path, key_path: Path) -> SigningMaterial:
    return SigningMaterial(
        cert_path=cert_path,
        key_path=key_path,
        subject=cert.subject.rfc4514_string(),
        fingerprint_sha256=cert.fingerprint(hashes.SHA256()).hex(),
        not_after=cert.not_valid_after_utc,
    )


@contextlib.contextmanager
def _generation_lock(key_path: Path):
    """Serialise the development auto-generation across processes (runserver's reloader, workers)."""
    try:
        import fcntl
    except ImportError:  # Windows: no cross-process lock; generation is still atomic per file.
        yield
        return
    key_path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    with open(key_path.with_name(f".{key_path.name}.lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)


def ensure_dev_signing_cert() -> bool:
    """
    Make sure a signing certificate exists. With DEBUG on, generate a
    self-signed one when both files are missing and return True; with DEBUG
    off, a missing file raises ``ImproperlyConfigured``. Returns False when
    nothing had to be done.
    """
    cert_path, key_path = _paths()
    if cert_path.is_file() and key_path.is_file():
        return False
    if not settings.DEBUG:
        raise ImproperlyConfigured(
            f"签章证书未配置：找不到 SIGNING_CERT_PATH={cert_path} 或 SIGNING_KEY_PATH={key_path}。"
            "生产环境请配置单位的签章证书；开发环境可运行 manage.py make_signing_cert。"
        )
    if cert_path.exists() != key_path.exists():
        raise ImproperlyConfigured(f"签章证书与私钥不成对：{cert_path} / {key_path} 只存在其一，请检查后重试。")
    with _generation_lock(key_path):
        if cert_path.is_file() and key_path.is_file():
            return False
        make_signing_cert()
        logger.warning("开发模式：已自动生成自签名签章证书 %s，仅供开发使用。", cert_path)
        return True


def load_signing_cert() -> asn1_x509.Certificate:
    """The configured certificate (the one verification trusts)."""
    cert_path, _ = _paths()
    try:
        data = cert_path.read_bytes()
        cert = x509.load_pem_x509_certificate(data) if b"-----BEGIN" in data else x509.load_der_x509_certificate(data)
    except (OSError, ValueError) as exc:
        raise ImproperlyConfigured(f"签章证书无法读取：{cert_path}（{exc.__class__.__name__}）") from exc
    return asn1_x509.Certificate.load(cert.public_bytes(serialization.Encoding.DER))


class _LoadedKeySigner(SimpleSigner):
    """
    pyHanko's SimpleSigner re-parses the DER key on every signature (twice per
    PDF: a dry run sizes the /Contents hole), and an RSA parse runs a key
    consistency check costing ~30 ms. This keeps the parsed key for the two
    mechanisms we issue keys for and leaves every other case to pyHanko.
    """

    def __init__(self, *, private_key, **kwargs):
        super().__init__(**kwargs)
        self._private_key = private_key

    def sign_raw(self, data: bytes, digest_algorithm: str) -> bytes:
        mechanism = self.get_signature_mechanism_for_digest(digest_algorithm)
        try:
            algorithm = mechanism.signature_algo  # the same dispatch as SimpleSigner.sign_raw
        except ValueError:
            algorithm = mechanism["algorithm"].native
        key = self._private_key
        hash_algorithm = get_pyca_cryptography_hash(digest_algorithm)
        if algorithm == "rsassa_pkcs1v15" and isinstance(key, rsa.RSAPrivateKey):
            return key.sign(data, padding.PKCS1v15(), hash_algorithm)
        if algorithm == "ecdsa" and isinstance(key, ec.EllipticCurvePrivateKey):
            return key.sign(data, ec.ECDSA(hash_algorithm))
        return super().sign_raw(data, digest_algorithm)


_signer_cache: dict[tuple, SimpleSigner] = {}


def _file_stamp(path: Path) -> tuple:
    stat = path.stat()
    return (str(path), stat.st_mtime_ns, stat.st_size, stat.st_ino)


def load_signer() -> SimpleSigner:
    """
    A pyHanko signer over the configured key and certificate (generated first
    in development). Cached per process until either file changes.
    """
    ensure_dev_signing_cert()
    cert_path, key_path = _paths()
    try:
        cache_key = (_file_stamp(cert_path), _file_stamp(key_path), settings.SIGNING_KEY_PASSPHRASE)
    except OSError as exc:
        raise ImproperlyConfigured(f"签章证书或私钥无法读取：{cert_path} / {key_path}") from exc
    signer = _signer_cache.get(cache_key)
    if signer is None:
        signer = _signer_cache[cache_key] = _load_signer(key_path)
    return signer


def _load_signer(key_path: Path) -> SimpleSigner:
    cert = load_signing_cert()
    try:
        key = serialization.load_pem_private_key(key_path.read_bytes(), password=_passphrase())
    except (OSError, ValueError, TypeError) as exc:
        # The message names the file, never the passphrase.
        raise ImproperlyConfigured(
            f"签章私钥无法读取：{key_path}（{exc.__class__.__name__}；请检查文件与 SIGNING_KEY_PASSPHRASE）"
        ) from exc
    cert_public = x509.load_der_x509_certificate(cert.dump()).public_key()
    if key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    ) != cert_public.public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo):
        raise ImproperlyConfigured("签章私钥与证书不匹配，请检查 SIGNING_KEY_PATH 与 SIGNING_CERT_PATH。")
    key_info = asn1_keys.PrivateKeyInfo.load(
        key.private_bytes(serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    )
    _signer_cache.clear()  # one live entry: a rotated key leaves nothing behind
    return _LoadedKeySigner(
        private_key=key, signing_cert=cert, signing_key=key_info, cert_registry=SimpleCertificateStore()
    )
