"""Reads for the mini-program's pickers: enabled companies and position names."""

from django.db.models import Min

from .models import Company, EnabledStatus, WorkPosition


def companies_enabled() -> list[dict]:
    return list(
        Company.objects.filter(status=EnabledStatus.ENABLED).order_by("sort", "id").values("id", "company_name")
    )


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
