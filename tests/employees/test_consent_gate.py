"""
The consent gate (SPEC §13, PIPL art. 29): ``POST /api/image``, ``POST``/``PUT /api/employee`` and
``POST /api/realname`` take sensitive personal information only with the current ``sensitive_pi``
consent — 403, status 40302, "请先阅读并同意《个人信息处理规则》" — and write nothing without it.
"""

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from rest_framework.test import APIClient

from employees.models import Consent, Employee, RealnameVerification, Upload, VerifyStatus
from employees.tokens import issue_token
from signing.models import SignApplication
from tests.envelope import assert_error, assert_ok
from tests.factories import (
    ConsentPolicyFactory,
    EmployeeFactory,
    SignApplicationFactory,
    UploadFactory,
    WechatUserFactory,
    give_consents,
    image_bytes,
    resume_payload,
)

GATE_MSG = "请先阅读并同意《个人信息处理规则》"


# Each builds its request first (uploads and SMS code of the payload), then returns the call.
def image(client, world):
    content = image_bytes("PNG")
    return lambda: client.post(
        "/api/image", {"file": SimpleUploadedFile("id.png", content, "image/png")}, format="multipart"
    )


def resume_create(client, world):
    payload = resume_payload(world, client.user)
    return lambda: client.post("/api/employee", payload, format="json")


def resume_replace(client, world):
    payload = resume_payload(world, client.user)
    return lambda: client.put("/api/employee", payload, format="json")


def realname(client, world):
    return lambda: client.post("/api/realname")


def _resume_of(user, world):
    photos = {"id_card_front": UploadFactory(owner=user), "id_card_back": UploadFactory(owner=user)}
    employee = EmployeeFactory(user=user, **photos)
    SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, work_pos=world.position.name)
    return employee


# What each endpoint needs besides consent: nothing, nothing, a resume to replace, a resume with photos.
ENDPOINTS = {
    "POST /api/image": (image, None),
    "POST /api/employee": (resume_create, None),
    "PUT /api/employee": (resume_replace, _resume_of),
    "POST /api/realname": (realname, _resume_of),
}


def client_of(user):
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=user.platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=user))
    client.user = user
    return client


def rows() -> dict:
    return {
        "uploads": Upload.objects.count(),
        "employees": list(Employee.objects.values_list("pk", "real_name", "phone")),
        "verifications": RealnameVerification.objects.count(),
        "applications": list(SignApplication.objects.values_list("pk", "status", "company_id")),
    }


def never_consented(user, client):
    Consent.objects.filter(user=user).delete()


def consented_to_an_outdated_version(user, client):
    give_consents(user)
    ConsentPolicyFactory(platform=user.platform, scope="sensitive_pi", version="2099.1")


def withdrew(user, client):
    give_consents(user)
    assert_ok(client.delete("/api/consents/sensitive_pi"))


def consented_to_the_privacy_policy_only(user, client):
    Consent.objects.filter(user=user, scope="sensitive_pi").delete()


@pytest.fixture
def person(platform, world):
    """A user who consented to the current policies, as every builder's user has."""
    return WechatUserFactory(platform=platform)


@pytest.mark.parametrize("endpoint", ENDPOINTS)
@pytest.mark.parametrize(
    "state", [never_consented, consented_to_an_outdated_version, withdrew, consented_to_the_privacy_policy_only]
)
def test_without_the_current_sensitive_consent_the_endpoint_is_40302_and_writes_nothing(endpoint, state, person, world):
    call, prepare = ENDPOINTS[endpoint]
    if prepare:
        prepare(person, world)
    client = client_of(person)
    state(person, client)
    send = call(client, world)
    before = rows()

    body = assert_error(send(), 403, 40302)

    assert body["msg"] == GATE_MSG
    assert body["data"] is None
    assert rows() == before
    person.refresh_from_db()
    assert person.verify_status == VerifyStatus.PENDING


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_with_the_current_consent_the_endpoint_does_its_work(endpoint, person, world):
    call, prepare = ENDPOINTS[endpoint]
    if prepare:
        prepare(person, world)
    client = client_of(person)
    send = call(client, world)
    before = rows()

    assert_ok(send())

    assert rows() != before


@pytest.mark.parametrize("endpoint", ENDPOINTS)
def test_consenting_again_to_the_new_version_opens_the_gate(endpoint, person, world):
    call, prepare = ENDPOINTS[endpoint]
    if prepare:
        prepare(person, world)
    client = client_of(person)
    consented_to_an_outdated_version(person, client)
    send = call(client, world)
    assert_error(send(), 403, 40302)

    assert_ok(client.post("/api/consents", {"scope": "sensitive_pi", "version": "2099.1"}, format="json"))

    assert_ok(send())


def test_withdrawal_stops_further_processing_but_reading_ones_own_data_stays(person, world):
    client = client_of(person)
    assert_ok(image(client, world)())
    assert_ok(resume_create(client, world)())
    refused = [call(client, world) for call in (image, resume_replace, realname)]
    stored = rows()

    assert_ok(client.delete("/api/consents/sensitive_pi"))

    for send in refused:
        assert_error(send(), 403, 40302)
    assert rows() == stored
    # The person keeps access to what is held (their right, not processing on our side).
    assert assert_ok(client.get("/api/employee"))["real_name"] == "张三"
    assert assert_ok(client.get("/api/em_status"))["status"] == 1


def test_anonymous_stays_401_before_the_gate(api, world):
    for response in (
        api.post("/api/image", {}, format="multipart"),
        api.post("/api/employee", {}, format="json"),
        api.put("/api/employee", {}, format="json"),
        api.post("/api/realname"),
    ):
        assert_error(response, 401, 40100)


def test_the_gate_costs_one_query(person, world, django_assert_num_queries):
    client = client_of(person)
    client.get("/api/consents")  # warms the platform cache
    never_consented(person, client)

    # The token with its user, then the gate's one look at the consent ledger.
    send = image(client, world)

    with django_assert_num_queries(2):
        assert_error(send(), 403, 40302)


@pytest.fixture
def schema(db):
    response = APIClient().get("/api/schema", {"format": "json"})
    assert response.status_code == 200
    return response.json()


@pytest.mark.parametrize(
    ("path", "method"),
    [("/api/image", "post"), ("/api/employee", "post"), ("/api/employee", "put"), ("/api/realname", "post")],
)
def test_the_schema_documents_40302_on_each_gated_operation(schema, path, method):
    forbidden = schema["paths"][path][method]["responses"]["403"]

    assert "40302" in forbidden["description"] and GATE_MSG in forbidden["description"]
    content = forbidden["content"]["application/json"]
    assert content["schema"] == {"$ref": "#/components/schemas/ErrorEnvelope"}
    (example,) = content["examples"].values()
    assert example["value"] == {"status": 40302, "msg": GATE_MSG, "data": None, "error_code": 40302}


def test_the_schema_does_not_claim_40302_on_reads(schema):
    assert "40302" not in schema["paths"]["/api/employee"]["get"]["responses"]["403"]["description"]
    assert "40302" in schema["info"]["description"]  # the error table lists it for everyone
