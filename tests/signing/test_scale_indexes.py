"""The work-queue indexes (migration 0003) match the back office's ORDER BY on PostgreSQL."""

import pytest
from django.db import connection

from signing.models import SignApplication
from signing.selectors import WORK_QUEUE_ORDERING
from tests.factories import SignApplicationFactory

pytestmark = [
    pytest.mark.django_db,
    pytest.mark.skipif(connection.vendor != "postgresql", reason="the work-queue indexes are PostgreSQL-only"),
]


def _plan(queryset) -> str:
    sql, params = queryset.query.sql_with_params()
    with connection.cursor() as cursor:
        # Tiny test tables favour a sort; forbid it so only a matching index can serve the order.
        cursor.execute("SET LOCAL enable_sort = off")
        cursor.execute("SET LOCAL enable_seqscan = off")
        cursor.execute(f"EXPLAIN {sql}", params)
        return "\n".join(row[0] for row in cursor.fetchall())


def test_first_page_in_work_queue_order_reads_the_index():
    SignApplicationFactory.create_batch(3)

    plan = _plan(SignApplication.objects.order_by(*WORK_QUEUE_ORDERING)[:50])

    assert "sign_apply_work_queue" in plan, plan


def test_status_filtered_page_reads_the_status_index():
    SignApplicationFactory.create_batch(3)

    plan = _plan(SignApplication.objects.filter(status=1).order_by(*WORK_QUEUE_ORDERING)[:50])

    assert "sign_apply_status_queue" in plan, plan
