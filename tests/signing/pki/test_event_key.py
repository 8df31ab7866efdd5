"""
The worker's event key exists only in memory, for one signature (SPEC §10,
电子签名法 art. 13): after signing, no byte of it is in the database, the
storage, the cache or the logs, and the signer object can no longer sign.
"""

import logging
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.cache import caches
from django.db import connection

from signing.pki import credentials

from .helpers import issue_company_certificate, sign


def _forms(key) -> list[bytes]:
    """Every way the private key could have been written down."""
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sec1 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    body = b"".join(pem.splitlines()[1:-1])
    return [
        scalar,
        scalar.hex().encode(),
        scalar.hex().upper().encode(),
        pkcs8,
        sec1,
        body[:48],
        str(key.private_numbers().private_value).encode(),
    ]


def _database_bytes() -> bytes:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 -- table names from introspection
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def _storage_bytes() -> bytes:
    root = Path(settings.MEDIA_ROOT)
    return b"\n".join(p.read_bytes() for p in root.rglob("*") if p.is_file()) if root.exists() else b""


def _cache_bytes() -> bytes:
    chunks = []
    for cache in caches.all():
        store = getattr(cache, "_cache", None)  # LocMemCache keeps pickled values here
        if store is not None:
            chunks.extend(v if isinstance(v, bytes) else str(v).encode() for v in store.values())
            chunks.extend(str(k).encode() for k in store)
    return b"\n".join(chunks)


def test_the_event_key_is_never_persisted_and_is_dropped(pki, world, signer, monkeypatch, caplog):
    issue_company_certificate(world.company)
    made, credentials_made = [], []
    real_generate, real_credential = credentials.generate_key, credentials.event_credential

    def spy_generate():
        key = real_generate()
        made.append(key)
        return key

    def spy_credential(**kwargs):
        credential = real_credential(**kwargs)
        credentials_made.append(credential)
        return credential

    monkeypatch.setattr(credentials, "generate_key", spy_generate)
    monkeypatch.setattr("signing.sealing.pipeline.event_credential", spy_credential)
    caplog.set_level(logging.DEBUG)

    result = sign(signer.application)

    assert len(made) == 1 and len(credentials_made) == 1
    key = made[0]
    assert credentials_made[0].signer.dropped
    assert bytes(result.event_certificate.key_pem) == b""
    haystacks = {
        "database": _database_bytes(),
        "storage": _storage_bytes(),
        "cache": _cache_bytes(),
        "logs": caplog.text.encode(),
        "signed PDF": result.pdf,
    }
    for where, haystack in haystacks.items():
        for form in _forms(key):
            assert form not in haystack, f"event key material found in {where}"
    # The public half is where it belongs: in the certificate and the signed file.
    public = key.public_key().public_bytes(serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo)
    assert public in bytes(result.event_certificate.der) and public in result.pdf


def test_the_id_number_is_not_in_the_signed_file_or_the_certificate(pki, world, signer):
    issue_company_certificate(world.company)

    result = sign(signer.application)

    number = signer.employee.id_number.encode()
    assert number not in bytes(result.event_certificate.der)
    assert number not in bytes(result.event_certificate.subject.encode())
