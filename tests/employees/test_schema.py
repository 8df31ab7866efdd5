"""The identity endpoints are described truthfully in /api/schema."""

import pytest
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    schema = response.json()
    return schema


def test_operations_and_public_headers(schema):
    paths = schema["paths"]
    login = paths["/api/weixin/login"]["post"]
    assert login["operationId"] == "weixin_login_create"
    assert "X-platform-code" in [p["name"] for p in login["parameters"]]
    assert login.get("security") in (None, [], [{}])
    assert paths["/api/verifycode"]["post"].get("security") in (None, [], [{}])
    image = paths["/api/image"]["post"]
    assert image["security"] == [{"sessionToken": []}]
    assert "multipart/form-data" in image["requestBody"]["content"]


def test_login_response_is_enveloped(schema):
    ok = schema["paths"]["/api/weixin/login"]["post"]["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(ok["properties"]) == {"status", "msg", "data", "error_code"}


def test_captcha_is_a_raw_png_not_an_envelope(schema):
    ok = schema["paths"]["/api/captcha"]["get"]["responses"]["200"]["content"]
    assert list(ok) == ["image/png"]
    assert ok["image/png"]["schema"]["format"] == "binary"
