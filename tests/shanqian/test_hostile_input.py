"""
Hostile input across every endpoint and admin list never makes the server answer 5xx.

A sweep, on top of each endpoint's own bad-input tests and the schemathesis run: NUL bytes,
absurd numbers and sizes in query strings; bodies that are deeply nested, of the wrong JSON
type, of the wrong content type, or form keys that cannot nest. WeChat is unreachable here
(``responses`` registers nothing), so login may honestly answer 50200; nothing may answer 500.
"""

import json

import pytest
import responses
from django.test import Client

from tests.factories import AdminUserFactory, EmployeeFactory, HandlerFactory, SignApplicationFactory

pytestmark = pytest.mark.django_db

API_GET = [
    "/api/em_status",
    "/api/employee",
    "/api/dict/Edu_Type",
    "/api/regions",
    "/api/companies",
    "/api/work_pos",
    "/api/handlers",
    "/api/sign/contract",
    "/api/sign/history",
    "/api/sign/document",
    "/api/captcha",
]
API_WRITE = [
    "/api/weixin/login",
    "/api/verifycode",
    "/api/employee",
    "/api/image",
    "/api/realname",
    "/api/sign",
    "/api/sign/cancel",
]
HOSTILE_QUERIES = [
    {"parent_id": "\x00"},
    {"company_id": "\x00"},
    {"page": "\x00"},
    {"page": "-1"},
    {"page_size": "abc"},
    {"parent_id": "9" * 400},
    {"company_id": "1e9999"},
    {"page": "9" * 30},
    {"download": "\x00"},
]
FIELDS = ["code", "phone", "captcha_code", "sms_code", "signature", "real_name", "id_number", "reason", "company_id"]
HOSTILE_BODIES = [
    ("application/json", b'{"a":' * 5000 + b"1" + b"}" * 5000),
    ("application/json", b"[1,2,3]"),
    ("application/json", b"null"),
    ("application/json", b'"text"'),
    ("application/json", json.dumps({"employee_edu": [{}] * 500, "work_exp": "x" * 100_000}).encode()),
    ("application/json", json.dumps(dict.fromkeys(FIELDS, "\x00")).encode()),
    ("application/json", json.dumps({key: ["a"] for key in FIELDS}).encode()),
    ("application/json", json.dumps({key: {"x": 1} for key in [*FIELDS, "employee_edu"]}).encode()),
    ("application/x-www-form-urlencoded", b"employee_edu[99999999999999999999][school]=x"),
    ("application/x-www-form-urlencoded", b"a[b]=1&a[b][c]=2"),
    ("application/x-www-form-urlencoded", b"%ZZ=%ZZ&code=%00"),
    (
        "multipart/form-data; boundary=xyz",
        b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.png"\r\n\r\n\x89PNG\r\n--xyz--\r\n',
    ),
    ("multipart/form-data", b"garbage"),
    ("text/plain", b"hello"),
    ("application/json; charset=latin-1", b'{"code": "\xe9"}'),
]


@responses.activate
def test_hostile_requests_to_the_api_never_answer_500(user_api):
    EmployeeFactory(user=user_api.user)
    failures = []

    for path in API_GET:
        for query in HOSTILE_QUERIES:
            response = user_api.get(path, query)
            if response.status_code >= 500:
                failures.append(("GET", path, query, response.status_code))
    for path in API_WRITE:
        for content_type, body in HOSTILE_BODIES:
            for method in ("POST", "PUT"):
                response = user_api.generic(method, path, body, content_type=content_type)
                if response.status_code >= 500 and response.json()["status"] != 50200:
                    failures.append((method, path, content_type, body[:40], response.status_code))

    assert not failures, failures


ADMIN_LISTS = [
    "/admin/",
    "/admin/signing/signapplication/",
    "/admin/signing/signapplication/export/",
    "/admin/signing/signevent/",
    "/admin/signing/signeddocument/",
    "/admin/employees/employee/",
    "/admin/employees/realnameverification/",
    "/admin/employees/wechatuser/",
    "/admin/employees/sessiontoken/",
    "/admin/employees/upload/",
    "/admin/employees/smscode/",
    "/admin/contracts/company/",
    "/admin/contracts/contract/",
    "/admin/contracts/workposition/",
    "/admin/dictionaries/dictionary/",
    "/admin/dictionaries/region/",
    "/admin/shanqian/adminuser/",
    "/admin/shanqian/platform/",
]
ADMIN_QUERIES = [
    "?q=%00",
    "?q=" + "x" * 5000,
    "?status__exact=abc",
    "?apply_time__gte=garbage",
    "?o=999",
    "?company__id__exact=%00",
    "?p=-1",
    "?p=abc",
    "?q=11010519491231002X",
    "?q=13800000000",
    "?all=",
    "?status=%00",
    "?ad_user__id__exact=x",
]
ADMIN_OBJECT_PATHS = ["%00/change/", "99999999/change/", "abc/change/", "1/review/approve/", "%00/review/reject/"]


@pytest.mark.parametrize("role", ["superuser", "handler"])
def test_hostile_requests_to_the_back_office_never_answer_500(role):
    SignApplicationFactory.create_batch(3)
    client = Client()
    client.force_login(AdminUserFactory(is_superuser=True) if role == "superuser" else HandlerFactory())
    failures = []

    for url in ADMIN_LISTS:
        for query in ADMIN_QUERIES:
            if client.get(url + query).status_code >= 500:
                failures.append(url + query[:40])
        for suffix in ADMIN_OBJECT_PATHS:
            if url != "/admin/" and client.get(url + suffix).status_code >= 500:
                failures.append(url + suffix)

    assert not failures, failures
