"""
The worker's event key exists only in memory, for one signature (SPEC §10,
电子签名法 art. 13): after signing, no byte of it is in the database, the
storage, the cache or the logs, and the signer object can no longer sign.
"""

import logging

from cryptography.hazmat.primitives import serialization

from signing.pki import credentials

from .helpers import cache_bytes, database_bytes, issue_company_certificate, key_forms, sign, storage_bytes


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
        "database": database_bytes(),
        "storage": storage_bytes(),
        "cache": cache_bytes(),
        "logs": caplog.text.encode(),
        "signed PDF": result.pdf,
    }
    for where, haystack in haystacks.items():
        for form in key_forms(key):
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
