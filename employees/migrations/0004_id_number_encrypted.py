"""
ID numbers encrypted at rest (SPEC §13): ``id_number`` of the resume and of every real-name
submission becomes an AES-GCM envelope in a text column, beside a keyed blind index that carries
uniqueness (the resume) and exact search.

Existing rows are converted in batches of 1,000 by primary key (bounded memory), with raw SQL (the historical model's field
would try to decrypt the plain values). Reversible: going back decrypts into the old columns.
The keys are the ones configured when ``migrate`` runs (``FIELD_ENCRYPTION_KEYS`` /
``FIELD_BLIND_INDEX_KEY``).
"""

from django.db import migrations

import shanqian.fields
from shanqian import fieldcrypt

PURPOSE = "id_number"
BATCH = 1000
MODELS = ("Employee", "RealnameVerification")


def _batches(connection, table):
    quote = connection.ops.quote_name
    last = 0
    while True:
        with connection.cursor() as cursor:
            cursor.execute(
                f"SELECT {quote('id')}, {quote('id_number')} FROM {quote(table)} "
                f"WHERE {quote('id')} > %s ORDER BY {quote('id')} LIMIT {BATCH}",
                [last],
            )
            rows = cursor.fetchall()
        if not rows:
            return
        yield rows
        last = rows[-1][0]


def _update(connection, table, values):
    if not values:
        return
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.executemany(
            f"UPDATE {quote(table)} SET {quote('id_number')} = %s, {quote('id_number_index')} = %s "
            f"WHERE {quote('id')} = %s",
            values,
        )


def encrypt_rows(apps, schema_editor):
    connection = schema_editor.connection
    ring = fieldcrypt.load_keyring()
    for name in MODELS:
        table = apps.get_model("employees", name)._meta.db_table
        for rows in _batches(connection, table):
            _update(
                connection,
                table,
                [
                    (
                        fieldcrypt.encrypt(number, purpose=PURPOSE, keyring=ring),
                        fieldcrypt.blind_index(number, purpose=PURPOSE, keyring=ring),
                        pk,
                    )
                    for pk, number in rows
                    if number and not fieldcrypt.is_envelope(number)
                ],
            )


def decrypt_rows(apps, schema_editor):
    connection = schema_editor.connection
    ring = fieldcrypt.load_keyring()
    for name in MODELS:
        table = apps.get_model("employees", name)._meta.db_table
        for rows in _batches(connection, table):
            _update(
                connection,
                table,
                [
                    (fieldcrypt.decrypt(value, purpose=PURPOSE, keyring=ring), None, pk)
                    for pk, value in rows
                    if value and fieldcrypt.is_envelope(value)
                ],
            )


class Migration(migrations.Migration):
    dependencies = [
        ("employees", "0003_consent"),
    ]

    operations = [
        migrations.AddField(
            model_name="employee",
            name="id_number_index",
            field=shanqian.fields.BlindIndexField(
                purpose="id_number", source="id_number", unique=True, verbose_name="身份证号盲索引"
            ),
        ),
        migrations.AddField(
            model_name="realnameverification",
            name="id_number_index",
            field=shanqian.fields.BlindIndexField(
                db_index=True, purpose="id_number", source="id_number", verbose_name="身份证号盲索引"
            ),
        ),
        migrations.AlterField(
            model_name="employee",
            name="id_number",
            field=shanqian.fields.EncryptedCharField(max_length=32, purpose="id_number", verbose_name="身份证号"),
        ),
        migrations.AlterField(
            model_name="realnameverification",
            name="id_number",
            field=shanqian.fields.EncryptedCharField(max_length=32, purpose="id_number", verbose_name="身份证号"),
        ),
        migrations.RunPython(encrypt_rows, decrypt_rows, elidable=False),
    ]
