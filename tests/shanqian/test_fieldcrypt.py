"""Field encryption primitives: AES-GCM envelopes with key ids, keyed blind index, key loading."""

import base64
import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.checks import run_checks

from shanqian import fieldcrypt
from shanqian.fieldcrypt_checks import TAG

KEY_A = base64.b64encode(b"A" * 32).decode()
KEY_B = base64.b64encode(b"B" * 32).decode()
INDEX_KEY = base64.b64encode(b"I" * 32).decode()
NUMBER = "110105199001010010"


@pytest.fixture
def keys(settings):
    settings.FIELD_ENCRYPTION_KEYS = f"a:{KEY_A}"
    settings.FIELD_BLIND_INDEX_KEY = INDEX_KEY
    return settings


def test_envelope_round_trips_and_names_its_key(keys):
    envelope = fieldcrypt.encrypt(NUMBER, purpose="id_number")

    assert envelope.startswith("e1:a:")
    assert NUMBER not in envelope
    assert fieldcrypt.key_id(envelope) == "a"
    assert fieldcrypt.decrypt(envelope, purpose="id_number") == NUMBER


def test_each_encryption_uses_a_fresh_nonce(keys):
    assert fieldcrypt.encrypt(NUMBER, purpose="id_number") != fieldcrypt.encrypt(NUMBER, purpose="id_number")


def test_an_envelope_does_not_decrypt_for_another_purpose(keys):
    envelope = fieldcrypt.encrypt(NUMBER, purpose="id_number")

    with pytest.raises(fieldcrypt.FieldDecryptionError):
        fieldcrypt.decrypt(envelope, purpose="phone")


def test_a_tampered_envelope_is_refused(keys):
    envelope = fieldcrypt.encrypt(NUMBER, purpose="id_number")
    body = envelope.split(":", 2)[2]
    flipped = body[:-2] + ("A" if body[-2] != "A" else "B") + body[-1]

    with pytest.raises(fieldcrypt.FieldDecryptionError):
        fieldcrypt.decrypt(f"e1:a:{flipped}", purpose="id_number")


def test_old_keys_still_decrypt_and_new_values_use_the_first_key(keys):
    old = fieldcrypt.encrypt(NUMBER, purpose="id_number")
    keys.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"

    assert fieldcrypt.decrypt(old, purpose="id_number") == NUMBER
    assert fieldcrypt.key_id(fieldcrypt.encrypt(NUMBER, purpose="id_number")) == "b"


def test_a_dropped_key_is_a_clear_error(keys):
    old = fieldcrypt.encrypt(NUMBER, purpose="id_number")
    keys.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B}"

    with pytest.raises(fieldcrypt.FieldDecryptionError, match="'a'"):
        fieldcrypt.decrypt(old, purpose="id_number")


def test_a_replaced_key_under_the_same_id_is_a_clear_error(keys):
    old = fieldcrypt.encrypt(NUMBER, purpose="id_number")
    keys.FIELD_ENCRYPTION_KEYS = f"a:{KEY_B}"

    with pytest.raises(fieldcrypt.FieldDecryptionError, match="与加密时不同"):
        fieldcrypt.decrypt(old, purpose="id_number")


def test_files_round_trip_with_a_header(keys):
    data = os.urandom(1000)

    sealed = fieldcrypt.encrypt_bytes(data, purpose="file")

    assert sealed.startswith(b"SQE1") and data not in sealed
    assert fieldcrypt.file_key_id(sealed) == "a"
    assert fieldcrypt.decrypt_bytes(sealed, purpose="file") == data


def test_blind_index_is_keyed_deterministic_and_per_purpose(keys):
    index = fieldcrypt.blind_index(NUMBER, purpose="id_number")

    assert index == fieldcrypt.blind_index(NUMBER, purpose="id_number")
    assert len(index) == 64 and NUMBER not in index
    assert index != fieldcrypt.blind_index("110105199001010029", purpose="id_number")
    assert index != fieldcrypt.blind_index(NUMBER, purpose="phone")
    # Another purpose (an event certificate's serialNumber) never matches the blind index.
    assert index != fieldcrypt.keyed_hash(NUMBER, purpose="certificate-serial")
    keys.FIELD_BLIND_INDEX_KEY = base64.b64encode(b"J" * 32).decode()
    assert index != fieldcrypt.blind_index(NUMBER, purpose="id_number")


def test_the_blind_index_does_not_depend_on_the_encryption_key(keys):
    index = fieldcrypt.blind_index(NUMBER, purpose="id_number")
    keys.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"

    assert fieldcrypt.blind_index(NUMBER, purpose="id_number") == index


@pytest.mark.parametrize(
    ("encryption", "index", "message"),
    [
        ("", INDEX_KEY, "FIELD_ENCRYPTION_KEYS 未设置"),
        (KEY_A, INDEX_KEY, "缺少密钥编号"),
        (f"a b:{KEY_A}", INDEX_KEY, "密钥编号 'a b' 无效"),
        (f"a:{KEY_A},a:{KEY_B}", INDEX_KEY, "重复"),
        (f"a:{KEY_A},b:{KEY_A}", INDEX_KEY, "同一个密钥"),
        ("a:not base64!", INDEX_KEY, "不是有效的 base64"),
        (f"a:{base64.b64encode(b'x' * 16).decode()}", INDEX_KEY, "16 字节"),
        (f"a:{KEY_A}", "", "FIELD_BLIND_INDEX_KEY 未设置"),
        (f"a:{KEY_A}", base64.b64encode(b"short").decode(), "FIELD_BLIND_INDEX_KEY解码后为 5 字节"),
        (f"a:{KEY_A}", KEY_A, "不能与 FIELD_ENCRYPTION_KEYS 中的任何密钥相同"),
    ],
)
def test_malformed_keys_are_a_clear_system_check_error(settings, encryption, index, message):
    settings.FIELD_ENCRYPTION_KEYS = encryption
    settings.FIELD_BLIND_INDEX_KEY = index

    errors = [e for e in run_checks(tags=[TAG]) if e.id == "shanqian.E101"]

    assert len(errors) == 1
    assert message in errors[0].msg


def test_urlsafe_base64_keys_are_accepted(settings):
    raw = bytes(range(200, 232))
    settings.FIELD_ENCRYPTION_KEYS = "k1:" + base64.urlsafe_b64encode(raw).decode().rstrip("=")
    settings.FIELD_BLIND_INDEX_KEY = INDEX_KEY

    assert fieldcrypt.load_keyring().keys["k1"] == raw


@pytest.mark.django_db  # the check also reads the stored envelopes (none here)
def test_development_keys_are_refused_without_debug(settings):
    settings.DEBUG = False
    settings.FIELD_ENCRYPTION_KEYS = settings._DEV_FIELD_ENCRYPTION_KEYS
    settings.FIELD_BLIND_INDEX_KEY = settings._DEV_FIELD_BLIND_INDEX_KEY

    ids = [e.id for e in run_checks(tags=[TAG])]

    assert ids.count("shanqian.E102") == 2


def test_the_keyring_never_shows_key_material(keys):
    ring = fieldcrypt.load_keyring()

    assert KEY_A not in repr(ring) and "AAAA" not in repr(ring)


ROOT = Path(__file__).resolve().parents[2]


def _run(args, **env):
    environment = {k: v for k, v in os.environ.items() if not k.startswith(("FIELD_", "DJANGO_DEBUG"))}
    environment.update(DJANGO_DEBUG="0", **env)
    return subprocess.run(
        [sys.executable, *args], cwd=ROOT, env=environment, capture_output=True, text=True, timeout=120
    )


def test_production_refuses_to_start_without_field_keys():
    result = _run(["manage.py", "check"])

    assert result.returncode != 0
    assert "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_a_malformed_key_at_start_up_is_a_system_check_error():
    result = _run(["manage.py", "check"], FIELD_ENCRYPTION_KEYS="k1:tooshort", FIELD_BLIND_INDEX_KEY=INDEX_KEY)

    assert result.returncode != 0
    assert "shanqian.E101" in result.stderr and "FIELD_ENCRYPTION_KEYS" in result.stderr


def test_the_wsgi_application_refuses_to_load_with_a_malformed_key():
    result = _run(["-c", "import shanqian.wsgi"], FIELD_ENCRYPTION_KEYS=f"k1:{KEY_A}", FIELD_BLIND_INDEX_KEY=KEY_A)

    assert result.returncode != 0
    assert "ImproperlyConfigured" in result.stderr and "shanqian.E101" in result.stderr
