"""The signing endpoints are described truthfully in /api/schema."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture(scope="module")
def schema(django_db_blocker):
    with django_db_blocker.unblock():
        response = APIClient().get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    return response.json()


def data_schema(schema, path, method, media="application/json"):
    ok = schema["paths"][path][method]["responses"]["200"]["content"][media]["schema"]
    assert set(ok["properties"]) == {"status", "msg", "data", "error_code"}
    data = ok["properties"]["data"]
    if "$ref" in data:
        data = schema["components"]["schemas"][data["$ref"].rsplit("/", 1)[1]]
    return data


@pytest.mark.parametrize(
    ("path", "method", "operation_id"),
    [
        ("/api/sign/contract", "get", "sign_contract_retrieve"),
        ("/api/sign", "post", "sign_create"),
        ("/api/sign/document", "get", "sign_document_retrieve"),
        ("/api/sign/cancel", "post", "sign_cancel_create"),
        ("/api/sign/history", "get", "sign_history_list"),
    ],
)
def test_every_signing_operation_is_named_and_needs_the_token(schema, path, method, operation_id):
    operation = schema["paths"][path][method]
    assert operation["operationId"] == operation_id
    assert operation["security"] == [{"sessionToken": []}]
    assert {"400", "401", "404", "409", "500"} <= set(operation["responses"])


def test_sign_request_and_response_shapes(schema):
    body = schema["paths"]["/api/sign"]["post"]["requestBody"]["content"]["application/json"]["schema"]
    request = schema["components"]["schemas"][body["$ref"].rsplit("/", 1)[1]]
    assert set(request["required"]) == {"sms_code", "signature"}
    assert set(data_schema(schema, "/api/sign", "post")["properties"]) == {"document_url", "sha256"}


def test_contract_response_lists_every_field(schema):
    fields = set(data_schema(schema, "/api/sign/contract", "get")["properties"])
    assert fields == {
        "application_id",
        "contract_name",
        "contract_body",
        "sign_year",
        "company",
        "work_pos",
        "entry_date",
        "salary",
        "file_url",
        "sha256",
        "status",
    }


def test_history_is_paginated_in_the_envelope(schema):
    data = data_schema(schema, "/api/sign/history", "get")
    assert set(data["properties"]) == {"list", "page", "pageSize", "total", "count"}
    names = [p["name"] for p in schema["paths"]["/api/sign/history"]["get"]["parameters"]]
    assert {"page", "page_size"} <= set(names)


def test_document_is_json_or_the_raw_pdf(schema):
    content = schema["paths"]["/api/sign/document"]["get"]["responses"]["200"]["content"]
    assert set(content) == {"application/json", "application/pdf"}
    assert content["application/pdf"]["schema"]["format"] == "binary"
    assert set(data_schema(schema, "/api/sign/document", "get")["properties"]) == {
        "document_url",
        "sha256",
        "signed_at",
        "size",
    }
