"""Uploads and SMS codes are visible (read-only) in the back office; hashes and codes are not."""

import pytest
from django.test import Client

from employees.otp import sms_code_create
from tests.factories import AdminUserFactory, HandlerFactory, UploadFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def superuser_client():
    client = Client()
    client.force_login(AdminUserFactory(is_superuser=True))
    return client


def test_upload_page_previews_through_a_signed_link_and_is_read_only(superuser_client):
    upload = UploadFactory()

    page = superuser_client.get(f"/admin/employees/upload/{upload.pk}/change/")

    assert page.status_code == 200
    assert "/files/" in page.content.decode()
    assert superuser_client.post(f"/admin/employees/upload/{upload.pk}/change/", {}).status_code == 403
    assert superuser_client.get("/admin/employees/upload/add/").status_code == 403


def test_sms_code_list_masks_the_phone_and_never_shows_the_code(superuser_client):
    row, _code = sms_code_create(phone="13912345678", purpose="resume")

    page = superuser_client.get("/admin/employees/smscode/").content.decode()

    assert "139****5678" in page
    assert "13912345678" not in page
    assert row.code_hash not in page
    detail = superuser_client.get(f"/admin/employees/smscode/{row.pk}/change/").content.decode()
    assert row.code_hash not in detail


def test_handlers_cannot_browse_every_upload():
    client = Client()
    client.force_login(HandlerFactory())

    assert client.get("/admin/employees/upload/").status_code == 403
