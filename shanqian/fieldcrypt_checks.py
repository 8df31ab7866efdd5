"""
System checks of the field-encryption keys (``shanqian.fieldcrypt``), tag ``field_encryption``.

* ``shanqian.E101`` — ``FIELD_ENCRYPTION_KEYS`` / ``FIELD_BLIND_INDEX_KEY`` malformed (the message
  says which item and why).
* ``shanqian.E102`` — a development key with DEBUG off (those keys are published in settings.py).
* ``shanqian.E103`` — the keys do not open the stored data: the newest and the oldest encrypted
  value of every encrypted column are decrypted, so a key replaced under the same id, or an old key
  dropped while values still use it, is found at start-up instead of at the first page that shows
  the value.
* ``shanqian.E104`` — ``FIELD_BLIND_INDEX_KEY`` is not the key the stored blind indexes were made
  with (uniqueness and exact search would silently stop matching); recompute them with
  ``manage.py reencrypt_fields --rebuild-index`` after changing it deliberately.

The data checks read two rows per column through the primary-key index; they are skipped while the
table or column does not exist yet, and before the data migration has encrypted the column (so
``migrate`` can run on an old database). ``runserver`` and ``migrate`` run these checks; gunicorn
does not run system checks, so ``shanqian.wsgi`` calls ``raise_on_errors()`` before serving.
"""

from __future__ import annotations

from django.conf import settings
from django.core.checks import Error, register, run_checks
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError, connections, router, transaction

from . import fieldcrypt
from .fields import blind_index_of, encrypted_fields

TAG = "field_encryption"


@register(TAG)
def field_keys_check(app_configs=None, **kwargs):
    try:
        ring = fieldcrypt.load_keyring()
    except fieldcrypt.FieldKeyError as exc:
        return [
            Error(
                str(exc),
                hint="格式：FIELD_ENCRYPTION_KEYS=编号:base64(32 字节)[,旧编号:旧密钥…]，第一个为当前密钥；"
                "FIELD_BLIND_INDEX_KEY=base64(至少 32 字节)。",
                id="shanqian.E101",
            )
        ]
    errors = []
    if not settings.DEBUG:
        dev = fieldcrypt.parse_keyring(settings._DEV_FIELD_ENCRYPTION_KEYS, settings._DEV_FIELD_BLIND_INDEX_KEY)
        if fieldcrypt.DEVELOPMENT_KEY_ID in ring.keys or set(ring.keys.values()) & set(dev.keys.values()):
            errors.append(
                Error(
                    "FIELD_ENCRYPTION_KEYS 使用了开发密钥：该密钥公开在代码中，生产模式不得使用。",
                    hint="生成新密钥并用 manage.py reencrypt_fields 重新加密。",
                    id="shanqian.E102",
                )
            )
        if ring.index_root == dev.index_root:
            errors.append(
                Error(
                    "FIELD_BLIND_INDEX_KEY 使用了开发密钥：该密钥公开在代码中，生产模式不得使用。",
                    hint="生成新密钥后运行 manage.py reencrypt_fields --rebuild-index。",
                    id="shanqian.E102",
                )
            )
    return errors + _stored_data_errors(ring)


def _stored_data_errors(ring: fieldcrypt.Keyring) -> list[Error]:
    errors = []
    for model, field in encrypted_fields():
        alias = router.db_for_read(model)
        connection = connections[alias]
        index = blind_index_of(model, field.name)
        columns = [field.column] + ([index.column] if index else [])
        try:
            if model._meta.db_table not in connection.introspection.table_names():
                continue
            with connection.cursor() as cursor:
                present = {c.name for c in connection.introspection.get_table_description(cursor, model._meta.db_table)}
            if not set(columns) <= present:
                continue
            samples = []
            with transaction.atomic(using=alias):
                base = model._base_manager.using(alias).exclude(**{f"{field.attname}__isnull": True})
                for order in ("-pk", "pk"):
                    # .values_list() of the raw column: raw SQL avoids from_db_value, which would decrypt.
                    sql, params = (
                        base.order_by(order)
                        .values_list(*[f.attname for f in (field, index) if f])[:1]
                        .query.sql_with_params()
                    )
                    with connection.cursor() as cursor:
                        cursor.execute(sql, params)
                        samples.extend(cursor.fetchall())
        except DatabaseError:
            continue  # no database yet, or it is unreachable: nothing stored to check against
        label = f"{model._meta.label}.{field.name}"
        for sample in samples:
            envelope = sample[0]
            if not fieldcrypt.is_envelope(envelope):
                continue  # written before encryption; the data migration has not run yet
            try:
                plain = fieldcrypt.decrypt(envelope, purpose=field.purpose, keyring=ring)
            except fieldcrypt.FieldDecryptionError as exc:
                errors.append(
                    Error(
                        f"{label}：已存储的值无法用当前配置的密钥解密：{exc}",
                        hint="检查 FIELD_ENCRYPTION_KEYS：编号对应的密钥必须与加密时相同，"
                        "旧密钥在重新加密完成前不能删除。",
                        id="shanqian.E103",
                    )
                )
                break
            stored_index = sample[1] if index is not None and len(sample) > 1 else None
            if stored_index is not None and stored_index != fieldcrypt.blind_index(
                plain, purpose=index.purpose, keyring=ring
            ):
                errors.append(
                    Error(
                        f"{label}：FIELD_BLIND_INDEX_KEY 与已存储的盲索引不一致（唯一性检查与精确查找将失效）。",
                        hint="换回原来的 FIELD_BLIND_INDEX_KEY；有意更换时运行 "
                        "manage.py reencrypt_fields --rebuild-index。",
                        id="shanqian.E104",
                    )
                )
                break
    return errors


def raise_on_errors() -> None:
    """For processes that do not run system checks (gunicorn): refuse to serve with bad keys."""
    errors = [e for e in run_checks(tags=[TAG]) if e.is_serious()]
    if errors:
        raise ImproperlyConfigured("；".join(f"{e.id}: {e.msg}" for e in errors))
