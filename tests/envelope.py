"""Assertions on SPEC §3's envelope, shared by every API test."""


def assert_error(response, http_status: int, status: int) -> dict:
    """The response is an error envelope with this HTTP status and status code; returns the body."""
    body = response.json()
    assert response.status_code == http_status, body
    assert body["status"] == status, body
    assert body["error_code"] == status
    assert isinstance(body["msg"], str) and body["msg"]
    assert set(body) == {"status", "msg", "data", "error_code"}
    return body


def assert_ok(response) -> dict:
    """The response is a success envelope; returns its ``data``."""
    body = response.json()
    assert response.status_code == 200, body
    assert body["status"] == 0, body
    assert body["error_code"] == 0
    return body["data"]
