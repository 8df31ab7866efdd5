"""Signing opens the ledger's record (SPEC §12) with the terms the approval stored, in the same transaction."""

import datetime

import pytest
from django.utils import timezone

from contracts.terms import TermType
from shanqian.errors import InvalidInput
from signing.ledger.models import ContractStatus, EmploymentContract
from signing.models import SignStatus
from signing.services import applications as services
from tests.factories import make_application, sign_code, signature_url

pytestmark = pytest.mark.django_db


def test_an_online_signature_opens_the_record_with_the_sealed_document(signer):
    signer.client.get("/api/sign/contract")
    response = signer.client.post(
        "/api/sign",
        {"sms_code": sign_code(signer.employee.phone), "signature": signature_url(signer.user)},
        format="json",
    )
    assert response.json()["status"] == 0, response.json()

    record = EmploymentContract.objects.get(application=signer.application)
    application = signer.refresh()
    assert record.status == ContractStatus.ACTIVE
    assert record.document == application.document
    assert record.start_date == application.entry_date
    assert record.end_date == application.end_date and record.term_type == application.term_type
    assert record.employee_id == signer.employee.pk and record.ad_user_id == application.ad_user_id
    listed = signer.client.get("/api/contracts").json()["data"]["list"]
    assert [row["id"] for row in listed] == [record.pk]
    assert listed[0]["document_sha256"] == application.document.sha256


def test_an_offline_signature_opens_a_record_without_a_document(handler, company, contract):
    application = make_application(handler=handler, company=company, name="线下")
    entry = timezone.localdate() + datetime.timedelta(days=3)
    services.application_approve(
        application=application,
        staff=handler,
        contract=contract,
        entry_date=entry,
        salary="9000",
        probation_months=2,
        work_location="上海市浦东新区",
    )

    services.application_sign_offline(application=application, staff=handler, note="纸质合同已签")

    record = EmploymentContract.objects.get(application=application)
    assert record.document is None
    assert record.term_type == TermType.FIXED
    assert record.start_date == entry
    assert record.end_date == entry.replace(year=entry.year + contract.sign_year) - datetime.timedelta(days=1)
    assert record.probation_months == 2 and record.probation_end is not None
    assert record.work_location == "上海市浦东新区" and str(record.salary) == "9000.00"


def test_a_failed_signature_opens_nothing(handler, company, contract):
    application = make_application(handler=handler, company=company, name="未签")
    services.application_approve(
        application=application, staff=handler, contract=contract, entry_date=timezone.localdate(), salary="9000"
    )

    with pytest.raises(InvalidInput):
        services.application_sign_offline(application=application, staff=handler, note="")

    assert not EmploymentContract.objects.exists()
    application.refresh_from_db()
    assert application.status == SignStatus.AWAITING_SIGNATURE
