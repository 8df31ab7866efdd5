"""The term arithmetic and art. 19 (劳动合同法) of ``contracts.terms``: pure functions, no database."""

import datetime

import pytest

from contracts.terms import TermType, probation_cap, probation_end, term_end, validate_terms

D = datetime.date


@pytest.mark.parametrize(
    ("start", "years", "end"),
    [
        (D(2026, 3, 1), 3, D(2029, 2, 28)),
        (D(2028, 2, 29), 1, D(2029, 2, 27)),  # dateutil: 2029-02-28 is the anniversary; the term ends the day before
        (D(2026, 1, 1), 1, D(2026, 12, 31)),
        (D(2026, 1, 1), 0, None),
    ],
)
def test_term_end_is_start_plus_years_minus_one_day(start, years, end):
    assert term_end(start, years) == end


@pytest.mark.parametrize(
    ("term_type", "end", "cap"),
    [
        (TermType.FIXED, D(2026, 3, 30), 0),  # a day short of three months
        (TermType.FIXED, D(2026, 3, 31), 1),  # 2026-01-01 … 2026-03-31: three whole months, 三个月以上
        (TermType.FIXED, D(2026, 12, 30), 1),
        (TermType.FIXED, D(2026, 12, 31), 2),  # one full year
        (TermType.FIXED, D(2028, 12, 30), 2),
        (TermType.FIXED, D(2028, 12, 31), 6),  # three full years
        (TermType.OPEN_ENDED, None, 6),
        (TermType.TASK, D(2030, 1, 1), 0),
        (TermType.TASK, None, 0),
    ],
)
def test_article_19_caps_by_term(term_type, end, cap):
    assert probation_cap(term_type, D(2026, 1, 1), end) == cap


def test_probation_end_is_the_day_before_the_month_anniversary():
    assert probation_end(D(2026, 1, 31), 1) == D(2026, 2, 27)
    assert probation_end(D(2026, 3, 1), 6) == D(2026, 8, 31)
    assert probation_end(D(2026, 3, 1), 0) is None


def test_defaults_follow_the_template_the_company_address_and_the_standard_system():
    terms, errors = validate_terms(entry_date=D(2026, 3, 1), sign_year=3, default_work_location="北京市朝阳区")

    assert errors == {}
    assert terms.as_fields() == {
        "term_type": "fixed",
        "entry_date": D(2026, 3, 1),
        "end_date": D(2029, 2, 28),
        "probation_months": 0,
        "probation_end": None,
        "working_hours": "standard",
        "work_location": "北京市朝阳区",
    }


def test_a_template_of_zero_years_is_open_ended_with_six_months_allowed():
    terms, errors = validate_terms(entry_date=D(2026, 3, 1), sign_year=0, probation_months=6, work_location="上海")

    assert errors == {}
    assert (terms.term_type, terms.end_date, terms.probation_end) == ("open_ended", None, D(2026, 8, 31))


@pytest.mark.parametrize(
    ("kwargs", "field", "message"),
    [
        ({"sign_year": 1, "end_date": D(2026, 12, 31), "probation_months": 2}, "probation_months", "不得超过一个月"),
        ({"sign_year": 2, "probation_months": 3}, "probation_months", "试用期不得超过二个月"),
        ({"sign_year": 3, "probation_months": 7}, "probation_months", "0 到 6 的整数"),
        ({"sign_year": 3, "term_type": "task", "probation_months": 1}, "probation_months", "不得约定试用期"),
        ({"sign_year": 3, "end_date": D(2026, 5, 1), "probation_months": 1}, "probation_months", "不满三个月"),
        ({"sign_year": 3, "probation_months": "1.5"}, "probation_months", "整数"),
        ({"sign_year": 3, "probation_months": True}, "probation_months", "整数"),
        ({"sign_year": 3, "probation_months": 1, "probation_used_before": True}, "probation_months", "只能约定一次"),
        ({"sign_year": 3, "end_date": D(2026, 2, 1)}, "end_date", "不能早于入职日期"),
        ({"sign_year": 0, "term_type": "fixed"}, "end_date", "请填写合同终止日期"),
        ({"sign_year": 3, "term_type": "open_ended", "end_date": D(2030, 1, 1)}, "end_date", "请留空"),
        ({"sign_year": 3, "term_type": "forever"}, "term_type", "合同期限类型"),
        ({"sign_year": 3, "working_hours": "996"}, "working_hours", "工时制度"),
        ({"sign_year": 3, "work_location": "  "}, "work_location", "请填写工作地点"),
        ({"sign_year": 3, "work_location": "地" * 129}, "work_location", "128"),
        ({"sign_year": 3, "work_location": 5}, "work_location", "文本"),
    ],
)
def test_bad_terms_are_named_in_chinese(kwargs, field, message):
    terms, errors = validate_terms(entry_date=D(2026, 3, 1), **{"work_location": "北京", **kwargs})

    assert terms is None
    assert list(errors) == [field]
    assert message in errors[field][0]


def test_a_task_contract_may_name_an_expected_end_and_takes_no_probation():
    terms, errors = validate_terms(
        entry_date=D(2026, 3, 1), sign_year=3, term_type="task", end_date=D(2026, 9, 30), work_location="工地"
    )

    assert errors == {}
    assert (terms.term_type, terms.end_date, terms.probation_months) == ("task", D(2026, 9, 30), 0)
