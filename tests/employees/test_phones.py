"""employees.phones: one mobile pattern, and the contact pattern built from it."""

import pytest

from employees.phones import is_contact_phone, is_mobile


@pytest.mark.parametrize("value", ["13800138000", "19912345678"])
def test_mobiles_are_mobiles_and_contact_phones(value):
    assert is_mobile(value)
    assert is_contact_phone(value)


@pytest.mark.parametrize("value", ["010-12345678", "075512345678", "0571-8888888-123"])
def test_landlines_are_contact_phones_only(value):
    assert is_contact_phone(value)
    assert not is_mobile(value)


@pytest.mark.parametrize(
    "value",
    ["", "12800138000", "1380013800", "138001380000", "13800138000\n", "010-123", "+8613800138000", None, 13800138000],
)
def test_anything_else_is_neither(value):
    assert not is_mobile(value)
    assert not is_contact_phone(value)
