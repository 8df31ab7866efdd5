"""A fresh local hierarchy per test (pki_init is cheap: three P-256 keys); the settings come from ``pki_settings``."""

import pytest

from signing.pki.setup import pki_init
from tests.conftest import PKI_TEST_PASSPHRASE as TEST_PASSPHRASE  # noqa: F401 -- tests here name it


@pytest.fixture
def pki(db, pki_settings):
    return pki_init(dev_tsa=True)
