import pytest
from django.test import Client

from tests.factories import AdminUserFactory


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
