"""System checks: the TSA configuration, the passphrase, the hierarchy (SPEC §10)."""

import pytest

from signing.pki import keystore
from signing.pki.checks import pki_check


def _ids(messages) -> set[str]:
    return {m.id for m in messages}


def test_no_tsa_with_debug_off_is_an_error(pki_settings, db):
    pki_settings.DEBUG = False
    pki_settings.SIGNING_TSA_URL = ""

    messages = pki_check()

    error = next(m for m in messages if m.id == "signing.E001")
    assert error.is_serious() and "SIGNING_TSA_URL" in error.msg and "none" in error.hint


def test_tsa_none_is_a_warning_that_names_the_guideline(pki_settings, db):
    pki_settings.SIGNING_TSA_URL = "none"

    warning = next(m for m in pki_check() if m.id == "signing.W001")

    assert not warning.is_serious() and "电子劳动合同订立指引" in warning.msg


def test_the_development_tsa_is_refused_in_production(pki_settings, db):
    pki_settings.DEBUG = False
    pki_settings.SIGNING_TSA_URL = "development"
    assert "signing.E002" in _ids(pki_check())

    pki_settings.DEBUG = True
    assert "signing.E002" not in _ids(pki_check())


def test_tsa_url_set_or_debug_without_one_passes(pki_settings, db):
    pki_settings.SIGNING_TSA_URL = "https://tsa.example.com/tsr"
    assert not _ids(pki_check()) & {"signing.E001", "signing.E002", "signing.W001"}
    pki_settings.SIGNING_TSA_URL = ""
    pki_settings.DEBUG = True
    assert not _ids(pki_check()) & {"signing.E001", "signing.E002", "signing.W001"}


def test_a_missing_passphrase_with_debug_off_is_an_error(pki_settings, db):
    pki_settings.DEBUG = False
    pki_settings.SIGNING_KEY_PASSPHRASE = ""

    assert "signing.E003" in _ids(pki_check())


def test_a_short_passphrase_is_a_warning(pki_settings, db):
    pki_settings.SIGNING_KEY_PASSPHRASE = "short"

    assert "signing.W002" in _ids(pki_check())


def test_a_wrong_passphrase_at_start_up_is_a_clear_error(pki, pki_settings):
    keystore.forget_keys()
    pki_settings.SIGNING_KEY_PASSPHRASE = "the-wrong-passphrase-0000000000"

    error = next(m for m in pki_check() if m.id == "signing.E004")

    assert error.is_serious() and "SIGNING_KEY_PASSPHRASE" in error.msg and "pki_init" in error.hint
    assert "the-wrong-passphrase" not in error.msg + error.hint


def test_the_right_passphrase_passes(pki):
    assert not _ids(pki_check()) & {"signing.E003", "signing.E004", "signing.W004"}


def test_an_uninitialised_hierarchy_is_a_warning(pki_settings, db):
    assert "signing.W004" in _ids(pki_check())


def test_an_unloadable_backend_is_an_error(pki, pki_settings):
    pki_settings.SIGNING_CA_BACKEND = "nowhere.Backend"

    assert "signing.E005" in _ids(pki_check())


def test_unreadable_tsa_trust_roots_are_an_error(pki, pki_settings, tmp_path):
    (tmp_path / "roots.pem").write_bytes(b"not a certificate")
    pki_settings.SIGNING_TSA_TRUST_ROOTS = str(tmp_path / "roots.pem")

    assert "signing.E006" in _ids(pki_check())


@pytest.mark.django_db
def test_check_command_fails_on_the_wrong_passphrase(pki, pki_settings):
    from django.core.management import call_command
    from django.core.management.base import SystemCheckError

    keystore.forget_keys()
    pki_settings.SIGNING_KEY_PASSPHRASE = "the-wrong-passphrase-0000000000"

    with pytest.raises(SystemCheckError, match=r"signing\.E004"):
        call_command("check")
