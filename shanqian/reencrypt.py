"""
Re-encryption under the current key (``manage.py reencrypt_fields``, SPEC §13 key rotation).

Contract
--------
* ``reencrypt_columns(batch=…, rebuild_index=False) -> list[Counts]`` — every column of every
  installed model whose field is an ``EncryptedCharField`` (found through ``fields.encrypted_fields``,
  so a new encrypted column needs no registration). Each column is walked in primary-key order by
  keyset pagination (``pk > last ORDER BY pk LIMIT batch``), so memory is bounded by ``batch`` and
  the walk never rereads a row. Per batch, in one transaction: one ``SELECT … FOR UPDATE`` of the
  raw envelopes (the rows stay as they are until the batch commits, so a concurrent edit is not
  overwritten by a stale value), one ``UPDATE`` (``bulk_update``) of the values not under the
  current key. A value already under the current key is left alone, so a second run writes nothing
  (idempotent) and a run stopped half-way resumes where it stopped: it skips what is done.
* The blind index (``BlindIndexField``) is an HMAC under ``FIELD_BLIND_INDEX_KEY``, a key of its own
  that does not change when ``FIELD_ENCRYPTION_KEYS`` rotates: it is left unchanged. With
  ``rebuild_index=True`` (after a deliberate change of ``FIELD_BLIND_INDEX_KEY``) every value is
  decrypted and its index recomputed and written where it differs (again idempotent).
* ``reencrypt_files(batch=…) -> list[Counts]`` — every ``FileField`` whose storage is an
  ``EncryptedStorage``: a stored file that is still plain (written before encryption was switched
  on) is encrypted, one under an old key is re-encrypted, one under the current key is left alone.
  The file is replaced under its own name (``EncryptedStorage.replace_raw``: an atomic rename on
  the file system, one PUT on S3), so rows and links keep pointing at it. A file that is missing is
  counted, not an error; the file of a row deleted while it was being rewritten is removed again.

Counts name models, fields and numbers only — never a value — and are what the command prints and
logs.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.apps import apps
from django.db import connections, models, router, transaction

from . import fieldcrypt
from .encrypted_storage import FILE_PURPOSE, EncryptedStorage
from .fields import EncryptedCharField, blind_index_of, encrypted_fields

logger = logging.getLogger("shanqian.reencrypt")

DEFAULT_BATCH = 1000  # settings.FIELD_REENCRYPT_BATCH is the command's default


@dataclass
class Counts:
    label: str  # "app.Model.field"
    scanned: int = 0
    reencrypted: int = 0  # values/files written under the current key
    encrypted: int = 0  # plain files that were encrypted for the first time
    index_rebuilt: int = 0
    missing: int = 0  # files named by a row but absent from storage
    batches: int = 0

    def line(self) -> str:
        parts = [f"scanned={self.scanned}", f"reencrypted={self.reencrypted}"]
        if self.encrypted:
            parts.append(f"encrypted={self.encrypted}")
        if self.index_rebuilt:
            parts.append(f"index_rebuilt={self.index_rebuilt}")
        if self.missing:
            parts.append(f"missing={self.missing}")
        parts.append(f"batches={self.batches}")
        return f"{self.label}: " + " ".join(parts)


def _raw_batch(model, field: EncryptedCharField, index, *, alias: str, after, batch: int) -> list[tuple]:
    """``(pk, envelope, stored index)`` of the next ``batch`` rows after ``after``, locked, undecrypted."""
    columns = ["pk", field.attname] + ([index.attname] if index else [])
    queryset = model._base_manager.using(alias).order_by("pk").select_for_update()
    if after is not None:
        queryset = queryset.filter(pk__gt=after)
    sql, params = queryset.values_list(*columns)[:batch].query.sql_with_params()
    # Raw SQL: the field's from_db_value would decrypt, and the key id must be read from the envelope.
    with connections[alias].cursor() as cursor:
        cursor.execute(sql, params)
        return cursor.fetchall()


def reencrypt_column(
    model, field: EncryptedCharField, *, batch: int = DEFAULT_BATCH, rebuild_index: bool = False
) -> Counts:
    ring = fieldcrypt.load_keyring()
    current = fieldcrypt.envelope_prefix(ring.current_id)
    index = blind_index_of(model, field.name)
    alias = router.db_for_write(model)
    counts = Counts(f"{model._meta.label}.{field.name}")
    after = None
    while True:
        with transaction.atomic(using=alias):
            rows = _raw_batch(model, field, index, alias=alias, after=after, batch=batch)
            if not rows:
                break
            rebuild = rebuild_index and index is not None
            changed = []
            for row in rows:
                pk, envelope = row[0], row[1]
                if not envelope:
                    continue
                stale = not envelope.startswith(current)
                if not stale and not rebuild:
                    continue
                # A value that is no envelope was written before the data migration encrypted the column.
                plain = (
                    fieldcrypt.decrypt(envelope, purpose=field.purpose, keyring=ring)
                    if fieldcrypt.is_envelope(envelope)
                    else envelope
                )
                obj = model(pk=pk)
                setattr(obj, field.attname, plain)  # get_prep_value encrypts it under the current key
                if rebuild:
                    fresh = index.lookup_value(plain)
                    setattr(obj, index.attname, fresh)
                    if fresh == row[2] and not stale:
                        continue
                    counts.index_rebuilt += fresh != row[2]
                counts.reencrypted += stale
                changed.append(obj)
            if changed:
                fields = [field.name] + ([index.name] if rebuild else [])
                model._base_manager.using(alias).bulk_update(changed, fields, batch_size=batch)
            counts.scanned += len(rows)
            counts.batches += 1
            after = rows[-1][0]
        if len(rows) < batch:
            break
    return counts


def reencrypt_columns(*, batch: int = DEFAULT_BATCH, rebuild_index: bool = False) -> list[Counts]:
    return [
        reencrypt_column(model, field, batch=batch, rebuild_index=rebuild_index) for model, field in encrypted_fields()
    ]


def encrypted_file_fields() -> list[tuple[type[models.Model], models.FileField]]:
    """Every (model, file field) of the installed apps whose storage encrypts."""
    return [
        (model, field)
        for model in apps.get_models()
        for field in model._meta.concrete_fields
        if isinstance(field, models.FileField) and isinstance(field.storage, EncryptedStorage)
    ]


def reencrypt_file_field(model, field: models.FileField, *, batch: int = DEFAULT_BATCH) -> Counts:
    ring = fieldcrypt.load_keyring()
    storage: EncryptedStorage = field.storage
    alias = router.db_for_read(model)
    counts = Counts(f"{model._meta.label}.{field.name}")
    after = None
    base = model._base_manager.using(alias).exclude(**{field.attname: ""}).order_by("pk")
    while True:
        page = base.filter(pk__gt=after) if after is not None else base
        rows = list(page.values_list("pk", field.attname)[:batch])
        if not rows:
            break
        replaced = {}
        for pk, name in rows:
            try:
                data = storage.read_raw(name)
            except FileNotFoundError:
                counts.missing += 1
                continue
            if fieldcrypt.is_encrypted_bytes(data):
                if fieldcrypt.file_key_id(data) == ring.current_id:
                    continue
                plain = fieldcrypt.decrypt_bytes(data, purpose=FILE_PURPOSE, keyring=ring)
                counts.reencrypted += 1
            else:
                plain = data
                counts.encrypted += 1
            storage.replace_raw(name, fieldcrypt.encrypt_bytes(plain, purpose=FILE_PURPOSE, keyring=ring))
            replaced[pk] = name
        if replaced:
            # A row deleted while its file was being rewritten would leave the rewritten file behind
            # (the rename or PUT recreates it): remove the files of rows that are gone.
            alive = set(base.filter(pk__in=list(replaced)).values_list("pk", flat=True))
            for pk in replaced.keys() - alive:
                storage.delete(replaced[pk])
        counts.scanned += len(rows)
        counts.batches += 1
        after = rows[-1][0]
        if len(rows) < batch:
            break
    return counts


def reencrypt_files(*, batch: int = DEFAULT_BATCH) -> list[Counts]:
    return [reencrypt_file_field(model, field, batch=batch) for model, field in encrypted_file_fields()]
