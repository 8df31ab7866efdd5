"""Fixtures shared by the whole suite."""

import pytest
from rest_framework.test import APIClient

from employees.tokens import issue_token

from .factories import PlatformFactory, WechatUserFactory


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Every test gets its own media root, SMS file and a clean cache."""
    from django.core.cache import cache

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    cache.clear()
    yield
    cache.clear()


@pytest.fixture
def platform(db):
    return PlatformFactory()


@pytest.fixture
def api(platform):
    """An anonymous mini-program client of the ``demo`` platform."""
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code)
    return client


@pytest.fixture
def wechat_user(platform):
    return WechatUserFactory(platform=platform)


@pytest.fixture
def user_api(platform, wechat_user):
    """A logged-in mini-program client; ``user_api.user`` is its WechatUser."""
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=wechat_user))
    client.user = wechat_user
    return client
