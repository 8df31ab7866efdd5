"""
Issue 15, finding 11: names took bidi and zero-width characters (U+202E, U+200B, the BOM) into
the back office and the contract PDF. Every endpoint that takes a name refuses them with 400/40000
and a Chinese message naming the field, and writes nothing (the one validator, ``shanqian.text``).
"""

import re

import pytest

from employees.models import Employee, RealnameVerification, VerifyStatus, WechatUser
from tests.envelope import assert_error
from tests.factories import EmployeeFactory, UploadFactory, bracket_form, resume_payload, row_counts

URL = "/api/employee"

# U+202E right-to-left override, U+200B zero-width space, U+FEFF BOM, U+2066 left-to-right isolate.
HOSTILE = {"rlo": "\u202e", "zwsp": "\u200b", "bom": "\ufeff", "lri": "\u2066"}
NAME_FIELDS = ("real_name", "em_contact_name")
CHINESE = re.compile(r"[\u4e00-\u9fff]")


def hostile(value: str, char: str) -> str:
    return value[:1] + char + value[1:]


def assert_refused_at(response, field: str) -> None:
    body = assert_error(response, 400, 40000)
    assert CHINESE.search(body["msg"]), body
    messages = body["data"]["errors"][field]
    assert messages and all(CHINESE.search(m) for m in messages), body


def send(user_api, how: str, payload: dict):
    if how == "json":
        return user_api.post(URL, payload, format="json")
    return user_api.generic("POST", URL, bracket_form(payload), content_type="application/x-www-form-urlencoded")


@pytest.mark.parametrize("how", ["json", "form"])
@pytest.mark.parametrize("field", NAME_FIELDS)
@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_post_refuses_a_name_with_the_character_and_writes_nothing(user_api, world, how, field, char):
    payload = resume_payload(world, user_api.user)
    payload[field] = hostile(payload[field], char)
    before = row_counts()

    assert_refused_at(send(user_api, how, payload), field)

    assert row_counts() == before
    assert not Employee.objects.filter(user=user_api.user).exists()


@pytest.mark.parametrize("field", NAME_FIELDS)
@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_put_refuses_a_name_with_the_character_and_keeps_the_stored_resume(user_api, world, field, char):
    assert user_api.post(URL, resume_payload(world, user_api.user), format="json").status_code == 200
    stored = Employee.objects.values().get(user=user_api.user)
    payload = resume_payload(world, user_api.user, with_code=False, addr="新地址 8 号")
    payload[field] = hostile("王五", char)
    before = row_counts()

    assert_refused_at(user_api.put(URL, payload, format="json"), field)

    assert row_counts() == before
    assert Employee.objects.values().get(user=user_api.user) == stored


@pytest.mark.parametrize("method", ["post", "put"])
@pytest.mark.parametrize("field", ["addr", "acct_addr", "em_contact_relationship"])
@pytest.mark.parametrize("char", ["\u202e", "\u2066"], ids=["rlo", "lri"])
def test_addresses_and_the_relationship_refuse_bidi_controls(user_api, world, method, field, char):
    if method == "put":
        assert user_api.post(URL, resume_payload(world, user_api.user), format="json").status_code == 200
    payload = resume_payload(world, user_api.user, with_code=method == "post")
    payload[field] = hostile("东城区 1 号", char)
    before = row_counts()

    assert_refused_at(getattr(user_api, method)(URL, payload, format="json"), field)

    assert row_counts() == before


@pytest.mark.parametrize("char", HOSTILE.values(), ids=HOSTILE.keys())
def test_realname_refuses_a_stored_name_with_the_character(user_api, char):
    # A resume written before the check (the seed's data): the name never reaches a verification.
    user = user_api.user
    photos = {"id_card_front": UploadFactory(owner=user), "id_card_back": UploadFactory(owner=user)}
    employee = EmployeeFactory(user=user, **photos)
    Employee.objects.filter(pk=employee.pk).update(real_name=hostile("张三", char))

    assert_refused_at(user_api.post("/api/realname"), "real_name")

    assert not RealnameVerification.objects.exists()
    assert WechatUser.objects.get(pk=user.pk).verify_status == VerifyStatus.PENDING
