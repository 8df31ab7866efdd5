"""
Field encryption at rest (SPEC §13): AES-256-GCM envelopes with key ids, and keyed hashes.

Contract
--------
* ``encrypt(plaintext, purpose=…) -> str`` / ``decrypt(envelope, purpose=…) -> str`` — a text
  envelope ``e1:<key id>:<base64url(nonce ‖ ciphertext ‖ tag)>`` for a database column. A fresh
  96-bit random nonce per value; the ``purpose`` (e.g. ``"id_number"``) is the associated data, so
  an envelope moved into a column of another purpose does not decrypt. Always encrypts under the
  *current* key (the first of ``FIELD_ENCRYPTION_KEYS``); decrypts under whichever key the envelope
  names. ``key_id(envelope)`` tells which.
* ``encrypt_bytes`` / ``decrypt_bytes`` / ``is_encrypted_bytes`` — the same for files: a binary
  header ``SQE1``, the key id, then nonce ‖ ciphertext ‖ tag.
* ``blind_index(value, purpose=…) -> str`` — 64 hex characters of HMAC-SHA256 under a key derived
  (HKDF-SHA256) from ``FIELD_BLIND_INDEX_KEY`` for that purpose: equal values, equal index; without
  the key the index says nothing (an 18-digit ID number has few enough values to brute-force a
  plain hash). Serves uniqueness and exact search only.
* ``keyed_hash(value, purpose=…)`` — the same construction for any other purpose (for example the
  serialNumber of an event certificate): each purpose gets its own derived key, so a value hashed
  for one purpose cannot be matched against the blind index of another.
* ``load_keyring()`` — parses the settings; raises ``FieldKeyError`` with a message naming what is
  wrong. ``shanqian.checks`` turns that into a system check error at start-up.

Key format: ``FIELD_ENCRYPTION_KEYS="<id>:<base64 of 32 bytes>[,<id>:<key>…]"``, the first one
current, the others kept to read values not yet re-encrypted (``manage.py reencrypt_fields``).
``FIELD_BLIND_INDEX_KEY`` is base64 of at least 32 bytes, and must differ from every encryption key.
Development keys exist only under DEBUG (``shanqian.settings``).
"""

from __future__ import annotations

import base64
import binascii
import hashlib
import hmac
import os
import re
import threading
from dataclasses import dataclass, field

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from django.conf import settings

ENVELOPE_VERSION = "e1"
FILE_MAGIC = b"SQE1"
NONCE_BYTES = 12
KEY_BYTES = 32
KEY_ID_RE = re.compile(r"^[A-Za-z0-9_-]{1,16}$")
# The development keys of shanqian.settings (DEBUG only); the system check refuses them otherwise.
DEVELOPMENT_KEY_ID = "dev"


class FieldKeyError(Exception):
    """The configured keys are missing or malformed. The message says which and how to fix it."""


class FieldDecryptionError(Exception):
    """A stored value does not decrypt: unknown key id, wrong key, or a damaged value."""


@dataclass(frozen=True)
class Keyring:
    current_id: str
    keys: dict[str, bytes]
    index_root: bytes
    _aead: dict[str, AESGCM] = field(default_factory=dict, compare=False, repr=False)
    _derived: dict[str, bytes] = field(default_factory=dict, compare=False, repr=False)

    def __repr__(self):  # never the key material
        return f"Keyring(current={self.current_id!r}, ids={list(self.keys)!r})"

    def aead(self, key_id: str) -> AESGCM:
        try:
            return self._aead[key_id]
        except KeyError:
            if key_id not in self.keys:
                raise FieldDecryptionError(
                    f"密钥 {key_id!r} 不在 FIELD_ENCRYPTION_KEYS 中：该值无法解密，请把旧密钥加回配置。"
                ) from None
            aead = self._aead[key_id] = AESGCM(self.keys[key_id])
            return aead

    def derived(self, purpose: str) -> bytes:
        key = self._derived.get(purpose)
        if key is None:
            key = HKDF(
                algorithm=hashes.SHA256(), length=32, salt=None, info=f"shanqian/keyed-hash/{purpose}".encode()
            ).derive(self.index_root)
            self._derived[purpose] = key
        return key


def _decode_key(text: str, *, what: str, minimum: int, exact: bool) -> bytes:
    text = text.strip()
    try:
        urlsafe = "-" in text or "_" in text
        raw = base64.b64decode(text + "=" * (-len(text) % 4), altchars=b"-_" if urlsafe else None, validate=True)
    except (binascii.Error, ValueError):
        raise FieldKeyError(f"{what} 不是有效的 base64。") from None
    if (exact and len(raw) != minimum) or len(raw) < minimum:
        need = f"正好 {minimum}" if exact else f"至少 {minimum}"
        raise FieldKeyError(f"{what}解码后为 {len(raw)} 字节，需要{need} 字节（AES-256）。")
    return raw


def parse_keyring(encryption_keys: str, blind_index_key: str) -> Keyring:
    """Parse the two settings; ``FieldKeyError`` names the first problem."""
    items = [item.strip() for item in (encryption_keys or "").split(",") if item.strip()]
    if not items:
        raise FieldKeyError("FIELD_ENCRYPTION_KEYS 未设置：需要至少一个“密钥编号:base64 密钥”。")
    keys: dict[str, bytes] = {}
    for position, item in enumerate(items, start=1):
        key_id, sep, material = item.partition(":")
        key_id = key_id.strip()
        if not sep:
            raise FieldKeyError(f"FIELD_ENCRYPTION_KEYS 第 {position} 项缺少密钥编号，格式应为“编号:base64 密钥”。")
        if not KEY_ID_RE.fullmatch(key_id):
            raise FieldKeyError(
                f"FIELD_ENCRYPTION_KEYS 第 {position} 项的密钥编号 {key_id!r} 无效：只能用 1–16 位字母、数字、- 或 _。"
            )
        if key_id in keys:
            raise FieldKeyError(f"FIELD_ENCRYPTION_KEYS 中密钥编号 {key_id!r} 重复。")
        keys[key_id] = _decode_key(
            material, what=f"FIELD_ENCRYPTION_KEYS 中编号 {key_id!r} 的密钥", minimum=KEY_BYTES, exact=True
        )
    if len(set(keys.values())) != len(keys):
        raise FieldKeyError("FIELD_ENCRYPTION_KEYS 中有两个编号使用了同一个密钥。")
    if not (blind_index_key or "").strip():
        raise FieldKeyError("FIELD_BLIND_INDEX_KEY 未设置：盲索引需要独立的密钥（base64，至少 32 字节）。")
    index_root = _decode_key(blind_index_key, what="FIELD_BLIND_INDEX_KEY", minimum=KEY_BYTES, exact=False)
    if index_root in keys.values():
        raise FieldKeyError("FIELD_BLIND_INDEX_KEY 不能与 FIELD_ENCRYPTION_KEYS 中的任何密钥相同。")
    return Keyring(current_id=next(iter(keys)), keys=keys, index_root=index_root)


_cache: dict[tuple[str, str], Keyring] = {}
_cache_lock = threading.Lock()


def load_keyring() -> Keyring:
    """The keyring of the current settings (parsed once per distinct value; override_settings works)."""
    raw = (settings.FIELD_ENCRYPTION_KEYS, settings.FIELD_BLIND_INDEX_KEY)
    ring = _cache.get(raw)
    if ring is None:
        ring = parse_keyring(*raw)
        with _cache_lock:
            if len(_cache) > 16:  # only tests switch keys; never let that grow
                _cache.clear()
            _cache[raw] = ring
    return ring


def generate_key() -> str:
    """A fresh random key, base64 (for ``FIELD_ENCRYPTION_KEYS`` or ``FIELD_BLIND_INDEX_KEY``)."""
    return base64.b64encode(os.urandom(KEY_BYTES)).decode()


# --- text envelopes (database columns) --------------------------------------------------------------


def encrypt(plaintext: str, *, purpose: str, keyring: Keyring | None = None) -> str:
    ring = keyring or load_keyring()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.aead(ring.current_id).encrypt(nonce, plaintext.encode(), purpose.encode())
    return f"{ENVELOPE_VERSION}:{ring.current_id}:{base64.urlsafe_b64encode(nonce + sealed).decode().rstrip('=')}"


def is_envelope(value: str) -> bool:
    return isinstance(value, str) and value.startswith(f"{ENVELOPE_VERSION}:") and value.count(":") == 2


def key_id(envelope: str) -> str:
    if not is_envelope(envelope):
        raise FieldDecryptionError("不是加密字段的密文格式。")
    return envelope.split(":", 2)[1]


def envelope_prefix(key: str) -> str:
    """What every envelope under key ``key`` starts with (for finding rows still under an old key)."""
    return f"{ENVELOPE_VERSION}:{key}:"


def decrypt(envelope: str, *, purpose: str, keyring: Keyring | None = None) -> str:
    ring = keyring or load_keyring()
    kid = key_id(envelope)
    body = envelope.split(":", 2)[2]
    try:
        raw = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
    except (binascii.Error, ValueError):
        raise FieldDecryptionError("密文已损坏（base64 无效）。") from None
    if len(raw) < NONCE_BYTES + 16:
        raise FieldDecryptionError("密文已损坏（长度不足）。")
    try:
        plain = ring.aead(kid).decrypt(raw[:NONCE_BYTES], raw[NONCE_BYTES:], purpose.encode())
    except InvalidTag:
        raise FieldDecryptionError(
            f"用密钥 {kid!r} 解密失败：FIELD_ENCRYPTION_KEYS 中该编号的密钥与加密时不同，或密文已被改动。"
        ) from None
    return plain.decode()


# --- files ----------------------------------------------------------------------------------------


def encrypt_bytes(data: bytes, *, purpose: str, keyring: Keyring | None = None) -> bytes:
    ring = keyring or load_keyring()
    kid = ring.current_id.encode()
    nonce = os.urandom(NONCE_BYTES)
    sealed = ring.aead(ring.current_id).encrypt(nonce, data, purpose.encode())
    return FILE_MAGIC + bytes([len(kid)]) + kid + nonce + sealed


def is_encrypted_bytes(data: bytes) -> bool:
    return data[: len(FILE_MAGIC)] == FILE_MAGIC


def file_key_id(data: bytes) -> str:
    if not is_encrypted_bytes(data) or len(data) < len(FILE_MAGIC) + 1:
        raise FieldDecryptionError("不是加密文件。")
    size = data[len(FILE_MAGIC)]
    return data[len(FILE_MAGIC) + 1 : len(FILE_MAGIC) + 1 + size].decode("ascii", "replace")


def decrypt_bytes(data: bytes, *, purpose: str, keyring: Keyring | None = None) -> bytes:
    ring = keyring or load_keyring()
    kid = file_key_id(data)
    start = len(FILE_MAGIC) + 1 + len(kid)
    nonce, sealed = data[start : start + NONCE_BYTES], data[start + NONCE_BYTES :]
    if len(nonce) != NONCE_BYTES or len(sealed) < 16:
        raise FieldDecryptionError("加密文件已损坏（长度不足）。")
    try:
        return ring.aead(kid).decrypt(nonce, sealed, purpose.encode())
    except InvalidTag:
        raise FieldDecryptionError(f"用密钥 {kid!r} 解密文件失败：密钥与加密时不同，或文件已被改动。") from None


# --- keyed hashes -----------------------------------------------------------------------------------


def keyed_hash(value: str, *, purpose: str, keyring: Keyring | None = None) -> str:
    """HMAC-SHA256 hex of ``value`` under the key derived for ``purpose``."""
    ring = keyring or load_keyring()
    return hmac.new(ring.derived(purpose), value.encode(), hashlib.sha256).hexdigest()


def blind_index(value: str, *, purpose: str, keyring: Keyring | None = None) -> str:
    """The searchable index of ``value`` (exact match only); see the module docstring."""
    return keyed_hash(value, purpose=f"blind-index/{purpose}", keyring=keyring)
