"""Subscribe-template mappings: what is refused, and values cut to WeChat's limits."""

import datetime

import pytest
from django.core.exceptions import ValidationError

from signing.notifications import catalog
from signing.notifications.subscribe import clean_mapping, cut, message_data, parse_mapping_text


def errors_of(mapping, kind="approved") -> list[str]:
    with pytest.raises(ValidationError) as caught:
        clean_mapping(mapping, kind=kind)
    return caught.value.messages


def test_a_good_mapping_is_accepted():
    mapping = {
        "thing1": "company_name",
        "phrase2": "status_text",
        "time3": "event_time",
        "character_string4": "application_id",
    }
    assert clean_mapping(mapping, kind="approved") == mapping


def test_an_unknown_value_is_refused_with_the_choices():
    (message,) = errors_of({"thing1": "company_nmae"})
    assert "「thing1」的取值「company_nmae」未知" in message
    assert "company_name" in message


def test_a_key_that_is_not_a_wechat_key_is_refused():
    (message,) = errors_of({"title": "company_name"})
    assert "「title」不是微信订阅消息的字段名" in message


def test_a_value_the_kind_does_not_carry_is_refused():
    (message,) = errors_of({"thing1": "reason"}, kind="approved")
    assert message == "「thing1」的取值「驳回原因」（reason）不适用于「审核通过（请阅读并签署）」通知。"
    assert clean_mapping({"thing1": "reason"}, kind="rejected") == {"thing1": "reason"}


@pytest.mark.parametrize(
    ("key", "value"),
    [
        ("date2", "company_name"),
        ("phrase1", "entry_date"),
        ("character_string1", "company_name"),
        ("amount1", "work_pos"),
    ],
)
def test_a_value_whose_type_cannot_fill_the_key_is_refused(key, value):
    (message,) = errors_of({key: value})
    assert f"「{key}」是" in message and "不能填入" in message


def test_every_problem_is_reported_at_once():
    messages = errors_of({"thing1": "nope", "bogus": "company_name", "date3": "work_pos"})
    assert len(messages) == 3


@pytest.mark.parametrize("mapping", [{}, [], "thing1=company_name", None])
def test_an_empty_or_malformed_mapping_is_refused(mapping):
    assert errors_of(mapping)


def test_the_admin_text_form_is_parsed_and_bad_lines_named():
    assert parse_mapping_text("thing1 = company_name\n\n# 注释\nphrase2=status_text") == {
        "thing1": "company_name",
        "phrase2": "status_text",
    }
    with pytest.raises(ValidationError) as caught:
        parse_mapping_text("thing1 company_name\nthing2=work_pos\nthing2=tip")
    assert caught.value.messages == [
        "第 1 行「thing1 company_name」应写成 模板字段=取值，例如 thing1=company_name。",
        "第 3 行：模板字段 thing2 重复。",
    ]


@pytest.mark.parametrize(
    ("key", "text", "expected"),
    [
        ("thing1", "北京市朝阳区某某某某某科技发展股份有限公司第一分公司", "北京市朝阳区某某某某某科技发展股份有限…"),
        ("thing1", "甲科技有限公司", "甲科技有限公司"),
        ("name1", "欧阳娜娜娜娜娜娜娜娜娜娜", "欧阳娜娜娜娜娜娜娜…"),
        ("phrase2", "已签约 (3)", "已签约"),
        ("phrase2", "审核通过待签署", "审核通过待"),
        ("character_string3", "No. 12345 号", "No.12345"),
        ("number4", "12345", "12345"),
        ("thing5", "", "-"),
        ("thing6", "第一行\n第二行", "第一行 第二行"),
    ],
)
def test_values_are_cut_to_the_keys_rules(key, text, expected):
    assert cut(key, text) == expected
    assert len(cut(key, text)) <= {"thing": 20, "name": 10, "phrase": 5}.get(key.rstrip("0123456789"), 32)


def test_message_data_formats_dates_and_times_the_chinese_way():
    values = {
        "company_name": "甲科技有限公司",
        "entry_date": datetime.date(2027, 1, 4),
        "event_time": datetime.datetime(2026, 12, 1, 1, 30, tzinfo=datetime.UTC),
    }
    data = message_data({"thing1": "company_name", "date2": "entry_date", "time3": "event_time"}, values)
    assert data == {"thing1": "甲科技有限公司", "date2": "2027年1月4日", "time3": "2026年12月1日 09:30"}


def test_every_kind_has_a_tip_an_sms_text_and_params():
    for kind in catalog.WorkerNotice.values:
        values = {"company_name": "甲", "reason": "照片模糊", "end_date": datetime.date(2027, 1, 1)}
        text, params = catalog.sms_text_and_params(kind, values)
        assert text.startswith("【闪签云】") and "{" not in text
        # Every notice of an application names the employer; the person's own (deletion) ones none.
        assert ("甲" in text) is (kind not in catalog.PERSON_NOTICES), kind
        assert set(params) == set(catalog.SMS_PARAMS[kind])
        assert len(catalog.TIPS[kind]) <= 20
