"""
ID numbers at rest (SPEC §13): no column holds the plain number, the blind index serves uniqueness
and exact search, and the data migration converts (and reverts) existing rows on every database.
"""

import datetime
import io
from pathlib import Path

import pytest
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from PIL import Image, UnidentifiedImageError

from employees.models import Employee, RealnameVerification, id_number_index
from employees.services.realname import realname_submit
from shanqian import fieldcrypt
from tests import test_flow_signing
from tests.factories import ID_NUMBER, EmployeeFactory, UploadFactory, WechatUserFactory, make_id_number

OTHER_NUMBER = make_id_number(address="310104", sequence=777)


def _raw(model, field, pk):
    table, column = model._meta.db_table, model._meta.get_field(field).column
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        cursor.execute(f"SELECT {quote(column)} FROM {quote(table)} WHERE {quote('id')} = %s", [pk])  # noqa: S608 (identifiers from the model)
        return cursor.fetchone()[0]


def _as_text(value) -> str:
    if isinstance(value, memoryview):
        value = value.tobytes()
    if isinstance(value, bytes):
        return value.decode("latin-1")
    return value if isinstance(value, str) else ""


def tables_holding(*needles: str) -> list[str]:
    """Every ``table.column`` of the database whose stored value contains one of ``needles``."""
    found = []
    quote = connection.ops.quote_name
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            columns = [c.name for c in connection.introspection.get_table_description(cursor, table)]
            cursor.execute(f"SELECT * FROM {quote(table)}")  # noqa: S608 (names from introspection)
            for row in cursor.fetchall():
                for column, value in zip(columns, row, strict=True):
                    text = _as_text(value)
                    found.extend(f"{table}.{column}" for needle in needles if needle in text)
    return sorted(set(found))


@pytest.mark.django_db
def test_after_a_full_flow_no_column_holds_a_plain_id_number(platform, settings):
    # The whole mini-program flow, login to sealed contract (its own module's gateways).
    settings.WECHAT_BACKEND, settings.SMS_BACKEND, settings.SMS_PHONE_INTERVAL = "wechat", "file", 0
    test_flow_signing.test_from_wechat_login_to_a_verified_sealed_contract(platform)
    # And a real-name submission, which copies the number.
    user = WechatUserFactory(platform=platform)
    EmployeeFactory(
        user=user,
        id_number=OTHER_NUMBER,
        id_card_front=UploadFactory(owner=user),
        id_card_back=UploadFactory(owner=user),
    )
    realname_submit(user=user)
    assert Employee.objects.by_id_number(ID_NUMBER).get().id_number == ID_NUMBER
    assert RealnameVerification.objects.by_id_number(OTHER_NUMBER).get().id_number == OTHER_NUMBER

    assert tables_holding(ID_NUMBER, OTHER_NUMBER) == []
    # The scan can see: the phone (stored plain, searched by staff) is found where it is.
    assert "employees_employee.phone" in tables_holding(test_flow_signing.PHONE)
    # The scan can fail: the numbers are there, as ciphertext the keys open.
    assert fieldcrypt.is_envelope(_raw(Employee, "id_number", Employee.objects.by_id_number(ID_NUMBER).get().pk))

    # Files in storage: every ID-card photo is ciphertext, no stored file holds a photo's plain bytes,
    # and the plain number is only in the contract's PDFs, where the law wants it.
    files = {p: p.read_bytes() for p in Path(settings.MEDIA_ROOT).rglob("*") if p.is_file()}
    photos = [u for e in Employee.objects.all() for u in (e.id_card_front, e.id_card_back) if u is not None]
    assert len(photos) == 4
    for photo in photos:
        plain, stored = photo.file.open().read(), files[Path(settings.MEDIA_ROOT, photo.file.name)]
        assert stored[:4] == b"SQE1" and Image.open(io.BytesIO(plain)).size
        with pytest.raises(UnidentifiedImageError):
            Image.open(io.BytesIO(stored))
        chunk = plain[len(plain) // 2 : len(plain) // 2 + 64]
        assert [p for p, data in files.items() if chunk in data] == []
    holding = sorted(
        str(p.relative_to(settings.MEDIA_ROOT))
        for p, data in files.items()
        if any(n.encode() in data or n.encode("utf-16-be") in data for n in (ID_NUMBER, OTHER_NUMBER))
    )
    assert all(name.endswith(".pdf") for name in holding), holding


@pytest.mark.django_db
def test_the_column_holds_an_envelope_and_the_index_is_keyed():
    employee = EmployeeFactory(id_number=ID_NUMBER)

    stored = _raw(Employee, "id_number", employee.pk)
    assert fieldcrypt.is_envelope(stored) and ID_NUMBER not in stored
    assert fieldcrypt.decrypt(stored, purpose="id_number") == ID_NUMBER
    assert _raw(Employee, "id_number_index", employee.pk) == id_number_index(ID_NUMBER) != ID_NUMBER
    assert Employee.objects.get(pk=employee.pk).id_number == ID_NUMBER
    assert Employee.objects.values_list("id_number", flat=True).get(pk=employee.pk) == ID_NUMBER


@pytest.mark.django_db
def test_lookups_go_through_the_blind_index():
    from django.core.exceptions import FieldError

    employee = EmployeeFactory(id_number=ID_NUMBER)

    assert list(Employee.objects.by_id_number(ID_NUMBER.lower())) == [employee]
    assert list(Employee.objects.by_id_number(f" {ID_NUMBER} ")) == [employee]
    assert not Employee.objects.by_id_number(OTHER_NUMBER).exists()
    with pytest.raises(FieldError, match="盲索引"):
        Employee.objects.filter(id_number=ID_NUMBER).exists()


@pytest.mark.django_db
def test_a_changed_number_moves_its_index():
    employee = EmployeeFactory(id_number=ID_NUMBER)
    employee.id_number = OTHER_NUMBER
    employee.save()

    assert Employee.objects.by_id_number(OTHER_NUMBER).get() == employee
    assert not Employee.objects.by_id_number(ID_NUMBER).exists()
    with pytest.raises(ValueError, match="id_number_index"):
        employee.save(update_fields=["id_number"])


@pytest.mark.django_db(transaction=True)
def test_the_data_migration_converts_existing_rows_and_back():
    before, after = [("employees", "0003_consent")], [("employees", "0004_id_number_encrypted")]
    executor = MigrationExecutor(connection)
    executor.migrate(before)
    old = executor.loader.project_state(before).apps
    Platform = old.get_model("shanqian", "Platform")
    User = old.get_model("employees", "WechatUser")
    OldEmployee = old.get_model("employees", "Employee")
    OldVerification = old.get_model("employees", "RealnameVerification")
    platform = Platform.objects.create(code="mig", name="迁移")
    numbers = [  # more than two batches
        make_id_number(sequence=n % 1000, birth=datetime.date(1990, 1, 1) + datetime.timedelta(days=n // 1000))
        for n in range(1, 2502)
    ]
    users = User.objects.bulk_create(User(platform=platform, openid=f"o-{n}") for n in range(len(numbers)))
    OldEmployee.objects.bulk_create(
        OldEmployee(
            user=user,
            real_name="旧",
            phone="13800000000",
            id_number=number,
            marital_sts=1,
            political_sts=3,
            acct_type=1,
        )
        for user, number in zip(users, numbers, strict=True)
    )
    OldVerification.objects.create(user=users[0], real_name="旧", id_number=numbers[0], backend="manual")

    executor = MigrationExecutor(connection)
    executor.migrate(after)
    try:
        assert tables_holding(numbers[0], numbers[-1]) == []
        assert Employee.objects.count() == len(numbers)
        assert Employee.objects.by_id_number(numbers[-1]).get().id_number == numbers[-1]
        assert RealnameVerification.objects.by_id_number(numbers[0]).get().id_number == numbers[0]
        assert sorted(Employee.objects.values_list("id_number", flat=True)) == sorted(numbers)

        executor = MigrationExecutor(connection)
        executor.migrate(before)
        executor.loader.build_graph()
        with connection.cursor() as cursor:
            cursor.execute("SELECT id_number FROM employees_employee ORDER BY id")
            assert [row[0] for row in cursor.fetchall()] == numbers
    finally:
        executor = MigrationExecutor(connection)
        executor.migrate(executor.loader.graph.leaf_nodes())
