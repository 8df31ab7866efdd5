"""
Private keys at rest: PKCS#8 PEM encrypted with ``SIGNING_KEY_PASSPHRASE``.

``encrypt_key`` and ``decrypt_key`` are the only two places a key crosses
between memory and bytes. The format is the standard encrypted PKCS#8
(PBES2, AES-256-CBC), so an operator can move a key into an HSM with stock
``openssl pkcs8``. The passphrase is a machine secret: long and random, never
typed by a person (a system check warns below 16 characters).

With DEBUG on and no passphrase configured, keys are encrypted under a
development passphrase derived from ``SECRET_KEY`` (a warning says so); with
DEBUG off, a missing passphrase is a configuration error. Error messages name
the key, never the passphrase.

Decrypted keys are memoised per process (``decrypt_key`` with a memo key):
loading is cheap, but the signing path should not pay it twice per request.
The memo holds ``cryptography`` key objects only, never their bytes.
"""

import hashlib
import threading

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec
from django.conf import settings
from django.core.exceptions import ImproperlyConfigured

DEV_PASSPHRASE_LABEL = b"shanqian.signing.pki.dev-passphrase"
MIN_PASSPHRASE_LENGTH = 16


class PassphraseMissing(ImproperlyConfigured):
    """No ``SIGNING_KEY_PASSPHRASE`` while DEBUG is off."""


class KeyUndecryptable(ImproperlyConfigured):
    """A stored key does not decrypt with the configured passphrase (wrong passphrase, or a damaged key)."""


def passphrase() -> bytes:
    configured = settings.SIGNING_KEY_PASSPHRASE
    if configured:
        return configured.encode()
    if not settings.DEBUG:
        raise PassphraseMissing(
            "SIGNING_KEY_PASSPHRASE 未设置：生产模式下证书私钥必须以口令加密保存，请配置一个足够长的随机口令。"
        )
    return hashlib.sha256(DEV_PASSPHRASE_LABEL + settings.SECRET_KEY.encode()).hexdigest().encode()


def passphrase_is_development() -> bool:
    return not settings.SIGNING_KEY_PASSPHRASE


def generate_key() -> ec.EllipticCurvePrivateKey:
    """Every key of the hierarchy is ECDSA P-256: what NSS, Adobe and pyHanko all verify, and fast to sign."""
    return ec.generate_private_key(ec.SECP256R1())


def encrypt_key(key) -> bytes:
    return key.private_bytes(
        serialization.Encoding.PEM,
        serialization.PrivateFormat.PKCS8,
        serialization.BestAvailableEncryption(passphrase()),
    )


_memo: dict[tuple[str, str], object] = {}
_memo_lock = threading.Lock()


def _passphrase_id(secret: bytes) -> str:
    # The memo is keyed by a digest of the passphrase so a changed setting never reuses a key
    # decrypted under the old one; the digest is kept in memory only.
    return hashlib.sha256(b"memo:" + secret).hexdigest()


def decrypt_key(pem: bytes, *, name: str, memo_key: str | None = None):
    """
    The private key of ``pem``. ``name`` is how an error names it (e.g.
    "签发 CA"); ``memo_key`` (the certificate fingerprint) memoises the
    result for the process. Raises ``KeyUndecryptable``.
    """
    secret = passphrase()
    cache_key = (memo_key, _passphrase_id(secret)) if memo_key else None
    if cache_key is not None:
        key = _memo.get(cache_key)
        if key is not None:
            return key
    try:
        key = serialization.load_pem_private_key(bytes(pem), password=secret)
    except (ValueError, TypeError) as exc:
        raise KeyUndecryptable(
            f"{name}的私钥无法用 SIGNING_KEY_PASSPHRASE 解密：口令错误，或私钥已损坏。"
            "请使用执行 manage.py pki_init 时的口令。"
        ) from exc
    if cache_key is not None:
        with _memo_lock:
            _memo[cache_key] = key
    return key


def forget_keys() -> None:
    """Drop every memoised key (tests; a passphrase rotation)."""
    with _memo_lock:
        _memo.clear()
