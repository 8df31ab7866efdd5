"""
Reads for the mini-program's pickers: enabled companies and position names.

The company list is read on every resume form, so it is kept in the shared cache
(``COMPANIES_CACHE_TTL``); saving or deleting a company clears it after commit
(``contracts.signals``), and the short TTL bounds what a bulk ``update()`` leaves stale. When the shared cache is
unreachable the list is read from the database.
"""

import contextlib

from django.core.cache import cache
from django.db.models import Min

from shanqian.cache import CacheUnavailable

from .models import Company, EnabledStatus, WorkPosition

COMPANIES_CACHE_KEY = "contracts:companies_enabled"
COMPANIES_CACHE_TTL = 60


def _companies_rows() -> list[dict]:
    return list(
        Company.objects.filter(status=EnabledStatus.ENABLED).order_by("sort", "id").values("id", "company_name")
    )


def companies_enabled() -> list[dict]:
    try:
        companies = cache.get(COMPANIES_CACHE_KEY)
    except CacheUnavailable:
        return _companies_rows()
    if companies is None:
        companies = _companies_rows()
        with contextlib.suppress(CacheUnavailable):
            cache.set(COMPANIES_CACHE_KEY, companies, COMPANIES_CACHE_TTL)
    return companies


def companies_cache_clear() -> None:
    cache.delete(COMPANIES_CACHE_KEY)


def company_enabled_exists(company_id: int) -> bool:
    return Company.objects.filter(id=company_id, status=EnabledStatus.ENABLED).exists()


def work_pos_names(*, company_id: int | None = None) -> list[str]:
    """Distinct names of enabled positions of enabled companies, each placed where it first appears."""
    positions = WorkPosition.objects.filter(status=EnabledStatus.ENABLED, company__status=EnabledStatus.ENABLED)
    if company_id is not None:
        positions = positions.filter(company_id=company_id)
    rows = (
        positions.values("name")
        .annotate(first_sort=Min("sort"), first_id=Min("id"))
        .order_by("first_sort", "first_id", "name")
    )
    return [row["name"] for row in rows]
