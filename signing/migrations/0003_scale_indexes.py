"""
Indexes for the back office's work queue at a million applications (bench/scale.py, docs/scale.md).

The changelist orders by ``signing.selectors.WORK_QUEUE_ORDERING`` (1 then 2 oldest first, then the
rest newest first); without an index on those very expressions PostgreSQL sorts the whole table
for the first page. ``sign_apply_work_queue`` serves the unfiltered list; ``sign_apply_status_queue``
(status first) serves the list filtered by status. PostgreSQL only: SQLite refuses NULLS LAST in
an index and MariaDB has no expression indexes; both keep sorting, which is fine at their scale.
The expressions are written out as Django renders the ORDER BY, so the planner matches them.
"""

from django.db import migrations

QUEUE = (
    '(CASE WHEN "status" = 1 THEN 0 WHEN "status" = 2 THEN 1 ELSE 2 END) ASC, '
    '(CASE WHEN "status" IN (1, 2) THEN "apply_time" ELSE NULL END) ASC NULLS LAST, '
    '"apply_time" DESC, "id" DESC'
)
INDEXES = {
    "sign_apply_work_queue": QUEUE,
    "sign_apply_status_queue": f'"status", {QUEUE}',
}


def create(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, columns in INDEXES.items():
        schema_editor.execute(f'CREATE INDEX IF NOT EXISTS "{name}" ON "sign_apply" ({columns})')


def drop(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in INDEXES:
        schema_editor.execute(f'DROP INDEX IF EXISTS "{name}"')


class Migration(migrations.Migration):
    dependencies = [
        ("signing", "0002_back_office_indexes"),
    ]

    operations = [migrations.RunPython(create, drop)]
