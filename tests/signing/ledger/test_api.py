"""GET /api/contracts and /api/contracts/{id}: the worker's own records, paginated, N+1 free, documented."""

import datetime

import pytest
from django.test import Client

from signing.ledger.models import ContractStatus, EndGround, TermType
from tests.factories import (
    EmployeeFactory,
    EmploymentContractFactory,
    SignApplicationFactory,
    SignedDocumentFactory,
    logged_in_client,
)

pytestmark = pytest.mark.django_db


@pytest.fixture
def worker(platform, wechat_user):
    return EmployeeFactory(user=wechat_user, real_name="李小雷")


def contract_of(employee, **kwargs):
    application = SignApplicationFactory(em=employee, status=3)
    return EmploymentContractFactory(application=application, **kwargs)


def test_lists_only_the_users_contracts_newest_first(user_api, worker):
    older = contract_of(worker, start_date=datetime.date(2023, 1, 1), end_date=datetime.date(2025, 12, 31))
    newer = contract_of(
        worker,
        start_date=datetime.date(2026, 1, 1),
        end_date=None,
        term_type=TermType.OPEN_ENDED,
        previous=older,
    )
    EmploymentContractFactory()  # somebody else's

    body = user_api.get("/api/contracts").json()

    assert body["status"] == 0
    data = body["data"]
    assert [row["id"] for row in data["list"]] == [newer.pk, older.pk]
    assert data["count"] == 2 and data["total"] == 1 and data["page"] == 1 and data["pageSize"] == 10
    first = data["list"][0]
    assert first["status"] == ContractStatus.ACTIVE and first["status_label"] == "生效中"
    assert first["term_type"] == "open_ended" and first["end_date"] is None
    assert first["renewed_from"] == older.pk
    assert first["company"] == {"id": newer.company_id, "company_name": newer.company.company_name}
    assert first["document_url"] == "" and first["proof_url"] == ""


def test_links_to_the_signed_document_and_the_proof_of_ending(user_api, worker):
    application = SignApplicationFactory(em=worker, status=3)
    document = SignedDocumentFactory(application=application)
    contract = EmploymentContractFactory(
        application=application,
        document=document,
        status=ContractStatus.DISSOLVED,
        ended_on=datetime.date(2026, 6, 30),
        end_ground=EndGround.MUTUAL,
        proof_file="ledger/proofs/x.pdf",
        proof_sha256="a" * 64,
    )

    row = user_api.get(f"/api/contracts/{contract.pk}").json()["data"]

    assert row["document_url"].startswith("http://testserver/files/")
    assert row["document_sha256"] == document.sha256
    assert row["proof_url"] and row["proof_sha256"] == "a" * 64
    assert row["ended_on"] == "2026-06-30" and row["end_ground"] == "art36"
    assert row["end_ground_label"].startswith("协商一致解除")


def test_someone_elses_contract_is_not_found(user_api, worker):
    theirs = EmploymentContractFactory()

    response = user_api.get(f"/api/contracts/{theirs.pk}")

    assert response.status_code == 404
    assert response.json()["status"] == 40400


@pytest.mark.parametrize("path", ["/api/contracts", "/api/contracts/1"])
def test_requires_a_login(api, path):
    response = api.get(path)

    assert response.status_code == 401 and response.json()["status"] == 40100


def test_pages_as_spec_section_3_says(user_api, worker):
    for year in range(2000, 2025):
        contract_of(worker, start_date=datetime.date(year, 1, 1), end_date=datetime.date(year, 12, 31))

    data = user_api.get("/api/contracts", {"pageSize": 10, "page": 3}).json()["data"]

    assert data["count"] == 25 and data["total"] == 3 and data["pageSize"] == 10
    assert [row["start_date"][:4] for row in data["list"]] == ["2004", "2003", "2002", "2001", "2000"]
    assert user_api.get("/api/contracts", {"page_size": 500}).json()["data"]["pageSize"] == 100


def test_query_count_does_not_grow_with_the_page(user_api, worker, django_assert_max_num_queries):
    for year in range(2000, 2030):
        application = SignApplicationFactory(em=worker, status=3)
        EmploymentContractFactory(
            application=application,
            document=SignedDocumentFactory(application=application),
            start_date=datetime.date(year, 1, 1),
            end_date=datetime.date(year, 12, 31),
        )

    with django_assert_max_num_queries(4):  # token (cached or not), platform, count, page
        body = user_api.get("/api/contracts", {"page_size": 30}).json()

    assert len(body["data"]["list"]) == 30


def test_detail_is_one_query_after_authentication(user_api, worker, django_assert_max_num_queries):
    contract = contract_of(worker)

    with django_assert_max_num_queries(3):
        assert user_api.get(f"/api/contracts/{contract.pk}").json()["data"]["id"] == contract.pk


def test_documented_in_the_openapi_schema(db):
    schema = Client().get("/api/schema", {"format": "json"}).json()

    assert "get" in schema["paths"]["/api/contracts"]
    detail = next(path for path in schema["paths"] if path.startswith("/api/contracts/"))
    operation = schema["paths"][detail]["get"]
    assert operation["operationId"] == "contracts_retrieve"
    assert operation["security"] == [{"sessionToken": []}]
    assert "contract_id" in {p["name"] for p in operation["parameters"] if p["in"] == "path"}
    listed = schema["paths"]["/api/contracts"]["get"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert listed["properties"]["data"] == {"$ref": "#/components/schemas/PaginatedContractList"}


def test_renders_for_a_worker_of_another_platform_only_their_own(worker):
    other = EmploymentContractFactory()
    client = logged_in_client(other.employee.user, platform_code=other.employee.user.platform.code)

    ids = [row["id"] for row in client.get("/api/contracts").json()["data"]["list"]]

    assert ids == [other.pk]
