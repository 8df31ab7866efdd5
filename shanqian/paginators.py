"""
A paginator for admin changelists that does not count a million rows on every page.

``EstimatedCountPaginator`` (use with ``show_full_result_count = False``):

* unfiltered queryset on PostgreSQL → the planner's row estimate (``pg_class.reltuples``,
  kept fresh by autovacuum's ANALYZE) once the table is larger than ``ESTIMATE_ABOVE``;
  small tables and never-analyzed ones (``reltuples`` < 0) are counted exactly;
* filtered queryset, or another database → an exact count, but of at most
  ``COUNT_CAP`` rows (``SELECT count(*) FROM (… LIMIT cap)``); beyond that the count
  stops at the cap, so the last reachable page is page ``COUNT_CAP / per_page``.

The estimate can be off by a few percent, so the last page may come out short or empty;
Django's paginator answers a page past the end with its normal "invalid page" handling.

``capped_counts({name: queryset, …}, cap=COUNT_CAP)`` — a start page's figures: each queryset's
row count, counted up to ``cap`` (``SELECT count(*) FROM (… LIMIT cap)``), all in **one** query. A
count equal to the cap means "at least that many" (shown as "100000+"): the figure never scans more
than ``cap`` index entries, whatever the table's size.
"""

from collections.abc import Mapping

from django.core.paginator import Paginator
from django.db import connections
from django.db.models import QuerySet
from django.utils.functional import cached_property

ESTIMATE_ABOVE = 100_000
COUNT_CAP = 100_000


def _reltuples(queryset: QuerySet) -> int | None:
    connection = connections[queryset.db]
    if connection.vendor != "postgresql":
        return None
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT reltuples FROM pg_class WHERE oid = to_regclass(%s)",
            [connection.ops.quote_name(queryset.model._meta.db_table)],
        )
        row = cursor.fetchone()
    return int(row[0]) if row and row[0] is not None and row[0] >= 0 else None


def _unfiltered(queryset: QuerySet) -> bool:
    query = queryset.query
    return not query.where and not query.distinct and query.low_mark == 0 and query.high_mark is None


class EstimatedCountPaginator(Paginator):
    estimate_above = ESTIMATE_ABOVE
    count_cap = COUNT_CAP

    @cached_property
    def count(self) -> int:
        object_list = self.object_list
        if not isinstance(object_list, QuerySet):
            return super().count
        if _unfiltered(object_list):
            estimate = _reltuples(object_list)
            if estimate is not None and estimate > self.estimate_above:
                return estimate
        # Slicing keeps Django's count() a subquery with a LIMIT: counting stops at the cap.
        return object_list.order_by()[: self.count_cap].count()


def capped_counts(querysets: Mapping[str, QuerySet], *, cap: int = COUNT_CAP) -> dict[str, int]:
    """Each queryset's count up to ``cap``, in one query (see the module docstring)."""
    if not querysets:
        return {}
    db = next(iter(querysets.values())).db
    connection = connections[db]
    parts, params = [], []
    for n, queryset in enumerate(querysets.values()):
        sql, inner = queryset.order_by().values("pk")[:cap].query.sql_with_params()
        # The SQL is the ORM's own compilation with its parameters kept apart: nothing user-typed in it.
        parts.append(f"(SELECT COUNT(*) FROM ({sql}) {connection.ops.quote_name(f'c{n}')})")  # noqa: S608
        params.extend(inner)
    with connection.cursor() as cursor:
        cursor.execute("SELECT " + ", ".join(parts), params)
        row = cursor.fetchone()
    return {name: int(value) for name, value in zip(querysets, row, strict=True)}
