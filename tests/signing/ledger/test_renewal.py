"""
续签 (SPEC §12): new terms from a record → an application straight in 2 待签约 (the move ∅ → 2
renew, by staff), signed like any other; signing it marks the old record 已续签 and opens the new
one. Art. 14's notice when it applies; overlapping terms, art. 19 probations and a second renewal
refused with nothing changed. Through the admin too.
"""

import datetime

import pytest
from django.utils import timezone

from contracts.terms import TermType
from shanqian.errors import InvalidInput
from signing.errors import TransitionNotAllowed
from signing.ledger.models import ContractStatus, EmploymentContract
from signing.models import SignApplication, SignEvent, SignStatus
from signing.services import applications as services
from tests.factories import ContractFactory, make_contract
from tests.support.admin import messages_of

pytestmark = pytest.mark.django_db

TODAY = timezone.localdate()
LEDGER = "/admin/signing/employmentcontract/"


@pytest.fixture
def record(handler, company, contract):
    record = make_contract(
        handler=handler,
        company=company,
        name="张三",
        start_date=TODAY - datetime.timedelta(days=1070),
        end_date=TODAY + datetime.timedelta(days=25),
        salary="8000.00",
    )
    SignApplication.objects.filter(pk=record.application_id).update(contract=contract)
    return record


def renew(record, staff, template, **kwargs):
    return services.application_renew(record=record, staff=staff, contract=template, salary="9000", **kwargs)


def counts():
    return (SignApplication.objects.count(), SignEvent.objects.count(), EmploymentContract.objects.count())


def test_the_moves_table_has_renew_from_nothing_to_2_by_staff():
    move = services.MOVES["renew"]

    assert move.sources == frozenset() and move.target == SignStatus.AWAITING_SIGNATURE
    assert move.actors == frozenset({services.STAFF})


def test_renewal_opens_an_application_in_2_starting_after_the_term(record, handler, contract):
    application = renew(record, handler, contract)

    assert application.status == SignStatus.AWAITING_SIGNATURE
    assert application.em_id == record.employee_id and application.ad_user_id == handler.pk
    assert application.entry_date == record.end_date + datetime.timedelta(days=1)
    assert application.term_type == TermType.FIXED
    assert application.end_date == application.entry_date.replace(
        year=application.entry_date.year + contract.sign_year
    ) - datetime.timedelta(days=1)
    event = application.events.get()
    assert (event.from_status, event.to_status) == (None, SignStatus.AWAITING_SIGNATURE)
    assert f"续签劳动合同 #{record.pk}" in event.note
    record.refresh_from_db()
    assert record.renewal_application == application and record.status == ContractStatus.ACTIVE


def test_signing_the_renewal_marks_the_old_record_renewed_and_opens_the_new_one(record, handler, contract):
    application = renew(record, handler, contract)

    services.application_sign_offline(application=application, staff=handler, note="纸质续签合同已签")

    record.refresh_from_db()
    new = EmploymentContract.objects.get(application=application)
    assert record.status == ContractStatus.RENEWED and record.renewal_application is None
    assert record.ended_on == record.end_date
    assert new.previous == record and new.status == ContractStatus.ACTIVE
    assert new.start_date == record.end_date + datetime.timedelta(days=1)


@pytest.mark.parametrize("start_offset", [0, -10])
def test_a_renewal_that_overlaps_the_current_term_is_refused(record, handler, contract, start_offset):
    before = counts()

    with pytest.raises(InvalidInput) as caught:
        renew(record, handler, contract, entry_date=record.end_date + datetime.timedelta(days=start_offset))

    assert "不能重叠" in caught.value.data["errors"]["entry_date"][0]
    assert counts() == before


def test_a_probation_over_art_19_is_refused(record, handler, company):
    one_year = ContractFactory(company=company, sign_year=1)
    before = counts()

    with pytest.raises(InvalidInput) as caught:
        renew(record, handler, one_year, probation_months=3)

    assert "probation_months" in caught.value.data["errors"]
    assert counts() == before


def test_a_second_renewal_while_one_waits_is_refused(record, handler, contract):
    renew(record, handler, contract)
    before = counts()

    with pytest.raises(TransitionNotAllowed, match="续签申请"):
        renew(record, handler, contract)

    assert counts() == before


def test_a_closed_record_cannot_be_renewed(record, handler, contract):
    EmploymentContract.objects.filter(pk=record.pk).update(status=ContractStatus.DISSOLVED, ended_on=TODAY)

    with pytest.raises(Exception, match="不能续签"):
        renew(record, handler, contract)


def test_art_14_applies_after_two_consecutive_fixed_terms(record, handler, company, contract):
    first = make_contract(
        handler=handler,
        company=company,
        start_date=record.start_date - datetime.timedelta(days=1095),
        end_date=record.start_date - datetime.timedelta(days=1),
        status=ContractStatus.RENEWED,
    )
    EmploymentContract.objects.filter(pk=first.pk).update(employee=record.employee)
    EmploymentContract.objects.filter(pk=record.pk).update(previous=first)
    before = counts()

    with pytest.raises(InvalidInput) as caught:
        renew(record, handler, contract)

    message = caught.value.data["errors"]["art14_acknowledged"][0]
    assert "连续订立 2 次固定期限劳动合同" in message and "第十四条" in message
    assert counts() == before

    open_ended = renew(record, handler, contract, term_type=TermType.OPEN_ENDED)
    assert open_ended.term_type == TermType.OPEN_ENDED and open_ended.end_date is None


def test_art_14_fixed_term_with_the_workers_own_request(record, handler, company, contract):
    EmploymentContract.objects.filter(pk=record.pk).update(start_date=TODAY - datetime.timedelta(days=3700))

    application = renew(record, handler, contract, art14_acknowledged=True)

    assert "连续工作已满十年" in application.events.get().note


def test_someone_elses_handler_cannot_renew(record, other_handler, contract):
    from signing.errors import NotYourApplication

    with pytest.raises(NotYourApplication):
        renew(record, other_handler, contract)


# --- through the admin ---------------------------------------------------------------------------------


def test_renewal_through_the_admin(handler_client, record, contract):
    url = f"{LEDGER}{record.pk}/manage/renew/"
    page = handler_client.get(url).content.decode()
    assert "续签起始日期" in page and (record.end_date + datetime.timedelta(days=1)).isoformat() in page

    response = handler_client.post(
        url,
        {"contract": contract.pk, "salary": "9500.00", "working_hours": "standard", "probation_months": "0"},
        follow=True,
    )

    assert any("已续签" in message for message in messages_of(response)), messages_of(response)
    record.refresh_from_db()
    assert record.renewal_application.status == SignStatus.AWAITING_SIGNATURE
    assert str(record.renewal_application.salary) == "9500.00"


def test_an_overlapping_renewal_through_the_admin_is_a_form_error(handler_client, record, contract):
    response = handler_client.post(
        f"{LEDGER}{record.pk}/manage/renew/",
        {"contract": contract.pk, "salary": "9500.00", "entry_date": record.end_date.isoformat()},
    )

    assert response.status_code == 200
    assert "不能重叠" in response.content.decode()
    assert SignApplication.objects.count() == 1


def test_ending_through_the_admin_is_offered_and_refused_when_closed(handler_client, record):
    EmploymentContract.objects.filter(pk=record.pk).update(status=ContractStatus.TERMINATED, ended_on=TODAY)

    response = handler_client.get(f"{LEDGER}{record.pk}/manage/end/", follow=True)

    assert any("不能终止/解除" in message for message in messages_of(response))


# --- the personalised contract of a renewal (SPEC §9 as at approval) -------------------------------------


def test_a_renewal_gets_its_personalised_contract_with_the_new_terms(record, handler, contract):
    import hashlib
    import re
    import subprocess

    from django.core.files.storage import default_storage

    from signing.documents.values import format_date

    application = renew(record, handler, contract)

    application.refresh_from_db()
    assert application.contract_document and len(application.contract_document_sha256) == 64
    with default_storage.open(application.contract_document.name, "rb") as handle:
        pdf = handle.read()
    assert hashlib.sha256(pdf).hexdigest() == application.contract_document_sha256
    text = re.sub(
        r"\s+", "", subprocess.run(["pdftotext", "-", "-"], input=pdf, capture_output=True, check=True).stdout.decode()
    )
    assert "9000.00" in text  # the new salary, not the old 8000.00
    assert "8000.00" not in text
    assert format_date(application.entry_date) in text and format_date(application.end_date) in text
    assert application.em.real_name in text


def test_a_renewal_with_a_template_lacking_placements_is_refused_like_an_approval(record, handler, company):
    bare = ContractFactory(company=company, contract_name="缺字段的模板", placed=False)
    before = counts()

    with pytest.raises(InvalidInput) as caught:
        renew(record, handler, bare)

    message = caught.value.data["errors"]["contract"][0]
    assert message.startswith("合同模板缺少必需的字段位置：") and "乙方签名（手写签名图片）" in message
    assert counts() == before
    record.refresh_from_db()
    assert record.renewal_application is None


def test_approval_and_renewal_refuse_a_template_with_the_same_message(record, handler, company):
    from signing.services.applications import _contract_choice

    bare = ContractFactory(company=company, placed=False)
    _, refusal = _contract_choice(bare, company_id=company.pk, owner="合同")

    with pytest.raises(InvalidInput) as caught:
        renew(record, handler, bare)

    assert caught.value.data["errors"]["contract"] == [refusal]
