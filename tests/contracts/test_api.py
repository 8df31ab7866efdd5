"""``GET /api/companies`` and ``GET /api/work_pos`` (SPEC §4.7, §4.9)."""

import pytest

from contracts.models import Company, EnabledStatus, WorkPosition
from tests.factories import CompanyFactory, WorkPositionFactory

from .conftest import assert_error

pytestmark = pytest.mark.django_db

DISABLED = EnabledStatus.DISABLED


# --- /api/companies ---------------------------------------------------------------------------


def test_companies_lists_enabled_companies_in_sort_order(user_api):
    second = CompanyFactory(company_name="乙公司", sort=2)
    first = CompanyFactory(company_name="甲公司", sort=1)
    CompanyFactory(company_name="停用公司", sort=0, status=DISABLED)
    third = CompanyFactory(company_name="丙公司", sort=2)

    response = user_api.get("/api/companies")

    assert response.status_code == 200
    assert response.json()["data"] == [
        {"id": first.id, "company_name": "甲公司"},
        {"id": second.id, "company_name": "乙公司"},
        {"id": third.id, "company_name": "丙公司"},
    ]


def test_companies_is_an_empty_list_when_there_are_none(user_api):
    assert user_api.get("/api/companies/").json()["data"] == []


def test_companies_needs_a_login(api):
    CompanyFactory()

    assert_error(api.get("/api/companies"), 401, 40100)


def test_companies_query_count_does_not_grow(user_api, django_assert_max_num_queries):
    Company.objects.bulk_create(Company(company_name=f"公司{n:03d}", sort=n) for n in range(200))

    with django_assert_max_num_queries(3):  # platform (cold cache), token, companies
        response = user_api.get("/api/companies")

    assert len(response.json()["data"]) == 200


# --- /api/work_pos ------------------------------------------------------------------------------


@pytest.fixture
def positions(db):
    acme = CompanyFactory(company_name="甲公司", sort=1)
    globex = CompanyFactory(company_name="乙公司", sort=2)
    closed = CompanyFactory(company_name="停业公司", status=DISABLED)
    WorkPositionFactory(company=acme, name="B岗位", sort=2)
    WorkPositionFactory(company=acme, name="A岗位", sort=1)
    WorkPositionFactory(company=acme, name="停招岗位", sort=0, status=DISABLED)
    WorkPositionFactory(company=globex, name="A岗位", sort=1)
    WorkPositionFactory(company=globex, name="C岗位", sort=3)
    WorkPositionFactory(company=closed, name="D岗位", sort=1)
    return {"acme": acme, "globex": globex, "closed": closed}


def test_work_pos_lists_distinct_enabled_names(user_api, positions):
    response = user_api.get("/api/work_pos")

    assert response.status_code == 200
    assert response.json()["data"] == ["A岗位", "B岗位", "C岗位"]


def test_work_pos_filters_by_company(user_api, positions):
    assert user_api.get(f"/api/work_pos?company_id={positions['acme'].id}").json()["data"] == ["A岗位", "B岗位"]
    assert user_api.get(f"/api/work_pos/?company_id={positions['globex'].id}").json()["data"] == ["A岗位", "C岗位"]


def test_empty_company_id_means_all_companies(user_api, positions):
    assert user_api.get("/api/work_pos?company_id=").json()["data"] == ["A岗位", "B岗位", "C岗位"]


def test_a_company_without_positions_gives_an_empty_list(user_api, positions):
    empty = CompanyFactory(company_name="新公司")

    assert user_api.get(f"/api/work_pos?company_id={empty.id}").json()["data"] == []


@pytest.mark.parametrize("company_id", ["abc", "0", "-1", "1.5", "99999999999999999999", "1e3", "%FF"])
def test_invalid_company_id_is_40000(user_api, positions, company_id):
    body = assert_error(user_api.get(f"/api/work_pos?company_id={company_id}"), 400, 40000)

    assert "company_id" in body["data"]["errors"]


def test_unknown_company_is_40400(user_api, positions):
    assert_error(user_api.get("/api/work_pos?company_id=987654"), 404, 40400)


def test_disabled_company_is_40400(user_api, positions):
    assert_error(user_api.get(f"/api/work_pos?company_id={positions['closed'].id}"), 404, 40400)


def test_work_pos_needs_a_login(api, positions):
    assert_error(api.get("/api/work_pos"), 401, 40100)


def test_work_pos_query_count_does_not_grow(user_api, django_assert_max_num_queries):
    companies = Company.objects.bulk_create(Company(company_name=f"公司{n:03d}", sort=n) for n in range(50))
    WorkPosition.objects.bulk_create(
        WorkPosition(company=company, name=f"岗位{(n * 7 + i) % 150:03d}", sort=i)
        for n, company in enumerate(companies)
        for i in range(10)
    )

    with django_assert_max_num_queries(3):  # platform (cold cache), token, names
        everything = user_api.get("/api/work_pos")
    with django_assert_max_num_queries(3):  # token, company check, names
        one = user_api.get(f"/api/work_pos?company_id={companies[0].id}")

    names = everything.json()["data"]
    assert len(names) == len(set(names)) == len(set(WorkPosition.objects.values_list("name", flat=True)))
    assert len(one.json()["data"]) == 10
