"""The envelope, error codes, headers, parsers and pagination (SPEC §3)."""

import json
import logging
from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.exceptions import Throttled
from rest_framework.test import APIClient

from employees.models import SessionToken
from employees.tokens import issue_token, revoke_tokens
from shanqian.exceptions import exception_handler
from tests.envelope import assert_error
from tests.factories import CompanyFactory, PlatformFactory, WechatUserFactory

pytestmark = [pytest.mark.django_db, pytest.mark.urls("tests.shanqian.probe_urls")]


def test_success_is_wrapped_in_the_envelope(api):
    response = api.get("/api/echo")

    assert response.status_code == 200
    assert response.json() == {"status": 0, "msg": "", "data": {"ok": True, "platform": "demo"}, "error_code": 0}
    assert response["Cache-Control"] == "no-store"


def test_trailing_slash_is_accepted_without_redirect(api):
    response = api.get("/api/echo/")

    assert response.status_code == 200
    assert response.json()["data"]["ok"] is True


def test_missing_platform_header_is_40001(db):
    assert_error(APIClient().get("/api/echo"), 400, 40001)


@pytest.mark.parametrize("code", ["nope", "x" * 200, "../etc", "演示"])
def test_unknown_platform_is_40301(db, code):
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=code)
    assert_error(client.get("/api/echo"), 403, 40301)


def test_disabled_platform_is_40301(db):
    PlatformFactory(code="off", enabled=False)
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE="off")
    assert_error(client.get("/api/echo"), 403, 40301)


def test_unknown_api_path_is_40400_in_the_envelope(api):
    assert_error(api.get("/api/no/such/thing"), 404, 40400)


def test_wrong_method_is_40500(api):
    assert_error(api.delete("/api/echo"), 405, 40500)


def test_xml_body_is_41500(api):
    response = api.post("/api/echo", data="<a>1</a>", content_type="application/xml")
    assert_error(response, 415, 41500)


def test_malformed_json_is_40000(api):
    response = api.post("/api/echo", data='{"name": ', content_type="application/json")
    assert_error(response, 400, 40000)


def test_invalid_utf8_json_is_40000(api):
    response = api.post("/api/echo", data=b'{"name": "\xff\xfe"}', content_type="application/json")
    assert_error(response, 400, 40000)


def test_validation_errors_carry_field_paths_including_array_items(api):
    body = {"name": "", "items": [{"school": "ok", "year": 2001}, {"school": "x" * 9, "year": "abc"}]}

    response = api.post("/api/echo", data=body, format="json")

    errors = assert_error(response, 400, 40000)["data"]["errors"]
    assert "name" in errors
    assert errors["items"][0] == {}
    assert set(errors["items"][1]) == {"school", "year"}


def test_invalid_utf8_in_a_form_is_a_field_error(api):
    response = api.generic(
        "POST", "/api/echo", b"name=%FF%FE&items=[]", content_type="application/x-www-form-urlencoded"
    )

    errors = assert_error(response, 400, 40000)["data"]["errors"]
    assert errors["name"]


def test_form_arrays_in_bracket_notation(api):
    body = "name=张三&items[0][school]=北大&items[0][year]=2001&items[1][school]=清华&items[1][year]=2005"

    response = api.generic("POST", "/api/echo", body.encode(), content_type="application/x-www-form-urlencoded")

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["items"] == [{"school": "北大", "year": 2001}, {"school": "清华", "year": 2005}]


def test_form_arrays_as_a_json_string(api):
    items = json.dumps([{"school": "北大", "year": 2001}], ensure_ascii=False)

    response = api.post("/api/echo", {"name": "张三", "items": items})

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["items"] == [{"school": "北大", "year": 2001}]


def test_multipart_arrays_in_bracket_notation(api):
    response = api.post(
        "/api/echo", {"name": "张三", "items[0][school]": "北大", "items[0][year]": "2001"}, format="multipart"
    )

    assert response.status_code == 200, response.json()
    assert response.json()["data"]["items"] == [{"school": "北大", "year": 2001}]


def test_empty_optional_field_means_not_given(api):
    response = api.post("/api/echo", {"name": "张三", "nickname": "", "items": '[{"school": "a", "year": 1}]'})

    assert response.status_code == 200, response.json()
    assert "nickname" not in response.json()["data"]


def test_empty_array_is_refused(api):
    errors = assert_error(api.post("/api/echo", {"name": "张三", "items": "[]"}), 400, 40000)["data"]["errors"]
    assert "items" in errors


def test_bad_json_string_array_is_a_field_error(api):
    errors = assert_error(api.post("/api/echo", {"name": "张三", "items": "[{"}), 400, 40000)["data"]["errors"]
    assert "items" in errors


def test_conflicting_form_structure_is_40000(api):
    body = b"name=a&items=1&items[0][school]=x"
    response = api.generic("POST", "/api/echo", body, content_type="application/x-www-form-urlencoded")
    assert_error(response, 400, 40000)


def test_oversized_body_is_41300_before_it_is_read(api, settings):
    settings.API_MAX_BODY_BYTES = 100
    response = api.post("/api/echo", data={"name": "x" * 500}, format="json")
    assert_error(response, 413, 41300)


def test_too_large_form_is_41300(api, settings):
    settings.DATA_UPLOAD_MAX_MEMORY_SIZE = 100
    response = api.post("/api/echo", {"name": "x" * 500, "items": "[]"})
    assert_error(response, 413, 41300)


def test_unhandled_exception_is_50000_logged_and_not_leaked(api, caplog):
    with caplog.at_level(logging.ERROR, logger="shanqian.api"):
        response = api.get("/api/boom/unhandled")

    body = assert_error(response, 500, 50000)
    assert "hunter2" not in response.content.decode()
    assert "settings.py" not in response.content.decode()
    assert body["data"] is None
    assert any("RuntimeError" in (r.exc_text or "") for r in caplog.records)


@pytest.mark.parametrize(
    ("kind", "http_status", "status"),
    [
        ("http404", 404, 40400),
        ("denied", 403, 40300),
        ("django-validation", 400, 40000),
        ("conflict", 409, 40900),
        ("rate", 429, 42900),
        ("busy", 503, 50300),
    ],
)
def test_errors_map_to_the_table(api, kind, http_status, status):
    assert_error(api.get(f"/api/boom/{kind}"), http_status, status)


def test_domain_error_message_is_kept(api):
    assert assert_error(api.get("/api/boom/conflict"), 409, 40900)["msg"] == "简历已锁定"


def test_django_validation_error_has_field_errors(api):
    body = assert_error(api.get("/api/boom/django-validation"), 400, 40000)
    assert body["data"]["errors"] == {"phone": ["手机号格式不正确"]}


def test_throttled_is_42900_with_retry_after(api):
    api.get("/api/throttled")
    api.get("/api/throttled")

    response = api.get("/api/throttled")

    body = assert_error(response, 429, 42900)
    assert body["data"]["retry_after"] >= 1
    assert response["Retry-After"] == str(body["data"]["retry_after"])


def test_a_domain_rate_limit_carries_retry_after(api):
    response = api.get("/api/boom/rate")

    assert assert_error(response, 429, 42900)["data"] == {"retry_after": 42}
    assert response["Retry-After"] == "42"


def test_a_fractional_throttle_wait_is_at_least_one_second(api):
    response = exception_handler(Throttled(wait=0.3), {"view": None, "request": None})

    assert response.status_code == 429
    assert json.loads(response.content)["data"] == {"retry_after": 1}
    assert response["Retry-After"] == "1"


def test_errors_without_a_challenge_or_a_wait_carry_neither_header(api):
    for kind in ("http404", "denied", "conflict"):
        response = api.get(f"/api/boom/{kind}")
        assert not response.has_header("WWW-Authenticate"), kind
        assert not response.has_header("Retry-After"), kind


def test_pagination_shape(api, django_assert_max_num_queries):
    CompanyFactory.create_batch(23)

    with django_assert_max_num_queries(3):
        response = api.get("/api/paged", {"page": 3})

    data = response.json()["data"]
    assert data["page"] == 3
    assert data["pageSize"] == 10
    assert data["total"] == 3
    assert data["count"] == 23
    assert len(data["list"]) == 3


def test_pagination_accepts_the_pagesize_alias_and_caps_it(api):
    CompanyFactory.create_batch(5)

    assert api.get("/api/paged", {"pageSize": 2}).json()["data"]["pageSize"] == 2
    assert api.get("/api/paged", {"page_size": 1000}).json()["data"]["pageSize"] == 100


def test_page_out_of_range_is_40400(api):
    assert_error(api.get("/api/paged", {"page": 99}), 404, 40400)


class TestTokenAuthentication:
    def test_missing_token_is_40100(self, api):
        response = api.get("/api/whoami")
        assert_error(response, 401, 40100)
        # RFC 9110 §15.5.2: a 401 names its challenge (DRF's handler sets it; the envelope keeps it).
        assert response["WWW-Authenticate"] == "X-auth-token"

    def test_unknown_token_is_40100(self, api):
        api.credentials(HTTP_X_PLATFORM_CODE="demo", HTTP_X_AUTH_TOKEN="not-a-token")
        response = api.get("/api/whoami")
        assert_error(response, 401, 40100)
        assert response["WWW-Authenticate"] == "X-auth-token"

    def test_valid_token_authenticates(self, user_api):
        response = user_api.get("/api/whoami")
        assert response.json()["data"] == {"user_id": user_api.user.pk}

    def test_token_is_stored_only_as_a_digest(self, wechat_user):
        raw = issue_token(user=wechat_user)
        assert not SessionToken.objects.filter(digest=raw).exists()
        assert len(raw) >= 43  # 32 bytes, base64

    def test_revoked_token_is_40100(self, user_api):
        revoke_tokens(SessionToken.objects.filter(user=user_api.user))
        assert_error(user_api.get("/api/whoami"), 401, 40100)

    def test_expired_token_is_40100(self, user_api):
        SessionToken.objects.update(expires_at=timezone.now() - timedelta(seconds=1))
        assert_error(user_api.get("/api/whoami"), 401, 40100)

    def test_token_of_another_platform_is_40100(self, wechat_user):
        other = PlatformFactory(code="other")
        client = APIClient()
        client.credentials(HTTP_X_PLATFORM_CODE=other.code, HTTP_X_AUTH_TOKEN=issue_token(user=wechat_user))
        assert_error(client.get("/api/whoami"), 401, 40100)

    def test_token_works_only_for_its_own_user(self, platform):
        alice, bob = WechatUserFactory(platform=platform), WechatUserFactory(platform=platform)
        client = APIClient()
        client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=bob))
        assert client.get("/api/whoami").json()["data"]["user_id"] == bob.pk != alice.pk


def test_multipart_files_arrive_as_files_not_lists():
    from django.core.files.uploadedfile import SimpleUploadedFile
    from rest_framework.request import Request
    from rest_framework.test import APIRequestFactory

    from shanqian.parsers import FormParser, MultiPartParser

    raw = APIRequestFactory().post(
        "/api/x", {"name": "张三", "file": SimpleUploadedFile("a.png", b"png-bytes")}, format="multipart"
    )
    request = Request(raw, parsers=[MultiPartParser(), FormParser()])

    assert request.data["name"] == "张三"
    assert request.data["file"].read() == b"png-bytes"


def test_deeply_nested_json_is_40000_not_a_crash(api):
    body = '{"a":' * 5000 + "1" + "}" * 5000

    assert_error(api.post("/api/echo", data=body, content_type="application/json"), 400, 40000)
