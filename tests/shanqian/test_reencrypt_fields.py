"""
``manage.py reencrypt_fields`` (key rotation, SPEC §13) and the start-up checks of the stored data:
every encrypted column and every encrypted file brought under the current key, in batches,
idempotently and resumably; the blind index kept (or rebuilt after its own key changes).
"""

import base64
import io

import pytest
from django.core.checks import run_checks
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.core.management import CommandError, call_command
from django.db import connection

from employees.models import Employee, RealnameVerification, Upload, WechatUser
from shanqian import fieldcrypt, reencrypt
from shanqian.fieldcrypt_checks import TAG
from tests.factories import PlatformFactory, UploadFactory, png_bytes

pytestmark = pytest.mark.django_db

KEY_A = base64.b64encode(b"a" * 32).decode()
KEY_B = base64.b64encode(b"b" * 32).decode()
INDEX_KEY = base64.b64encode(b"i" * 32).decode()
INDEX_KEY_2 = base64.b64encode(b"j" * 32).decode()


@pytest.fixture
def key_a(settings):
    settings.FIELD_ENCRYPTION_KEYS = f"a:{KEY_A}"
    settings.FIELD_BLIND_INDEX_KEY = INDEX_KEY
    return settings


def people(verifications: int, employees: int = 0) -> list[str]:
    """Rows with encrypted ID numbers, bulk-created (10,000 in a few seconds). Returns the numbers."""
    platform = PlatformFactory()
    users = WechatUser.objects.bulk_create(
        [WechatUser(platform=platform, openid=f"rot-{i}") for i in range(max(employees, 1))]
    )
    numbers = [f"11010519900101{i:04d}" for i in range(verifications)]
    RealnameVerification.objects.bulk_create(
        [RealnameVerification(user=users[0], real_name="张三", id_number=n, backend="manual") for n in numbers],
        batch_size=1000,
    )
    resumes = [f"22010519900101{i:04d}" for i in range(employees)]
    Employee.objects.bulk_create(
        [
            Employee(
                user=users[i],
                real_name="李四",
                phone=f"138{i:08d}",
                id_number=n,
                marital_sts=1,
                political_sts=3,
                acct_type=1,
            )
            for i, n in enumerate(resumes)
        ]
    )
    return numbers + resumes


def raw(model, *columns) -> list[tuple]:
    qn = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT {', '.join(qn(c) for c in columns)} FROM {qn(model._meta.db_table)} ORDER BY {qn('id')}"  # noqa: S608 (names, not values)
        )
        return cursor.fetchall()


def run(*args) -> str:
    out = io.StringIO()
    call_command("reencrypt_fields", *args, stdout=out)
    return out.getvalue()


def test_rotation_round_trips_10000_rows_and_the_old_key_can_then_go(key_a, caplog):
    numbers = people(10_000, employees=50)
    indexes_before = raw(RealnameVerification, "id_number_index") + raw(Employee, "id_number_index")
    assert {envelope[:5] for (envelope,) in raw(RealnameVerification, "id_number")} == {"e1:a:"}

    key_a.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"  # 1. the new key first, the old one kept
    with caplog.at_level("INFO"):
        out = run("--batch", "1000")  # 2. re-encrypt

    assert "employees.RealnameVerification.id_number: scanned=10000 reencrypted=10000 batches=10" in out
    assert "employees.Employee.id_number: scanned=50 reencrypted=50 batches=1" in out
    stored = raw(RealnameVerification, "id_number") + raw(Employee, "id_number")
    assert len(stored) == 10_050 and {envelope[:5] for (envelope,) in stored} == {"e1:b:"}
    # The blind index has a key of its own: unchanged by the rotation, exact search still finds.
    assert raw(RealnameVerification, "id_number_index") + raw(Employee, "id_number_index") == indexes_before
    # Counts only, never a value, in the output and the log.
    text = out + caplog.text
    assert not [n for n in numbers if n in text]

    key_a.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B}"  # 3. the old key removed
    assert [e.id for e in run_checks(tags=[TAG])] == []
    values = list(RealnameVerification.objects.values_list("id_number", flat=True))
    values += list(Employee.objects.values_list("id_number", flat=True))
    assert sorted(values) == sorted(numbers)
    assert RealnameVerification.objects.by_id_number(numbers[1234]).count() == 1
    assert Employee.objects.by_id_number(numbers[-1]).get().phone == "13800000049"

    again = run("--batch", "1000")  # idempotent: nothing left to write
    assert "employees.RealnameVerification.id_number: scanned=10000 reencrypted=0 batches=10" in again
    assert "done: 0 written under key b" in again


def test_an_interrupted_run_resumes_where_it_stopped(key_a, monkeypatch):
    people(300)
    key_a.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"
    real_decrypt, calls = fieldcrypt.decrypt, []

    def interrupted(*args, **kwargs):
        calls.append(1)
        if len(calls) == 150:  # in the middle of the second batch of 100
            raise KeyboardInterrupt
        return real_decrypt(*args, **kwargs)

    monkeypatch.setattr(fieldcrypt, "decrypt", interrupted)
    with pytest.raises(KeyboardInterrupt):
        run("--batch", "100")
    monkeypatch.setattr(fieldcrypt, "decrypt", real_decrypt)

    # The first batch committed, the second rolled back whole: no row half-written.
    prefixes = [envelope[:5] for (envelope,) in raw(RealnameVerification, "id_number")]
    assert prefixes.count("e1:b:") == 100 and prefixes.count("e1:a:") == 200

    out = run("--batch", "100")
    assert "employees.RealnameVerification.id_number: scanned=300 reencrypted=200 batches=3" in out
    assert {envelope[:5] for (envelope,) in raw(RealnameVerification, "id_number")} == {"e1:b:"}


@pytest.mark.parametrize("rows", [400, 1000])
def test_each_batch_costs_the_same_queries_whatever_the_row_count(key_a, rows, django_assert_num_queries):
    people(rows)
    key_a.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"
    field = RealnameVerification._meta.get_field("id_number")
    batches = rows // 100

    # Per batch: SAVEPOINT, SELECT … FOR UPDATE of 100 raw envelopes, one UPDATE of all 100, RELEASE;
    # then one last (empty) SELECT in its savepoint.
    with django_assert_num_queries(4 * batches + 3):
        counts = reencrypt.reencrypt_column(RealnameVerification, field, batch=100)

    assert (counts.scanned, counts.reencrypted, counts.batches) == (rows, rows, batches)


def test_a_dropped_old_key_is_a_start_up_error_naming_the_key_and_no_value(key_a):
    numbers = people(3)
    key_a.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B}"  # removed before reencrypt_fields ran

    errors = [e for e in run_checks(tags=[TAG]) if e.id == "shanqian.E103"]

    assert errors and "RealnameVerification.id_number" in errors[0].msg and "'a'" in errors[0].msg
    assert "旧密钥在重新加密完成前不能删除" in errors[0].hint
    assert not [n for n in numbers if n in errors[0].msg]
    with pytest.raises(CommandError, match="'a'"):
        run()


def test_a_wrong_key_under_the_old_id_is_a_start_up_error(key_a):
    people(2)
    key_a.FIELD_ENCRYPTION_KEYS = f"a:{KEY_B}"

    errors = [e for e in run_checks(tags=[TAG]) if e.id == "shanqian.E103"]

    assert errors and "与加密时不同" in errors[0].msg


def test_a_changed_blind_index_key_is_found_at_start_up_and_rebuilt_by_the_command(key_a):
    numbers = people(250, employees=3)
    key_a.FIELD_BLIND_INDEX_KEY = INDEX_KEY_2

    assert "shanqian.E104" in [e.id for e in run_checks(tags=[TAG])]
    assert not RealnameVerification.objects.by_id_number(numbers[7]).exists()

    out = run("--rebuild-index", "--batch", "100")

    assert "employees.RealnameVerification.id_number: scanned=250 reencrypted=0 index_rebuilt=250 batches=3" in out
    assert [e.id for e in run_checks(tags=[TAG])] == []
    assert RealnameVerification.objects.by_id_number(numbers[7]).count() == 1
    assert Employee.objects.by_id_number(numbers[-1]).count() == 1
    assert "index_rebuilt" not in run("--rebuild-index", "--batch", "100")  # idempotent


def test_batch_must_be_positive(key_a):
    with pytest.raises(CommandError, match="--batch"):
        run("--batch", "0")


# --- files ------------------------------------------------------------------------------------------


def test_plain_files_of_before_are_encrypted_and_old_key_files_re_encrypted(key_a):
    plain = png_bytes((30, 20))
    # An upload stored before encryption at rest: written straight to the storage, plain.
    current = UploadFactory()
    name = default_storage.save("uploads/aa/legacy.png", ContentFile(plain))
    legacy = Upload.objects.create(
        owner=current.owner, file=name, format="PNG", size=len(plain), width=30, height=20, sha256="-"
    )
    missing = UploadFactory()
    default_storage.delete(missing.file.name)

    out = run()

    assert "employees.Upload.file: scanned=3 reencrypted=0 encrypted=1 missing=1 batches=1" in out
    stored = default_storage.open(legacy.file.name).read()
    assert stored.startswith(b"SQE1") and plain not in stored
    assert Upload.objects.get(pk=legacy.pk).file.name == "uploads/aa/legacy.png"  # same name, same links
    assert legacy.file.storage.open(legacy.file.name).read() == plain
    assert "employees.Upload.file: scanned=3 reencrypted=0 missing=1 batches=1" in run()  # idempotent

    key_a.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"
    assert "scanned=3 reencrypted=2 missing=1" in run()
    key_a.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B}"
    for upload in (legacy, current):
        data = default_storage.open(upload.file.name).read()
        assert fieldcrypt.file_key_id(data) == "b"
        assert upload.file.storage.open(upload.file.name).read()[:8] == b"\x89PNG\r\n\x1a\n"


def test_a_file_whose_row_goes_while_it_is_rewritten_is_not_left_behind(key_a, monkeypatch):
    upload = UploadFactory()
    key_a.FIELD_ENCRYPTION_KEYS = f"b:{KEY_B},a:{KEY_A}"
    storage = upload.file.storage
    rewrite = type(storage).replace_raw

    def deleted_meanwhile(self, name, data):
        storage.delete(name)  # a deletion request executed between the read and the rewrite
        Upload.objects.filter(pk=upload.pk).delete()
        rewrite(self, name, data)

    monkeypatch.setattr(type(storage), "replace_raw", deleted_meanwhile)
    run()

    assert not default_storage.exists(upload.file.name)
