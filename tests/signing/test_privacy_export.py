"""
``GET /api/me/export`` (SPEC §13, PIPL art. 45): everything held about the logged-in person, and
nothing about anybody else, in a fixed number of queries; in the schema; nothing personal logged.
"""

import datetime
import json
import logging

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from employees.consent import consent_withdraw
from employees.models import SessionToken
from signing.models import SignEvent, SignStatus
from signing.notifications.models import SubscribeAcceptance
from signing.privacy.services import deletion_request_create
from tests.envelope import assert_error, assert_ok
from tests.factories import (
    CLIENT,
    EmploymentContractFactory,
    SignApplicationFactory,
    SignedDocumentFactory,
    WechatUserFactory,
    logged_in_client,
    make_person,
)

URL = "/api/me/export"


def person(world, *, name, phone, applications=3, events=4, contact=("张父", "13900139000")):
    """``make_person`` plus a session, a subscription, ``applications`` × ``events`` and a contract."""
    user, employee = make_person(world, name=name, phone=phone, contact=contact, verified_by=world.handler)
    SessionToken.objects.create(
        user=user,
        digest=f"{phone:0>64}"[:64],
        expires_at=timezone.now() + datetime.timedelta(days=1),
        ip="198.51.100.8",
    )
    SubscribeAcceptance.objects.create(user=user, template_id=f"tmpl-{phone}")
    apps = []
    for i in range(applications):
        status = SignStatus.SIGNED if i == 0 else SignStatus.REJECTED
        application = SignApplicationFactory(
            em=employee, company=world.company, ad_user=world.handler, work_pos=f"岗位{i}", status=status
        )
        for j in range(events):
            SignEvent.objects.create(
                application=application,
                kind=SignEvent.Kind.NOTE,
                note=f"{name} 事件 {j}",
                actor_user=user if j % 2 == 0 else None,
                actor_staff=None if j % 2 == 0 else world.handler,
                ip="203.0.113.50" if j % 2 == 0 else "10.9.9.9",
                user_agent="MiniProgram/8.0" if j % 2 == 0 else "Staff-Browser",
                city="杭州",
            )
        apps.append(application)
    document = SignedDocumentFactory(application=apps[0])
    EmploymentContractFactory(application=apps[0], document=document)
    return user, employee


@pytest.fixture
def alice(world):
    return person(world, name="王小丽", phone="13811112222")


@pytest.fixture
def bob(world):
    return person(world, name="赵大勇", phone="13933334444", contact=("赵母", "13755556666"))


def test_the_export_holds_the_persons_data(alice, world):
    user, employee = alice
    consent_withdraw(user=user, scope="privacy_policy", client=CLIENT)
    deletion_request_create(user=user, reason="不再求职", client=CLIENT)

    data = assert_ok(logged_in_client(user).get(URL))

    assert data["user"]["openid"] == user.openid and data["user"]["unionid"] == user.unionid
    resume = data["resume"]
    assert (resume["real_name"], resume["phone"], resume["id_number"]) == ("王小丽", "13811112222", employee.id_number)
    assert (resume["em_contact_name"], resume["em_contact_phone"]) == ("张父", "13900139000")
    assert resume["employee_edu"][0]["school"] == "王小丽的大学"
    assert resume["work_exp"][0]["company_name"] == "王小丽的前单位"
    assert resume["id_card_front"].startswith("http://testserver/files/")
    assert len(data["uploads"]) == 2 and all(u["url"].startswith("http://testserver/files/") for u in data["uploads"])
    (verification,) = data["realname_verifications"]
    assert verification["id_number"] == employee.id_number and verification["ip"] == "198.51.100.7"
    consents = {(c["scope"], c["withdrawn_at"] is None) for c in data["consents"]}
    assert consents == {("privacy_policy", False), ("sensitive_pi", True)}
    assert len(data["applications"]) == 3
    signed = next(a for a in data["applications"] if a["status"] == SignStatus.SIGNED)
    assert signed["signed_document"]["url"].startswith("http://testserver/files/")
    assert len(signed["events"]) == 4
    own, staff = signed["events"][0], signed["events"][1]
    assert (own["actor"], own["ip"], own["user_agent"]) == ("员工本人", "203.0.113.50", "MiniProgram/8.0")
    # A staff member's IP and browser are the staff member's data, not the person's.
    assert staff["actor"] == "后台：李专员" and "ip" not in staff and "user_agent" not in staff
    (contract,) = data["contracts"]
    assert contract["document_url"].startswith("http://testserver/files/")
    # The session made above and the one this client logged in with; never a token or its digest.
    assert data["sessions"][0]["ip"] == "198.51.100.8" and len(data["sessions"]) == 2
    assert all(set(s) == {"created_at", "expires_at", "revoked_at", "ip", "user_agent"} for s in data["sessions"])
    assert data["subscriptions"][0]["template_id"] == "tmpl-13811112222"
    assert data["deletion_requests"][0]["reason"] == "不再求职"


def test_the_export_is_exactly_the_persons_data_and_nobody_elses(alice, bob):
    alice_data = assert_ok(logged_in_client(alice[0]).get(URL))
    bob_data = assert_ok(logged_in_client(bob[0]).get(URL))

    alice_text = json.dumps(alice_data, ensure_ascii=False)
    bob_text = json.dumps(bob_data, ensure_ascii=False)
    for value in ("赵大勇", "13933334444", bob[1].id_number, "赵母", "13755556666", bob[0].openid, "tmpl-13933334444"):
        assert value not in alice_text
        assert value in bob_text
    for value in ("王小丽", "13811112222", alice[1].id_number, alice[0].openid):
        assert value not in bob_text
    ids = {
        "applications": {a["id"] for a in alice_data["applications"]},
        "uploads": {u["id"] for u in alice_data["uploads"]},
        "verifications": {v["id"] for v in alice_data["realname_verifications"]},
    }
    assert ids["applications"] == set(alice[1].applications.values_list("pk", flat=True))
    assert ids["uploads"] == set(alice[0].uploads.values_list("pk", flat=True))
    assert ids["verifications"] == set(alice[0].verifications.values_list("pk", flat=True))


def test_a_person_with_nothing_but_an_account_gets_empty_parts(platform):
    user = WechatUserFactory(platform=platform)

    data = assert_ok(logged_in_client(user).get(URL))

    assert data["resume"] is None
    assert data["applications"] == data["contracts"] == data["uploads"] == data["realname_verifications"] == []
    assert {c["scope"] for c in data["consents"]} == {"privacy_policy", "sensitive_pi"}


@pytest.mark.parametrize("applications", [1, 6])
def test_the_query_count_does_not_grow_with_applications_and_events(world, applications, django_assert_num_queries):
    user, _ = person(world, name="钱多多", phone="13612345678", applications=applications, events=5)
    client = logged_in_client(user)
    client.get("/api/consents")  # warms the platform cache, as any earlier request would

    # token+user, platform, resume + its two row kinds + the latest application's picks, uploads,
    # consents, verifications, applications + their events, contracts, sessions, subscriptions,
    # deletion requests
    with django_assert_num_queries(15):
        data = assert_ok(client.get(URL))

    assert len(data["applications"]) == applications
    assert sum(len(a["events"]) for a in data["applications"]) == applications * 5


def test_anonymous_is_401(api):
    assert_error(api.get(URL), 401, 40100)


def test_the_export_needs_no_consent(alice):
    user, _ = alice
    consent_withdraw(user=user, scope="sensitive_pi")

    assert assert_ok(logged_in_client(user).get(URL))["resume"]["real_name"] == "王小丽"


def test_nothing_personal_is_logged(alice, caplog):
    user, employee = alice
    client = logged_in_client(user)

    with caplog.at_level(logging.DEBUG):
        response = client.get(URL)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "personal data export: user" in logged
    for value in ("王小丽", "13811112222", employee.id_number, user.openid, "张父", "13900139000"):
        assert value not in logged


def test_the_schema_documents_the_export(db):
    schema = APIClient().get("/api/schema", {"format": "json"}).json()

    operation = schema["paths"]["/api/me/export"]["get"]
    assert operation["operationId"] == "me_export"
    body = operation["responses"]["200"]["content"]["application/json"]["schema"]
    assert set(body["properties"]["data"]["properties"]) >= {
        "user",
        "resume",
        "uploads",
        "consents",
        "realname_verifications",
        "applications",
        "contracts",
        "deletion_requests",
    }
