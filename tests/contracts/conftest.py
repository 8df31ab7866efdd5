import pytest
from django.test import Client

from tests.factories import AdminUserFactory


@pytest.fixture(autouse=True)
def _fast_passwords(settings):
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def staff_client(db, settings):
    """A superuser's admin client. The suite runs with DEBUG off; admin pages need static URLs without a manifest."""
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    client = Client()
    client.force_login(AdminUserFactory(is_superuser=True))
    return client


def assert_error(response, http_status, status):
    body = response.json()
    assert response.status_code == http_status, body
    assert body["status"] == status
    assert body["error_code"] == status
    assert isinstance(body["msg"], str) and body["msg"]
    return body
