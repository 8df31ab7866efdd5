import datetime
from dataclasses import dataclass
from pathlib import Path

import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

from employees.models import SmsPurpose, VerifyStatus
from employees.otp import sms_code_create
from employees.tokens import issue_token
from employees.uploads import upload_url
from signing.models import SignApplication
from signing.services import applications as services
from tests.employees.resume_data import make_world
from tests.factories import EmployeeFactory, SignApplicationFactory, UploadFactory, WechatUserFactory

# Sent with every signing request: the audit events and the certificate record them.
CONTEXT_HEADERS = {"HTTP_X_LOCATION": "116.397128-39.916527", "HTTP_X_CITY": "%E5%8C%97%E4%BA%AC"}


@pytest.fixture
def world(db):
    return make_world()


@dataclass
class Signer:
    """An employee with a verified real name and an approved (status 2) application, logged in."""

    user: object
    employee: object
    application: SignApplication
    client: APIClient

    def refresh(self) -> SignApplication:
        self.application.refresh_from_db()
        return self.application


def logged_in_client(user, platform_code: str = "demo", **headers) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_X_PLATFORM_CODE=platform_code, HTTP_X_AUTH_TOKEN=issue_token(user=user), **CONTEXT_HEADERS, **headers
    )
    return client


def make_signer(world, *, status: int = 2, verify_status: int = VerifyStatus.VERIFIED, phone: str = "13912345678"):
    user = WechatUserFactory(verify_status=verify_status)
    employee = EmployeeFactory(user=user, real_name="李小雷", phone=phone)
    application = SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, work_pos="前台")
    if status in (2, 3, 5):
        application = services.application_approve(
            application=application,
            staff=world.handler,
            contract=world.contract,
            entry_date=timezone.localdate() + datetime.timedelta(days=7),
            salary="7000.5",
        )
    if status in (3, 4, 5):
        SignApplication.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    return Signer(user=user, employee=employee, application=application, client=logged_in_client(user))


@pytest.fixture
def signer(world, platform):
    return make_signer(world)


def sign_code(phone: str) -> str:
    """A live purpose=sign code for ``phone`` (as /api/verifycode would have sent)."""
    return sms_code_create(phone=phone, purpose=SmsPurpose.SIGN)[1]


def signature_url(user) -> str:
    return upload_url(UploadFactory(owner=user, width=300, height=120))


def sealed_files() -> list[Path]:
    """Every file under the storage's ``signed/`` folder."""
    root = Path(settings.MEDIA_ROOT) / "signed"
    return sorted(p for p in root.rglob("*") if p.is_file()) if root.exists() else []
