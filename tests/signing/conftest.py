"""Fixtures for the signing tests: a sealing certificate generated once per session."""

import pytest
from django.test import override_settings


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
    """Every signing test seals with the session certificate, never with a file under var/."""
    cert_path, key_path = signing_cert_paths
    settings.SIGNING_CERT_PATH = str(cert_path)
    settings.SIGNING_KEY_PATH = str(key_path)
    settings.SIGNING_KEY_PASSPHRASE = ""
    return cert_path, key_path
