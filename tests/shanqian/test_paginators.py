"""EstimatedCountPaginator: estimates only unfiltered PostgreSQL tables, caps other counts."""

import pytest
from django.db import connection

from shanqian import paginators
from shanqian.paginators import EstimatedCountPaginator
from signing.models import SignApplication, SignStatus
from tests.factories import SignApplicationFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def applications(world):
    SignApplicationFactory.create_batch(7, company=world.company, ad_user=world.handler)
    first_three = list(SignApplication.objects.order_by("id").values_list("id", flat=True)[:3])
    SignApplication.objects.filter(pk__in=first_three).update(status=SignStatus.SIGNED)


@pytest.fixture
def world(db):
    from tests.factories import make_world

    return make_world()


def test_small_tables_and_filters_are_counted_exactly(applications):
    assert EstimatedCountPaginator(SignApplication.objects.order_by("id"), 2).count == 7
    assert EstimatedCountPaginator(SignApplication.objects.filter(status=SignStatus.SIGNED), 2).count == 3


def test_filtered_count_stops_at_the_cap(applications, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "count_cap", 5)

    paginator = EstimatedCountPaginator(SignApplication.objects.filter(status__gte=1), 2)

    assert paginator.count == 5
    assert paginator.num_pages == 3


def test_lists_are_counted_as_lists():
    assert EstimatedCountPaginator(list(range(12)), 5).num_pages == 3


@pytest.mark.skipif(connection.vendor != "postgresql", reason="reltuples is PostgreSQL's")
def test_unfiltered_large_table_uses_the_planner_estimate(applications, monkeypatch):
    monkeypatch.setattr(EstimatedCountPaginator, "estimate_above", 1)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE sign_apply")

    estimate = paginators._reltuples(SignApplication.objects.all())
    paginator = EstimatedCountPaginator(SignApplication.objects.order_by("-id"), 2)

    assert estimate is not None
    assert paginator.count == estimate
    # A filter turns the estimate off.
    assert EstimatedCountPaginator(SignApplication.objects.filter(status=SignStatus.SIGNED), 2).count == 3


def test_capped_counts_counts_each_queryset_up_to_the_cap_in_one_query(applications, django_assert_num_queries):
    rows = SignApplication.objects.all()
    with django_assert_num_queries(1):
        counts = paginators.capped_counts(
            {
                "all": rows,
                "signed": rows.filter(status=SignStatus.SIGNED),
                "none": rows.filter(status=SignStatus.CANCELLED),
                "all_capped": rows.order_by("-id"),
            },
            cap=5,
        )

    assert counts == {"all": 5, "signed": 3, "none": 0, "all_capped": 5}
    assert paginators.capped_counts({"all": rows}, cap=100) == {"all": 7}
    assert paginators.capped_counts({}) == {}
