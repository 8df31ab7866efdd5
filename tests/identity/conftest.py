"""Fixtures for the identity tests."""

import pytest
from captcha.models import CaptchaStore


@pytest.fixture
def fake_wechat(settings):
    """The development WeChat backend (only allowed with DEBUG on)."""
    settings.DEBUG = True
    settings.WECHAT_BACKEND = "fake"


@pytest.fixture
def sms_file(settings):
    settings.SMS_BACKEND = "file"
    return settings.SMS_FILE_PATH


@pytest.fixture
def new_captcha(api):
    """Fetch a captcha through the API; returns ``(key, answer)``."""

    def make(client=None):
        response = (client or api).get("/api/captcha")
        assert response.status_code == 200
        key = response["X-unique-key"]
        return key, CaptchaStore.objects.get(hashkey=key).response

    return make
