"""A fresh local hierarchy per test (pki_init is cheap: three P-256 keys), development TSA, a passphrase."""

import pytest

from signing.pki import keystore
from signing.pki.hierarchy import pki_init

TEST_PASSPHRASE = "test-pki-passphrase-0123456789abcdef"


@pytest.fixture
def pki_settings(settings):
    settings.SIGNING_KEY_PASSPHRASE = TEST_PASSPHRASE
    settings.SIGNING_TSA_URL = "development"
    settings.SIGNING_PKI_BASE_URL = "http://pki.test"
    settings.SIGNING_CA_BACKEND = "local"
    keystore.forget_keys()
    yield settings
    keystore.forget_keys()


@pytest.fixture
def pki(db, pki_settings):
    return pki_init(dev_tsa=True)
