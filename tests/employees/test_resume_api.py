"""POST / PUT / GET /api/employee (SPEC §4.3–4.5, §5.1) through the real URL configuration."""

import datetime
import json

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from dictionaries.selectors import dict_keys
from employees.idcard import make_id_number, parse_id_number
from employees.models import Employee, SmsCode, Upload
from employees.tokens import issue_token
from employees.uploads import upload_url
from signing.models import SignApplication, SignEvent, SignStatus
from signing.services import resume_submission
from tests.envelope import assert_error
from tests.factories import (
    ID_NUMBER,
    AdminUserFactory,
    HandlerFactory,
    SignApplicationFactory,
    UploadFactory,
    WechatUserFactory,
    bracket_form,
    disable,
    resume_payload,
    row_counts,
    sms_code,
)

pytestmark = pytest.mark.django_db

URL = "/api/employee"


def error_at(errors, *path):
    node = errors
    for step in path:
        assert isinstance(node, (dict, list)), (path, errors)
        node = node[step]
    if isinstance(node, dict) and set(node) == {"non_field_errors"}:
        node = node["non_field_errors"]  # an array-level error (missing, empty, not an array)
    assert isinstance(node, list) and node and all(isinstance(m, str) and m for m in node), (path, errors)
    return node


def post_form(client, body: bytes, method="POST"):
    return client.generic(method, URL, body, content_type="application/x-www-form-urlencoded")


# --- POST: the happy paths --------------------------------------------------------------------------


def test_post_json_creates_the_resume_rows_and_a_pending_application(user_api, world):
    payload = resume_payload(world, user_api.user)

    response = user_api.post(
        URL, payload, format="json", HTTP_X_LOCATION="116.397128-39.916527", HTTP_X_CITY="%E5%8C%97%E4%BA%AC"
    )

    assert response.status_code == 200, response.json()
    assert response.json() == {"status": 0, "msg": "", "data": None, "error_code": 0}
    employee = Employee.objects.get(user=user_api.user)
    assert employee.real_name == "张三"
    assert employee.id_number == ID_NUMBER
    assert (employee.gender, employee.age) == (1, parse_id_number(ID_NUMBER).age_on(timezone.localdate()))
    assert (employee.acct_prc_name, employee.acct_city_name, employee.acct_coy_name) == ("北京市", "北京市", "东城区")
    assert (employee.province_name, employee.city_name, employee.county_name) == ("广东省", "广州市", "天河区")
    assert employee.id_card_front.owner == user_api.user
    assert [e.school for e in employee.educations.all()] == ["北京大学", "清华大学"]
    assert employee.educations.get(school="北京大学").end_date == datetime.date(2016, 7, 1)
    assert employee.work_exps.get(company_name="另一家公司").end_date is None
    application = SignApplication.objects.get(em=employee)
    assert (application.status, application.company, application.work_pos, application.ad_user) == (
        SignStatus.APPLIED,
        world.company,
        "前台",
        world.handler,
    )
    event = SignEvent.objects.get(application=application)
    assert (event.kind, event.from_status, event.to_status, event.actor_user) == ("transition", None, 1, user_api.user)
    assert event.ip == "127.0.0.1" and event.city == "北京" and str(event.lng) == "116.397128"
    assert SmsCode.objects.get().used_at is not None


def test_post_query_count_does_not_grow_with_rows(user_api, world, django_assert_max_num_queries):
    payload = resume_payload(world, user_api.user)
    payload["employee_edu"] = [{**payload["employee_edu"][0], "school": f"学校{i}"} for i in range(8)]
    payload["work_exp"] = [{**payload["work_exp"][0], "company_name": f"公司{i}"} for i in range(8)]

    user_api.get("/api/companies")  # warms the platform cache, as any earlier request would
    dict_keys("Nation")  # and the cached dictionary table (no query once warm)

    # token+user, the consent gate (SPEC §13),
    # resume exists?, regions, 2 photos, position+company, handler, ID number free?, SMS code
    # and the atomic claim of one try (issue 15, finding 3);
    # then begin, lock user, resume exists?, 3 inserts, consume code, application, event, commit
    # (a savepoint and its release inside the test's transaction);
    # the handler's notice as an outbox row of that transaction: the application's context,
    # the platform's webhooks, the 企业微信 robots and one insert.
    with django_assert_max_num_queries(25):
        response = user_api.post(URL, payload, format="json")

    assert response.status_code == 200, response.json()
    employee = Employee.objects.get(user=user_api.user)
    assert employee.educations.count() == 8 and employee.work_exps.count() == 8
    assert SignApplication.objects.get(em=employee).status == SignStatus.APPLIED


def test_post_form_in_bracket_notation(user_api, world):
    payload = resume_payload(world, user_api.user)

    response = post_form(user_api, bracket_form(payload))

    assert response.status_code == 200, response.json()
    employee = Employee.objects.get(user=user_api.user)
    assert employee.educations.count() == 2 and employee.work_exps.count() == 2


def test_post_form_with_arrays_as_json_strings(user_api, world):
    payload = resume_payload(world, user_api.user)
    payload["employee_edu"] = json.dumps(payload["employee_edu"], ensure_ascii=False)
    payload["work_exp"] = json.dumps(payload["work_exp"], ensure_ascii=False)

    response = user_api.post(URL, payload)

    assert response.status_code == 200, response.json()
    assert Employee.objects.get(user=user_api.user).work_exps.count() == 2


def test_post_multipart_in_bracket_notation(user_api, world):
    payload = resume_payload(world, user_api.user, work_exp=[])
    flat = {}
    for key, value in payload.items():
        if key == "employee_edu":
            for i, item in enumerate(value):
                flat.update({f"employee_edu[{i}][{k}]": v for k, v in item.items()})
        elif key == "work_exp":
            flat[key] = "[]"
        else:
            flat[key] = value

    response = user_api.post(URL, flat, format="multipart")

    assert response.status_code == 200, response.json()


@pytest.mark.parametrize("encoding", ["json", "form"])
def test_explicit_empty_work_exp_means_first_job(user_api, world, encoding):
    payload = resume_payload(world, user_api.user, work_exp=[])

    if encoding == "json":
        response = user_api.post(URL, payload, format="json")
    else:
        response = user_api.post(
            URL, {**payload, "employee_edu": json.dumps(payload["employee_edu"]), "work_exp": "[]"}
        )

    assert response.status_code == 200, response.json()
    assert Employee.objects.get(user=user_api.user).work_exps.count() == 0


def test_client_sent_region_names_are_ignored(user_api, world):
    payload = resume_payload(world, user_api.user, acct_prc_name="火星", city_name="不存在市", county_name="x" * 500)

    assert user_api.post(URL, payload, format="json").status_code == 200

    employee = Employee.objects.get()
    assert (employee.acct_prc_name, employee.city_name, employee.county_name) == ("北京市", "广州市", "天河区")


def test_age_and_gender_sent_by_the_client_are_accepted_when_they_agree(user_api, world):
    employee_age = 30
    birth = timezone.localdate().replace(year=timezone.localdate().year - employee_age) - datetime.timedelta(days=1)
    number = make_id_number(birth=birth, sequence=2)  # even sequence: female
    payload = resume_payload(world, user_api.user, id_number=number.lower(), age=employee_age, gender=2)

    assert user_api.post(URL, payload, format="json").status_code == 200

    employee = Employee.objects.get()
    assert (employee.age, employee.gender, employee.id_number) == (employee_age, 2, number.upper())


def test_region_chains_are_optional_and_county_only_when_the_city_has_none(user_api, world):
    r = world.regions
    payload = resume_payload(world, user_api.user, acct_prc_id=r["hk"].id, province_id=r["gd"].id, city_id=r["dg"].id)
    del payload["acct_city_id"], payload["acct_coy_id"], payload["county_id"]

    assert user_api.post(URL, payload, format="json").status_code == 200

    employee = Employee.objects.get()
    assert (employee.acct_prc_name, employee.acct_city, employee.acct_coy) == ("香港特别行政区", None, None)
    assert (employee.city_name, employee.county, employee.county_name) == ("东莞市", None, "")


def test_optional_fields_may_be_empty_strings(user_api, world):
    blanks = dict.fromkeys(
        [
            "nation",
            "acct_prc_id",
            "acct_city_id",
            "acct_coy_id",
            "province_id",
            "city_id",
            "county_id",
            "acct_addr",
            "addr",
            "em_contact_name",
            "em_contact_phone",
            "em_contact_relationship",
            "id_card_front",
            "id_card_back",
        ],
        "",
    )
    payload = resume_payload(world, user_api.user, **blanks)

    response = post_form(user_api, bracket_form(payload))

    assert response.status_code == 200, response.json()
    employee = Employee.objects.get()
    assert employee.id_card_front is None and employee.province is None and employee.nation == ""


# --- POST: refusals --------------------------------------------------------------------------------


def test_second_post_is_409_and_changes_nothing(user_api, world):
    assert user_api.post(URL, resume_payload(world, user_api.user), format="json").status_code == 200
    before = row_counts()

    response = user_api.post(URL, resume_payload(world, user_api.user, real_name="李四"), format="json")

    assert_error(response, 409, 40900)
    assert row_counts() == before
    assert Employee.objects.get().real_name == "张三"


def test_wrong_sms_code_is_42201_and_writes_nothing(user_api, world):
    payload = resume_payload(world, user_api.user)
    payload["sms_code"] = "000000" if payload["sms_code"] != "000000" else "111111"
    before = row_counts()

    assert_error(user_api.post(URL, payload, format="json"), 422, 42201)

    assert row_counts() == before
    assert SmsCode.objects.get().failed_tries == 1


def test_sms_code_sent_to_another_phone_is_42201(user_api, world):
    payload = resume_payload(world, user_api.user, sms_code=sms_code("13700137000"))

    assert_error(user_api.post(URL, payload, format="json"), 422, 42201)
    assert not Employee.objects.exists()


def test_sms_code_is_single_use(platform, world):
    first, second = WechatUserFactory(platform=platform), WechatUserFactory(platform=platform)
    clients = []
    for user in (first, second):
        client = APIClient()
        client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=user))
        clients.append(client)
    payload = resume_payload(world, first)
    assert clients[0].post(URL, payload, format="json").status_code == 200

    other = resume_payload(
        world, second, with_code=False, sms_code=payload["sms_code"], id_number=make_id_number(sequence=7)
    )

    assert_error(clients[1].post(URL, other, format="json"), 422, 42201)


def test_id_number_held_by_another_user_is_409_and_the_code_stays_usable(user_api, platform, world):
    from tests.factories import EmployeeFactory

    EmployeeFactory(user=WechatUserFactory(platform=platform), id_number=ID_NUMBER)
    payload = resume_payload(world, user_api.user)
    before = row_counts()

    assert_error(user_api.post(URL, payload, format="json"), 409, 40900)

    assert row_counts() == before
    assert SmsCode.objects.get().used_at is None


def test_anonymous_post_is_40100(api, world):
    assert_error(api.post(URL, {}, format="json"), 401, 40100)


def _edu(**over):
    return {"edu_type": "bachelor", "school": "北大", "start_date": "2012-09", "end_date": "2016-07", **over}


def _work(**over):
    return {"company_name": "某公司", "work_pos": "工程师", "start_date": "2019-08", "end_date": "", **over}


def _future_id_number():
    return make_id_number(birth=timezone.localdate() + datetime.timedelta(days=2))


def _bad_checksum():
    good = make_id_number(sequence=5)
    return good[:17] + ("0" if good[17] != "0" else "1")


INVALID = [
    # (case id, overrides — a callable (world, user) -> dict for data-dependent ones, error path)
    ("id-checksum", lambda w, u: {"id_number": _bad_checksum()}, ("id_number",)),
    ("id-17-digits", {"id_number": "11010519491231002"}, ("id_number",)),
    ("id-15-digits", {"id_number": "110105491231002"}, ("id_number",)),
    ("id-future-birth", lambda w, u: {"id_number": _future_id_number()}, ("id_number",)),
    (
        "id-impossible-birth",
        {"id_number": make_id_number(birth=datetime.date(1990, 1, 1)).replace("19900101", "19900231")},
        ("id_number",),
    ),
    ("age-mismatch", {"age": 3}, ("age",)),
    ("gender-mismatch", {"gender": 2}, ("gender",)),
    ("gender-bad", {"gender": 7}, ("gender",)),
    ("nation-unknown", {"nation": "57"}, ("nation",)),
    ("nation-disabled", {"nation": "99"}, ("nation",)),
    # Free text ≤ 32 (SPEC §5.1, issue 15): only its length is refused.
    ("relationship-too-long", {"em_contact_relationship": "亲" * 33}, ("em_contact_relationship",)),
    ("edu-type-unknown", {"employee_edu": [_edu(), _edu(edu_type="phd")]}, ("employee_edu", 1, "edu_type")),
    (
        "acct-city-not-in-province",
        lambda w, u: {"acct_city_id": w.regions["gz"].id, "acct_coy_id": w.regions["tianhe"].id},
        ("acct_city_id",),
    ),
    ("county-not-in-city", lambda w, u: {"county_id": w.regions["dongcheng"].id}, ("county_id",)),
    ("county-missing-where-city-has-counties", {"county_id": ""}, ("county_id",)),
    ("city-missing-below-province", {"acct_city_id": None, "acct_coy_id": None}, ("acct_city_id",)),
    ("county-without-city", {"city_id": None}, ("city_id",)),
    (
        "province-is-a-city",
        lambda w, u: {"province_id": w.regions["bj_city"].id, "city_id": None, "county_id": None},
        ("province_id",),
    ),
    ("region-unknown", {"acct_prc_id": 990000}, ("acct_prc_id",)),
    ("region-not-a-number", {"acct_prc_id": "北京"}, ("acct_prc_id",)),
    ("region-huge", {"acct_prc_id": 10**30}, ("acct_prc_id",)),
    ("upload-of-someone-else", lambda w, u: {"id_card_front": upload_url(UploadFactory())}, ("id_card_front",)),
    ("upload-forged-url", {"id_card_back": "https://evil.example.com/files/abc"}, ("id_card_back",)),
    ("phone-bad", {"phone": "12345", "sms_code": "123456"}, ("phone",)),
    ("contact-phone-same", {"em_contact_phone": "13800138000"}, ("em_contact_phone",)),
    ("contact-phone-bad", {"em_contact_phone": "call me"}, ("em_contact_phone",)),
    (
        "edu-end-before-start",
        {"employee_edu": [_edu(), _edu(start_date="2016-09", end_date="2016-08-31")]},
        ("employee_edu", 1, "end_date"),
    ),
    (
        "edu-start-in-future",
        {"employee_edu": [_edu(start_date="2999-01", end_date="2999-02")]},
        ("employee_edu", 0, "start_date"),
    ),
    ("edu-date-format", {"employee_edu": [_edu(start_date="2012/09")]}, ("employee_edu", 0, "start_date")),
    ("edu-date-impossible", {"employee_edu": [_edu(end_date="2016-13")]}, ("employee_edu", 0, "end_date")),
    (
        "edu-missing-school",
        {"employee_edu": [{"edu_type": "bachelor", "start_date": "2012-09", "end_date": "2016-07"}]},
        ("employee_edu", 0, "school"),
    ),
    ("work-end-before-start", {"work_exp": [_work(end_date="2019-07")]}, ("work_exp", 0, "end_date")),
    ("work-missing-company", {"work_exp": [_work(company_name="")]}, ("work_exp", 0, "company_name")),
    ("edu-missing", {"employee_edu": None}, ("employee_edu",)),
    ("edu-empty", {"employee_edu": []}, ("employee_edu",)),
    ("edu-not-an-array", {"employee_edu": {"school": "北大"}}, ("employee_edu",)),
    ("edu-bad-json-string", {"employee_edu": "[{"}, ("employee_edu",)),
    ("edu-too-many", {"employee_edu": [_edu()] * 31}, ("employee_edu",)),
    ("edu-item-not-an-object", {"employee_edu": ["北大"]}, ("employee_edu", 0)),
    ("work-missing", {"work_exp": None}, ("work_exp",)),
    ("real-name-missing", {"real_name": ""}, ("real_name",)),
    ("real-name-a-list", {"real_name": ["张三"]}, ("real_name",)),
    ("real-name-an-object", {"real_name": {"a": 1}}, ("real_name",)),
    ("real-name-10000-chars", {"real_name": "张" * 10_000}, ("real_name",)),
    ("real-name-control-chars", {"real_name": "张\x00三"}, ("real_name",)),
    ("real-name-bidi-override", {"real_name": "\u202e三张"}, ("real_name",)),
    ("real-name-bidi-isolate", {"real_name": "张\u2066三\u2069"}, ("real_name",)),
    ("real-name-zero-width-space", {"real_name": "张\u200b三"}, ("real_name",)),
    ("real-name-zero-width-joiner", {"real_name": "张\u200d三"}, ("real_name",)),
    ("real-name-bom", {"real_name": "\ufeff张三"}, ("real_name",)),
    ("contact-name-zero-width", {"em_contact_name": "李\u2060四"}, ("em_contact_name",)),
    ("addr-bidi-override", {"addr": "东城区\u202e号 1 街"}, ("addr",)),
    ("description-bidi-mark", {"work_exp": [_work(description="司机\u200f")]}, ("work_exp", 0, "description")),
    ("addr-10000-chars", {"addr": "路" * 10_000}, ("addr",)),
    ("school-10000-chars", {"employee_edu": [_edu(school="校" * 10_000)]}, ("employee_edu", 0, "school")),
    ("description-10000-chars", {"work_exp": [_work(description="x" * 10_000)]}, ("work_exp", 0, "description")),
    ("marital-unknown", {"marital_sts": 9}, ("marital_sts",)),
    ("political-not-a-number", {"political_sts": "党员"}, ("political_sts",)),
    ("acct-type-bool", {"acct_type": [1]}, ("acct_type",)),
    ("age-not-a-number", {"age": "三十"}, ("age",)),
    ("company-unknown", {"company_id": 987654}, ("company_id",)),
    ("company-not-a-number", {"company_id": "abc"}, ("company_id",)),
    ("company-disabled", lambda w, u: {"company_id": disable(w.company2).pk, "work_pos": "司机"}, ("company_id",)),
    ("position-of-another-company", {"work_pos": "司机"}, ("work_pos",)),
    ("position-disabled", lambda w, u: {"work_pos": disable(w.other_position).name}, ("work_pos",)),
    ("handler-unknown", {"ad_user_id": 987654}, ("ad_user_id",)),
    ("handler-not-in-group", lambda w, u: {"ad_user_id": AdminUserFactory().pk}, ("ad_user_id",)),
    ("handler-inactive", lambda w, u: {"ad_user_id": HandlerFactory(is_active=False).pk}, ("ad_user_id",)),
    ("sms-code-missing", {"sms_code": ""}, ("sms_code",)),
]


@pytest.mark.parametrize(("overrides", "path"), [pytest.param(o, p, id=i) for i, o, p in INVALID])
def test_invalid_field_is_reported_at_its_path_and_nothing_is_written(user_api, world, overrides, path):
    payload = resume_payload(world, user_api.user)
    if callable(overrides):
        overrides = overrides(world, user_api.user)
    for key, value in overrides.items():
        if value is None:
            payload.pop(key, None)
        else:
            payload[key] = value
    before = row_counts()

    response = user_api.post(URL, payload, format="json")

    body = assert_error(response, 400, 40000)
    error_at(body["data"]["errors"], *path)
    assert row_counts() == before


def test_zero_width_characters_stay_allowed_outside_names(user_api, world):
    # U+200D joins an emoji sequence; only names refuse zero-width characters (shanqian.text).
    description = "负责 App 开发 👩\u200d💻"
    payload = resume_payload(world, user_api.user, work_exp=[_work(description=description)])

    response = user_api.post(URL, payload, format="json")

    assert response.status_code == 200, response.json()
    employee = Employee.objects.get(user=user_api.user)
    assert [w.description for w in employee.work_exps.all()] == [description]


def test_every_bad_field_is_reported_at_once(user_api, world):
    payload = resume_payload(
        world, user_api.user, nation="xx", county_id=world.regions["xicheng"].id, company_id=987654, ad_user_id=987654
    )

    errors = assert_error(user_api.post(URL, payload, format="json"), 400, 40000)["data"]["errors"]

    assert {"nation", "county_id", "company_id", "ad_user_id"} <= set(errors)


def test_invalid_utf8_in_a_form_body_is_a_field_error(user_api, world):
    payload = resume_payload(world, user_api.user)
    payload["real_name"] = "PLACEHOLDER"
    body = bracket_form(payload).replace(b"PLACEHOLDER", b"%FF%FE")
    raw = bracket_form({**payload, "addr": "PLACEHOLDER"}).replace(b"PLACEHOLDER", b"\xff\xfe")
    before = row_counts()

    errors = assert_error(post_form(user_api, body), 400, 40000)["data"]["errors"]
    raw_errors = assert_error(post_form(user_api, raw), 400, 40000)["data"]["errors"]

    assert error_at(errors, "real_name")
    assert error_at(raw_errors, "addr")
    assert row_counts() == before


def test_invalid_utf8_in_a_json_body_is_40000(user_api, world):
    response = user_api.generic("POST", URL, b'{"real_name": "\xff"}', content_type="application/json")

    assert_error(response, 400, 40000)
    assert not Employee.objects.exists()


def test_form_array_in_bracket_notation_reports_item_errors(user_api, world):
    payload = resume_payload(world, user_api.user)
    payload["employee_edu"][1]["end_date"] = "2010-01"

    errors = assert_error(post_form(user_api, bracket_form(payload)), 400, 40000)["data"]["errors"]

    assert errors["employee_edu"][0] == {}
    error_at(errors, "employee_edu", 1, "end_date")


# --- PUT ----------------------------------------------------------------------------------------------


@pytest.fixture
def submitted(user_api, world):
    """A user whose resume was submitted through the API (application in status 1)."""
    response = user_api.post(URL, resume_payload(world, user_api.user), format="json")
    assert response.status_code == 200, response.json()
    return Employee.objects.get(user=user_api.user)


def set_status(employee, status):
    SignApplication.objects.filter(em=employee).update(status=status)


def test_put_replaces_the_whole_resume_and_its_rows(user_api, world, submitted):
    old_edu_ids = set(submitted.educations.values_list("id", flat=True))
    payload = resume_payload(
        world,
        user_api.user,
        with_code=False,
        real_name="张三丰",
        addr="",
        employee_edu=[_edu(school="复旦大学")],
        work_exp=[],
    )
    del payload["id_card_back"]

    response = user_api.put(URL, payload, format="json")

    assert response.status_code == 200, response.json()
    assert response.json()["data"] is None
    employee = Employee.objects.get(pk=submitted.pk)
    assert (employee.real_name, employee.addr, employee.id_card_back) == ("张三丰", "", None)
    assert list(employee.educations.values_list("school", flat=True)) == ["复旦大学"]
    assert not old_edu_ids & set(employee.educations.values_list("id", flat=True))
    assert employee.work_exps.count() == 0
    assert SignApplication.objects.filter(em=employee).count() == 1


def test_put_with_a_new_phone_needs_a_code(user_api, world, submitted):
    payload = resume_payload(world, user_api.user, phone="13600136000", with_code=False, em_contact_phone="13900139000")

    errors = assert_error(user_api.put(URL, payload, format="json"), 400, 40000)["data"]["errors"]
    error_at(errors, "sms_code")

    payload["sms_code"] = "000000" if sms_code("13600136000") != "000000" else "111111"
    assert_error(user_api.put(URL, payload, format="json"), 422, 42201)
    assert Employee.objects.get().phone == "13800138000"

    payload["sms_code"] = sms_code("13600136000")
    assert user_api.put(URL, payload, format="json").status_code == 200
    assert Employee.objects.get().phone == "13600136000"
    assert SmsCode.objects.get(phone="13600136000", used_at__isnull=False)


def test_put_while_pending_moves_the_application_to_the_new_choice(user_api, world, submitted):
    application = SignApplication.objects.get(em=submitted)
    payload = resume_payload(
        world,
        user_api.user,
        with_code=False,
        company_id=world.company2.pk,
        work_pos="司机",
        ad_user_id=world.handler2.pk,
    )

    assert user_api.put(URL, payload, format="json").status_code == 200

    application.refresh_from_db()
    assert (application.status, application.company, application.work_pos, application.ad_user) == (
        SignStatus.APPLIED,
        world.company2,
        "司机",
        world.handler2,
    )
    assert SignApplication.objects.filter(em=submitted).count() == 1
    note = SignEvent.objects.get(application=application, kind=SignEvent.Kind.NOTE)
    assert "第二测试用人单位有限公司" in note.note and "司机" in note.note and "王专员" in note.note
    assert note.actor_user == user_api.user


def test_put_while_pending_without_a_new_choice_writes_no_note(user_api, world, submitted):
    payload = resume_payload(world, user_api.user, with_code=False, real_name="张三丰")

    assert user_api.put(URL, payload, format="json").status_code == 200

    assert not SignEvent.objects.filter(kind=SignEvent.Kind.NOTE).exists()


@pytest.mark.parametrize("status", [SignStatus.AWAITING_SIGNATURE, SignStatus.SIGNED])
def test_put_is_409_while_awaiting_signature_or_signed(user_api, world, submitted, status):
    set_status(submitted, status)
    before = row_counts()

    response = user_api.put(URL, resume_payload(world, user_api.user, real_name="改名"), format="json")

    assert_error(response, 409, 40900)
    assert row_counts() == before
    assert Employee.objects.get().real_name == "张三"


def test_put_409_comes_before_field_errors(user_api, world, submitted):
    set_status(submitted, SignStatus.AWAITING_SIGNATURE)

    assert_error(user_api.put(URL, {"real_name": ""}, format="json"), 409, 40900)


@pytest.mark.parametrize("status", [SignStatus.REJECTED, SignStatus.CANCELLED])
def test_put_after_reject_or_cancel_opens_a_new_application(user_api, world, submitted, status):
    set_status(submitted, status)
    old = SignApplication.objects.get(em=submitted)

    response = user_api.put(URL, resume_payload(world, user_api.user, with_code=False), format="json")

    assert response.status_code == 200, response.json()
    applications = list(SignApplication.objects.filter(em=submitted).order_by("id"))
    assert [a.status for a in applications] == [status, SignStatus.APPLIED]
    assert applications[0].pk == old.pk
    assert SignEvent.objects.filter(application=applications[1], to_status=SignStatus.APPLIED).count() == 1


def test_put_without_a_resume_is_404(user_api, world):
    assert_error(user_api.put(URL, resume_payload(world, user_api.user), format="json"), 404, 40400)


def test_put_with_a_bad_field_leaves_the_resume_untouched(user_api, world, submitted):
    before = row_counts()
    payload = resume_payload(
        world, user_api.user, with_code=False, real_name="新名字", work_exp=[_work(end_date="2000-01")]
    )

    errors = assert_error(user_api.put(URL, payload, format="json"), 400, 40000)["data"]["errors"]

    error_at(errors, "work_exp", 0, "end_date")
    assert row_counts() == before
    assert Employee.objects.get().real_name == "张三"


def test_a_failure_inside_the_put_transaction_rolls_everything_back(user_api, world, submitted, monkeypatch):
    from shanqian.errors import SmsCodeInvalid

    def spent_meanwhile(row):
        raise SmsCodeInvalid("短信验证码已被使用，请重新获取")

    monkeypatch.setattr("signing.services.resume_submission.sms_code_consume", spent_meanwhile)
    before = row_counts()
    edu_ids = sorted(submitted.educations.values_list("id", flat=True))
    payload = resume_payload(
        world,
        user_api.user,
        phone="13600136000",
        real_name="新名字",
        company_id=world.company2.pk,
        work_pos="司机",
        employee_edu=[_edu(school="复旦大学")],
    )

    assert_error(user_api.put(URL, payload, format="json"), 422, 42201)

    assert row_counts() == before
    employee = Employee.objects.get()
    assert (employee.real_name, employee.phone) == ("张三", "13800138000")
    assert sorted(employee.educations.values_list("id", flat=True)) == edu_ids
    assert SignApplication.objects.get().company == world.company


def test_put_with_an_id_number_held_by_another_user_is_409(user_api, platform, world, submitted):
    from tests.factories import EmployeeFactory

    taken = make_id_number(sequence=77)
    EmployeeFactory(user=WechatUserFactory(platform=platform), id_number=taken)

    response = user_api.put(URL, resume_payload(world, user_api.user, with_code=False, id_number=taken), format="json")

    assert_error(response, 409, 40900)
    assert Employee.objects.get(pk=submitted.pk).id_number == ID_NUMBER


def test_put_keeping_ones_own_id_number_is_fine(user_api, world, submitted):
    payload = resume_payload(world, user_api.user, with_code=False, id_number=ID_NUMBER.lower())

    assert user_api.put(URL, payload, format="json").status_code == 200


def test_put_accepts_the_resume_as_get_returned_it(user_api, world, submitted):
    resume = user_api.get(URL).json()["data"]
    resume["real_name"] = "张三丰"
    front = submitted.id_card_front_id

    response = user_api.put(URL, resume, format="json")

    assert response.status_code == 200, response.json()
    employee = Employee.objects.get()
    assert (employee.real_name, employee.id_card_front_id) == ("张三丰", front)
    assert employee.work_exps.get(company_name="另一家公司").end_date is None


def test_put_in_bracket_notation(user_api, world, submitted):
    payload = resume_payload(world, user_api.user, with_code=False, real_name="表单改名")

    response = post_form(user_api, bracket_form(payload), method="PUT")

    assert response.status_code == 200, response.json()
    assert Employee.objects.get().real_name == "表单改名"


# --- GET ----------------------------------------------------------------------------------------------


def test_get_without_a_resume_is_404(user_api):
    assert_error(user_api.get(URL), 404, 40400)


def test_get_returns_the_resume_with_rows_choice_and_fresh_photo_links(user_api, world, submitted):
    response = user_api.get(URL)

    assert response.status_code == 200
    assert response["Cache-Control"] == "no-store"
    data = response.json()["data"]
    assert data["id"] == submitted.pk
    assert data["real_name"] == "张三" and data["id_number"] == ID_NUMBER and data["gender"] == 1
    assert data["nation"] == "01" and data["em_contact_relationship"] == "parent"
    assert (data["acct_prc_id"], data["acct_prc_name"], data["county_name"]) == (110000, "北京市", "天河区")
    assert data["company_id"] == world.company.pk
    assert data["company"] == {"id": world.company.pk, "company_name": "闪签测试科技有限公司"}
    assert data["work_pos"] == "前台"
    assert data["ad_user_id"] == world.handler.pk
    assert data["ad_user"] == {"id": world.handler.pk, "name": "李专员"}
    assert data["employee_edu"][0] == {
        "edu_type": "bachelor",
        "school": "北京大学",
        "major": "法学",
        "start_date": "2012-09-01",
        "end_date": "2016-07-01",
    }
    assert data["work_exp"][1]["end_date"] is None
    assert data["id_card_front"].startswith("http://testserver/files/")
    photo = user_api.get(data["id_card_front"])
    assert photo.status_code == 200 and photo["Content-Type"] == "image/png"


@pytest.mark.parametrize("with_application", [True, False])
def test_get_renders_exactly_what_the_documented_serializer_would(user_api, world, submitted, with_application):
    """The view returns the selector's dict as is; ResumeOutSerializer documents it and must agree with it."""
    from employees.serializers import ResumeOutSerializer
    from signing.selectors import resume_of_user

    if not with_application:
        SignApplication.objects.filter(em=submitted).delete()
        Employee.objects.filter(pk=submitted.pk).update(id_card_back=None)
    data = resume_of_user(user=user_api.user)

    assert data == dict(ResumeOutSerializer(data).data)
    assert json.loads(json.dumps(data)) == data  # nothing left for the renderer to coerce (dates are strings)
    response = user_api.get(URL).json()["data"]
    assert set(response) == set(ResumeOutSerializer().fields)
    assert response["employee_edu"] == data["employee_edu"] and response["work_exp"][1]["end_date"] is None
    if not with_application:
        assert (response["company"], response["ad_user"], response["work_pos"]) == (None, None, "")
        assert response["id_card_back"] == "" and response["id_card_front"]


def test_get_shows_only_ones_own_resume(platform, world, submitted):
    stranger = WechatUserFactory(platform=platform)
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=issue_token(user=stranger))

    assert_error(client.get(URL), 404, 40400)


@pytest.mark.parametrize(("rows", "applications"), [(1, 1), (30, 20)])
def test_get_query_count_does_not_grow_with_rows_or_applications(
    user_api, world, rows, applications, django_assert_max_num_queries
):
    from tests.factories import EmployeeEducationFactory, EmployeeFactory, WorkExperienceFactory

    employee = EmployeeFactory(
        user=user_api.user,
        id_card_front=UploadFactory(owner=user_api.user),
        id_card_back=UploadFactory(owner=user_api.user),
    )
    EmployeeEducationFactory.create_batch(rows, employee=employee)
    WorkExperienceFactory.create_batch(rows, employee=employee)
    for _ in range(applications - 1):
        SignApplicationFactory(em=employee, company=world.company2, ad_user=world.handler2, status=SignStatus.REJECTED)
    latest = SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler)

    # token+user, platform (cold cache), employee+photos, educations, work rows, latest application+company+handler
    with django_assert_max_num_queries(6):
        response = user_api.get(URL)

    data = response.json()["data"]
    assert len(data["employee_edu"]) == rows and len(data["work_exp"]) == rows
    assert data["company"]["id"] == world.company.pk and data["ad_user"]["id"] == latest.ad_user_id


HOSTILE_BODIES = [
    ("application/json", "null"),
    ("application/json", "[]"),
    ("application/json", '"resume"'),
    ("application/json", '{"employee_edu": 5, "work_exp": "[]"}'),
    ("application/json", '{"employee_edu": [null], "work_exp": [null]}'),
    ("application/json", '{"employee_edu": [[1]], "work_exp": [{"start_date": 2020}]}'),
    ("application/json", '{"age": 1e400, "company_id": true, "gender": [], "acct_prc_id": -5}'),
    ("application/x-www-form-urlencoded", "employee_edu[0]=abc&employee_edu[0][school]=x"),
    ("application/x-www-form-urlencoded", "employee_edu[999][school]=x"),
    ("application/x-www-form-urlencoded", "work_exp[]=&employee_edu[]=a"),
    ("application/x-www-form-urlencoded", "%5B=1"),
]


@pytest.mark.parametrize(("content_type", "body"), HOSTILE_BODIES)
def test_hostile_bodies_are_40000_for_post_and_put(user_api, world, content_type, body):
    assert_error(user_api.generic("POST", URL, body.encode(), content_type=content_type), 400, 40000)
    assert not Employee.objects.exists()

    user_api.post(URL, resume_payload(world, user_api.user), format="json")
    before = row_counts()
    assert_error(user_api.generic("PUT", URL, body.encode(), content_type=content_type), 400, 40000)
    assert row_counts() == before


def test_get_of_a_resume_with_every_part_filled_is_pinned_at_its_query_count(
    user_api, world, django_assert_num_queries
):
    """
    Encryption at rest costs no query: the ID number decrypts in ``from_db_value`` of the row already
    read, and the photos' links are signed from the names that row joins in. Pinned exactly with
    every part filled — both photos, all six regions, the emergency contact, two education and two
    work rows, an application with its company and handler.
    """
    assert user_api.post(URL, resume_payload(world, user_api.user), format="json").json()["status"] == 0
    user_api.get(URL)  # the platform memo warm, as for every request after the first

    # token+user, employee+photos, educations, work rows, latest application+company+handler
    with django_assert_num_queries(5):
        response = user_api.get(URL)

    data = response.json()["data"]
    assert data["id_number"] == resume_payload(world, user_api.user, with_code=False)["id_number"]
    assert data["id_card_front"].split("/files/")[1] and data["id_card_back"].split("/files/")[1]
    assert len(data["employee_edu"]) == 2 and len(data["work_exp"]) == 2 and data["company"]["id"] == world.company.pk
    assert data["em_contact_phone"] == "13900139000" and data["county_id"] == world.regions["tianhe"].id


@pytest.mark.django_db(transaction=True)
def test_a_photo_purged_while_the_resume_is_saved_is_a_clear_400_and_nothing_is_written(user_api, world, monkeypatch):
    payload = resume_payload(world, user_api.user)
    clean = resume_submission._clean

    def purged_meanwhile(**kwargs):
        # The daily purge of unused uploads commits between the resume's checks and its write.
        resume, choice = clean(**kwargs)
        Upload.objects.filter(pk=resume.fields["id_card_front"].pk).delete()
        return resume, choice

    monkeypatch.setattr(resume_submission, "_clean", purged_meanwhile)
    before = row_counts()

    response = user_api.post(URL, payload, format="json")

    body = assert_error(response, 400, 40000)
    assert error_at(body["data"]["errors"], "id_card_front") == ["图片已失效，请重新上传"]
    assert row_counts() == before  # no resume, no application, the SMS code not spent
