"""
Fixtures shared by the whole suite (builders live in ``tests/factories.py``).

* isolation: a media root, SMS file and clean caches per test; fast password hashing; the session's
  sealing certificate;
* the mini-program: ``platform``, ``api`` (anonymous), ``wechat_user``, ``user_api`` (logged in),
  ``fake_wechat``, ``sms_file``, ``new_captcha``;
* reference data: ``world`` (``make_world``);
* the back office: ``superuser``, ``handler``, ``other_handler`` and their clients, two companies
  with a contract template each, ``application`` (the handler's) and ``others_application``;
* signing: ``signer`` (an approved, verified, logged-in employee).
"""

import pytest
from captcha.models import CaptchaStore
from rest_framework.test import APIClient

from employees.tokens import issue_token

from .factories import (
    AdminUserFactory,
    CompanyFactory,
    ContractFactory,
    HandlerFactory,
    PlatformFactory,
    WechatUserFactory,
    make_application,
    make_signer,
    make_world,
)
from .support.admin import client_for


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
    """A first-generation platform certificate (RSA 2048) shared by the session: (cert_path, key_path)."""
    from tests.signing.legacy_seal import make_legacy_cert

    folder = tmp_path_factory.mktemp("signing-cert")
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    make_legacy_cert(cert_path, key_path)
    return cert_path, key_path


@pytest.fixture(autouse=True)
def signing_cert(settings, signing_cert_paths):
    """Legacy seals (``tests.signing.legacy_seal``) are made and verified with the session certificate."""
    cert_path, key_path = signing_cert_paths
    settings.SIGNING_CERT_PATH = str(cert_path)
    settings.SIGNING_KEY_PATH = str(key_path)
    return cert_path, key_path


PKI_TEST_PASSPHRASE = "test-pki-passphrase-0123456789abcdef"


@pytest.fixture(autouse=True)
def pki_settings(settings):
    """The PKI of SPEC §10 as every test signs with it: a passphrase, the development TSA, a base URL."""
    from signing.pki import keystore

    settings.SIGNING_KEY_PASSPHRASE = PKI_TEST_PASSPHRASE
    settings.SIGNING_TSA_URL = "development"
    settings.SIGNING_PKI_BASE_URL = "http://pki.test"
    settings.SIGNING_CA_BACKEND = "local"
    keystore.forget_keys()
    yield settings
    keystore.forget_keys()


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


# --- reference data ------------------------------------------------------------------------------------


@pytest.fixture
def world(db):
    return make_world()


# --- the back office ----------------------------------------------------------------------------------


@pytest.fixture
def superuser(db):
    return AdminUserFactory(is_superuser=True, username="boss", name="主管")


@pytest.fixture
def handler(db):
    return HandlerFactory(username="hr1", name="王芳")


@pytest.fixture
def other_handler(db):
    return HandlerFactory(username="hr2", name="李强")


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


@pytest.fixture
def application(handler, company, contract):
    return make_application(handler=handler, company=company, name="张三")


@pytest.fixture
def others_application(other_handler, company, contract):
    return make_application(handler=other_handler, company=company, name="赵六")


# --- signing ------------------------------------------------------------------------------------------


@pytest.fixture
def signer(world, platform):
    return make_signer(world)
