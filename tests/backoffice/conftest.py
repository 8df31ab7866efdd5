"""
Fixtures of the back-office tests: a superuser, two handlers (人事专员), two
companies with an enabled contract template each, and applications with full
resumes (ID card photos, education, work history).
"""

import datetime

import pytest
from django.test import Client

from signing.models import SignApplication, SignStatus
from tests.factories import (
    AdminUserFactory,
    CompanyFactory,
    ContractFactory,
    EmployeeEducationFactory,
    EmployeeFactory,
    HandlerFactory,
    SignApplicationFactory,
    UploadFactory,
    WechatUserFactory,
    WorkExperienceFactory,
)

CHANGELIST = "/admin/signing/signapplication/"


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def superuser(db):
    return AdminUserFactory(is_superuser=True, username="boss", name="主管")


@pytest.fixture
def handler(db):
    return HandlerFactory(username="hr1", name="王芳")


@pytest.fixture
def other_handler(db):
    return HandlerFactory(username="hr2", name="李强")


def client_for(user) -> Client:
    client = Client()
    client.force_login(user)
    return client


@pytest.fixture
def super_client(superuser):
    return client_for(superuser)


@pytest.fixture
def handler_client(handler):
    return client_for(handler)


@pytest.fixture
def company(db):
    return CompanyFactory(company_name="甲科技有限公司")


@pytest.fixture
def other_company(db):
    return CompanyFactory(company_name="乙制造有限公司")


@pytest.fixture
def contract(company):
    return ContractFactory(company=company, contract_name="劳动合同（甲）")


@pytest.fixture
def other_contract(other_company):
    return ContractFactory(company=other_company, contract_name="劳动合同（乙）")


def make_application(*, handler, company, status=SignStatus.APPLIED, name=None, photos=True, **kwargs):
    """An application of a full resume: both ID photos, one education and one job."""
    user = WechatUserFactory()
    employee_kwargs = {"user": user}
    if name:
        employee_kwargs["real_name"] = name
    if photos:
        employee_kwargs["id_card_front"] = UploadFactory(owner=user)
        employee_kwargs["id_card_back"] = UploadFactory(owner=user)
    employee = EmployeeFactory(**employee_kwargs, **kwargs.pop("employee", {}))
    EmployeeEducationFactory(employee=employee)
    WorkExperienceFactory(employee=employee)
    return SignApplicationFactory(em=employee, ad_user=handler, company=company, status=status, **kwargs)


@pytest.fixture
def application(handler, company, contract):
    return make_application(handler=handler, company=company, name="张三")


@pytest.fixture
def others_application(other_handler, company, contract):
    return make_application(handler=other_handler, company=company, name="赵六")


def approve_data(the_contract, **overrides):
    return {
        "contract": the_contract.pk,
        "entry_date": (datetime.date.today() + datetime.timedelta(days=7)).isoformat(),
        "salary": "8500.00",
        **overrides,
    }


def action_post(client, action, ids, *, confirm=False, url=CHANGELIST, **data):
    payload = {"action": action, "_selected_action": [str(pk) for pk in ids], **data}
    if confirm:
        payload["post"] = "yes"
    else:
        payload["index"] = "0"
    return client.post(url, payload)


def messages_of(response, level: str | None = None) -> list[str]:
    """The admin messages shown on the (final) page, optionally of one level ("error", "success"…)."""
    if not response.context or "messages" not in response.context:
        return []
    return [str(m) for m in response.context["messages"] if level is None or m.level_tag == level]


def statuses(*applications) -> list[int]:
    return [SignApplication.objects.get(pk=app.pk).status for app in applications]
