"""
终止/解除 (SPEC §12): the end date and the legal ground, the proof of ending (art. 50) signed by
the employer like contracts are — it verifies with verify_document and pdfsig —, the worker
notified, the record and the worker API updated; bad input refused with nothing changed.
"""

import datetime
import io

import pytest
from django.core.files.storage import default_storage
from django.utils import timezone
from pypdf import PdfReader

from shanqian.errors import InvalidInput
from shanqian.models import OutboxMessage
from signing.errors import TransitionNotAllowed
from signing.ledger import services
from signing.ledger.models import ContractStatus, EmploymentContract, EndGround, TermType
from signing.pki.company import company_certificate_issue
from signing.sealing.verification import verify_document
from tests.factories import logged_in_client, make_contract
from tests.signing.pki.conftest import pki  # noqa: F401  (fixture; pki_settings is autouse)
from tests.signing.pki.helpers import nss_database, pdfsig, root_der

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()


@pytest.fixture(autouse=True)
def _sms(settings):
    settings.SMS_BACKEND = "file"
    settings.NOTIFY_SMS_FALLBACK = True


@pytest.fixture
def record(pki, handler, company):  # noqa: F811
    company_certificate_issue(company=company)
    return make_contract(
        handler=handler,
        company=company,
        name="张三",
        start_date=TODAY - datetime.timedelta(days=400),
        end_date=TODAY + datetime.timedelta(days=695),
    )


def state(record):
    row = EmploymentContract.objects.filter(pk=record.pk).values().get()
    return {**row, "outbox": OutboxMessage.objects.count()}


def test_dissolving_by_agreement_issues_a_signed_proof_and_tells_the_worker(record, handler, tmp_path):
    ended = services.contract_end(
        contract=record, staff=handler, ground=EndGround.MUTUAL, ended_on=TODAY, note="双方协商一致"
    )

    assert ended.status == ContractStatus.DISSOLVED
    assert ended.ended_on == TODAY and ended.end_ground == "art36" and ended.ended_by == handler
    pdf = default_storage.open(ended.proof_file.name).read()
    text = "".join(page.extract_text() for page in PdfReader(io.BytesIO(pdf)).pages)
    for expected in ("解除（终止）劳动合同证明书", "张三", record.employee.id_number, "协商一致解除", "1 年 1 个月"):
        assert expected in text.replace("\n", ""), expected

    assert b"/Image" in pdf  # the company seal is drawn on it

    report = verify_document(pdf)
    assert report.ok, report.message
    assert report.document_kind == "proof" and report.application_id == record.application_id
    assert "解除（终止）劳动合同证明书" in report.message
    signatures, raw = pdfsig(pdf, tmp_path, nssdir=nss_database(tmp_path / "nss", trust_root=root_der()))
    employer = signatures[0]
    assert employer["Signature Validation"] == "Signature is Valid.", raw

    kinds = [(m.channel, m.payload.get("kind")) for m in OutboxMessage.objects.order_by("id")]
    assert ("worker.sms", "contract_ended") in kinds


def test_the_worker_api_shows_the_ending_and_links_the_proof(record, handler):
    services.contract_end(contract=record, staff=handler, ground=EndGround.WORKER_NOTICE, ended_on=TODAY)
    client = logged_in_client(record.employee.user, platform_code=record.employee.user.platform.code)

    row = client.get(f"/api/contracts/{record.pk}").json()["data"]

    assert row["status"] == ContractStatus.DISSOLVED and row["ended_on"] == TODAY.isoformat()
    assert row["proof_url"] and len(row["proof_sha256"]) == 64


def test_expiry_terminates_on_the_terms_end(record, handler):
    ended = services.contract_end(contract=record, staff=handler, ground=EndGround.EXPIRY)

    assert ended.status == ContractStatus.TERMINATED and ended.ended_on == record.end_date


@pytest.mark.parametrize(
    ("kwargs", "field"),
    [
        (
            {"ground": EndGround.MUTUAL, "ended_on": TODAY - datetime.timedelta(days=401)},
            "ended_on",
        ),  # before the start
        ({"ground": EndGround.MUTUAL, "ended_on": TODAY + datetime.timedelta(days=696)}, "ended_on"),  # after the term
        ({"ground": EndGround.EXPIRY, "ended_on": TODAY}, "ground"),  # expiry on another day
        ({"ground": "art99", "ended_on": TODAY}, "ground"),
        ({"ground": EndGround.MUTUAL}, "ended_on"),
        ({"ground": EndGround.MUTUAL, "ended_on": TODAY, "note": "x" * 513}, "note"),
    ],
)
def test_bad_input_is_refused_with_nothing_changed(record, handler, kwargs, field):
    before = state(record)

    with pytest.raises(InvalidInput) as caught:
        services.contract_end(contract=record, staff=handler, **kwargs)

    assert field in caught.value.data["errors"]
    assert state(record) == before
    assert not default_storage.exists("ledger/proofs") or not default_storage.listdir("ledger/proofs")[1]


def test_ending_twice_is_refused(record, handler):
    services.contract_end(contract=record, staff=handler, ground=EndGround.MUTUAL, ended_on=TODAY)
    before = state(record)

    with pytest.raises(services.ContractClosed, match="不能再次办理"):
        services.contract_end(contract=record, staff=handler, ground=EndGround.MISCONDUCT, ended_on=TODAY)

    assert state(record) == before


def test_someone_elses_handler_may_not_end_it(record, other_handler):
    from signing.errors import NotYourApplication

    with pytest.raises(NotYourApplication):
        services.contract_end(contract=record, staff=other_handler, ground=EndGround.MUTUAL, ended_on=TODAY)


def test_an_open_ended_contract_cannot_expire(pki, handler, company):  # noqa: F811
    company_certificate_issue(company=company)
    open_ended = make_contract(
        handler=handler, company=company, term_type=TermType.OPEN_ENDED, start_date=TODAY, end_date=None
    )

    with pytest.raises(InvalidInput):
        services.contract_end(contract=open_ended, staff=handler, ground=EndGround.EXPIRY, ended_on=TODAY)


def test_a_pending_renewal_blocks_the_ending(record, handler):
    from signing.models import SignStatus
    from tests.factories import SignApplicationFactory

    pending = SignApplicationFactory(em=record.employee, status=SignStatus.AWAITING_SIGNATURE)
    EmploymentContract.objects.filter(pk=record.pk).update(renewal_application=pending)

    with pytest.raises(TransitionNotAllowed):
        services.contract_end(contract=record, staff=handler, ground=EndGround.MUTUAL, ended_on=TODAY)
