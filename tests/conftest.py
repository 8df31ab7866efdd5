"""Fixtures shared by the whole suite."""

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from employees.tokens import issue_token

from .factories import PlatformFactory, WechatUserFactory


@pytest.fixture(autouse=True)
def _isolated(settings, tmp_path):
    """Every test gets its own media root, SMS file and a clean cache."""
    from django.core.cache import cache

    from shanqian.platforms import forget_memo

    settings.MEDIA_ROOT = str(tmp_path / "media")
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")
    cache.clear()
    forget_memo()
    yield
    cache.clear()
    forget_memo()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Staff factories set passwords; PBKDF2's real cost would dominate the suite."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture(scope="session")
def signing_cert_paths(tmp_path_factory):
    """A self-signed sealing certificate (RSA 2048) shared by the session: (cert_path, key_path)."""
    from signing.sealing import make_signing_cert

    folder = tmp_path_factory.mktemp("signing-cert")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    with override_settings(SIGNING_CERT_PATH=str(cert_path), SIGNING_KEY_PATH=str(key_path), SIGNING_KEY_PASSPHRASE=""):
        make_signing_cert()
    return cert_path, key_path


@pytest.fixture(autouse=True)
def signing_cert(settings, signing_cert_paths):
    """Every test seals with the session certificate, never with a file under var/."""
    cert_path, key_path = signing_cert_paths
    settings.SIGNING_CERT_PATH = str(cert_path)
    settings.SIGNING_KEY_PATH = str(key_path)
    settings.SIGNING_KEY_PASSPHRASE = ""
    return cert_path, key_path


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
