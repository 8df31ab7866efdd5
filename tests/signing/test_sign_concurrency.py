"""
A double-tapped sign button over HTTP (SPEC §6): one transition, one sealed
document, one clean refusal, no orphan file. Real row locks are needed, so
these run on PostgreSQL and MariaDB only (each thread has its own connection).
"""

import pytest

from employees.models import SmsCode
from signing.models import SignApplication, SignedDocument, SignEvent, SignStatus
from tests.envelope import assert_ok
from tests.factories import logged_in_client, make_signer, sign_code, signature_url
from tests.support.race import SKIP_ON_SQLITE, race, slow_down
from tests.support.storage import sealed_files

pytestmark = [pytest.mark.django_db(transaction=True), SKIP_ON_SQLITE]


def envelope(result):
    kind, response = result
    assert kind == "ok", response
    return response.status_code, response.json()["status"]


def test_two_sign_requests_at_once_give_one_signature(world, platform, monkeypatch):
    signer = make_signer(world)
    assert_ok(signer.client.get("/api/sign/contract"))
    body = {"sms_code": sign_code(signer.employee.phone), "signature": signature_url(signer.user)}
    # Sealing holds the row lock for a while; the second tap arrives meanwhile and waits on it.
    slow_down(monkeypatch, "signing.services.contract_signing.seal_and_archive", 0.3)
    taps = [logged_in_client(signer.user), logged_in_client(signer.user)]

    results = race(*(lambda client=client: client.post("/api/sign", body, format="json") for client in taps))

    outcomes = sorted(envelope(result) for result in results)
    assert outcomes[0] == (200, 0)
    assert outcomes[1] in {(409, 40900), (422, 42201)}
    assert SignApplication.objects.get(pk=signer.application.pk).status == SignStatus.SIGNED
    assert SignedDocument.objects.count() == 1
    assert SignEvent.objects.filter(to_status=SignStatus.SIGNED).count() == 1
    assert len(sealed_files()) == 1
    assert SmsCode.objects.filter(used_at__isnull=False).count() == 1


def test_sign_racing_cancel_one_wins_and_nothing_is_left_over(world, platform, monkeypatch):
    signer = make_signer(world)
    assert_ok(signer.client.get("/api/sign/contract"))
    body = {"sms_code": sign_code(signer.employee.phone), "signature": signature_url(signer.user)}
    slow_down(monkeypatch, "signing.services.contract_signing.seal_and_archive", 0.3)
    signing_client, cancelling_client = logged_in_client(signer.user), logged_in_client(signer.user)

    results = race(
        lambda: signing_client.post("/api/sign", body, format="json"),
        lambda: cancelling_client.post("/api/sign/cancel", {"reason": "不签了"}, format="json"),
    )

    outcomes = [envelope(result) for result in results]
    assert sorted(outcomes) == [(200, 0), (409, 40900)]
    status = SignApplication.objects.get(pk=signer.application.pk).status
    if outcomes[0] == (200, 0):
        assert status == SignStatus.SIGNED and len(sealed_files()) == 1 and SignedDocument.objects.count() == 1
    else:
        assert status == SignStatus.CANCELLED and sealed_files() == [] and SignedDocument.objects.count() == 0
        assert SmsCode.objects.filter(used_at__isnull=False).count() == 0
