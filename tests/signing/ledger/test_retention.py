"""
Retention (SPEC §12, art. 50): a contract's files, evidence and the personal data they need stay at
least CONTRACT_RETENTION_YEARS (min 2) after it ended; nothing purges them sooner. Time travel to
both sides of the boundary.
"""

import datetime
import io
import subprocess
import sys
import zoneinfo
from pathlib import Path

import pytest
import time_machine
from django.core.files.storage import default_storage
from django.core.management import call_command

from employees.models import Employee, Upload
from employees.retention import exclude_retained
from signing.ledger import selectors
from signing.ledger.models import ContractStatus, EmploymentContract, TermType
from tests.factories import SignedDocumentFactory, UploadFactory, make_contract

pytestmark = pytest.mark.django_db

SHANGHAI = zoneinfo.ZoneInfo("Asia/Shanghai")
ENDED = datetime.date(2027, 3, 15)
ROOT = Path(__file__).resolve().parents[3]


def at(day):
    return time_machine.travel(datetime.datetime.combine(day, datetime.time(9), tzinfo=SHANGHAI), tick=False)


@pytest.fixture
def ended(handler, company):
    contract = make_contract(
        handler=handler,
        company=company,
        name="已解除",
        start_date=datetime.date(2024, 3, 16),
        end_date=datetime.date(2027, 3, 15),
        status=ContractStatus.DISSOLVED,
        ended_on=ENDED,
    )
    document = SignedDocumentFactory(
        application=contract.application, signature=UploadFactory(owner=contract.employee.user)
    )
    EmploymentContract.objects.filter(pk=contract.pk).update(document=document)
    return contract


@pytest.mark.parametrize(
    ("day", "kept"),
    [
        (ENDED, True),
        (datetime.date(2029, 3, 14), True),  # one day before two years have passed
        (datetime.date(2029, 3, 15), False),  # two years after the ending: deletable
        (datetime.date(2035, 1, 1), False),
    ],
)
def test_the_retention_boundary(ended, day, kept):
    assert selectors.retained_until(ended) == datetime.date(2029, 3, 15)
    assert selectors.retained_contracts(today=day).filter(pk=ended.pk).exists() is kept
    assert selectors.deletable_contracts(today=day).filter(pk=ended.pk).exists() is not kept
    with at(day):
        people = exclude_retained(Employee.objects.filter(pk=ended.employee_id))
        assert people.exists() is not kept


def test_the_years_follow_the_setting(ended, settings):
    settings.CONTRACT_RETENTION_YEARS = 5

    assert selectors.retained_until(ended) == datetime.date(2032, 3, 15)
    assert selectors.retained_contracts(today=datetime.date(2031, 1, 1)).filter(pk=ended.pk).exists()


def test_a_contract_in_force_is_kept_whatever_the_date(handler, company):
    open_ended = make_contract(
        handler=handler,
        company=company,
        term_type=TermType.OPEN_ENDED,
        start_date=datetime.date(2000, 1, 1),
        end_date=None,
    )

    assert selectors.retained_until(open_ended) is None
    assert selectors.retained_contracts(today=datetime.date(2090, 1, 1)).filter(pk=open_ended.pk).exists()
    assert not selectors.deletable_contracts(today=datetime.date(2090, 1, 1)).filter(pk=open_ended.pk).exists()


def test_an_expired_term_counts_from_its_end(handler, company):
    expired = make_contract(
        handler=handler,
        company=company,
        start_date=datetime.date(2020, 1, 1),
        end_date=datetime.date(2022, 12, 31),
        status=ContractStatus.EXPIRED,
    )

    assert selectors.retained_until(expired) == datetime.date(2024, 12, 31)


def test_purge_expired_leaves_a_retained_contracts_files_and_people(ended):
    document = ended.application.document
    paths = [document.file.name, document.signature.file.name]

    with at(datetime.date(2029, 3, 14)):
        call_command("purge_expired", stdout=io.StringIO())

    assert all(default_storage.exists(name) for name in paths)
    assert Employee.objects.filter(pk=ended.employee_id).exists()
    assert Upload.objects.filter(pk=document.signature_id).exists()
    assert EmploymentContract.objects.filter(pk=ended.pk).exists()


def test_the_retention_years_cannot_be_set_below_two():
    result = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=ROOT,
        env={"PATH": "/usr/bin:/bin", "DJANGO_DEBUG": "1", "CONTRACT_RETENTION_YEARS": "1", "HOME": "/tmp"},
        capture_output=True,
        text=True,
        timeout=120,
    )

    assert result.returncode != 0
    assert "CONTRACT_RETENTION_YEARS" in result.stderr
