"""The cached reads other apps use: dictionary keys and the region chain of an address."""

import pytest

from dictionaries.models import Dictionary
from dictionaries.selectors import dict_entries, dict_keys, dict_value, region_chain_check
from shanqian.errors import InvalidInput

pytestmark = pytest.mark.django_db


def test_dict_keys_are_the_enabled_keys(dictionaries_seeded):
    Dictionary.objects.filter(dict_item="Edu_Type", dict_key="doctor").update(enabled=False)

    assert dict_keys("Edu_Type") == {"junior", "senior", "secondary_vocational", "college", "bachelor", "master"}
    assert dict_keys("Nation") == {f"{n:02d}" for n in range(1, 57)}
    assert dict_keys("No_Such_Item") == set()


def test_dict_keys_are_served_from_the_cache(dictionaries_seeded, django_assert_num_queries):
    dict_keys("Nation")

    with django_assert_num_queries(0):
        assert "01" in dict_keys("Nation")
        assert dict_value("Edu_Type", "bachelor") == "本科"
        assert dict_entries("Gender")[0] == {"dict_key": "0", "dict_value": "未知"}


def test_dict_value_includes_disabled_entries_for_old_resumes(dictionaries_seeded):
    Dictionary.objects.filter(dict_item="Nation", dict_key="56").update(enabled=False)

    assert dict_value("Nation", "56") == "基诺族"
    assert dict_value("Nation", "99") is None


def test_a_dictionary_with_only_disabled_entries_exists_but_is_empty(db):
    Dictionary.objects.create(dict_item="Retired", dict_key="a", dict_value="甲", enabled=False)

    assert dict_entries("Retired") == []
    assert dict_entries("Missing") is None


# --- region_chain_check ----------------------------------------------------------------------


def messages(excinfo):
    return excinfo.value.data["errors"]


def test_a_nested_chain_returns_the_three_regions(regions_seeded, django_assert_num_queries):
    with django_assert_num_queries(1):
        province, city, county = region_chain_check(110000, 110100, 110101)

    assert (province.name, city.name, county.name) == ("北京市", "北京市", "东城区")


def test_digit_strings_are_accepted(regions_seeded):
    province, city, county = region_chain_check("440000", "440300", "440305")

    assert (province.id, city.id, county.id) == (440000, 440300, 440305)


@pytest.mark.parametrize("county", [None, ""])
def test_the_county_may_be_omitted_for_a_city_without_counties(regions_seeded, county):
    province, city, found = region_chain_check(440000, 441900, county)

    assert (province.name, city.name, found) == ("广东省", "东莞市", None)


def test_the_county_is_required_when_the_city_has_counties(regions_seeded):
    with pytest.raises(InvalidInput) as excinfo:
        region_chain_check(110000, 110100, None)

    assert messages(excinfo) == {"county_id": ["请选择区县。"]}


def test_a_city_of_another_province_is_refused(regions_seeded):
    with pytest.raises(InvalidInput) as excinfo:
        region_chain_check(110000, 440300, 440305)

    assert messages(excinfo) == {"city_id": ["城市不属于所选省份。"]}


def test_a_county_of_another_city_is_refused(regions_seeded):
    with pytest.raises(InvalidInput) as excinfo:
        region_chain_check(440000, 440300, 440104)

    assert messages(excinfo) == {"county_id": ["区县不属于所选城市。"]}


def test_levels_must_match_their_position(regions_seeded):
    with pytest.raises(InvalidInput) as excinfo:
        region_chain_check(110100, 110101, 110000)

    assert messages(excinfo) == {
        "province_id": ["省份不存在。"],
        "city_id": ["城市不存在。"],
        "county_id": ["区县不存在。"],
    }


@pytest.mark.parametrize("bad", ["abc", True, 12, 1234567, -110000, 11.0, "11000０"])
def test_malformed_codes_are_invalid(regions_seeded, bad):
    with pytest.raises(InvalidInput) as excinfo:
        region_chain_check(bad, 110100, 110101)

    assert messages(excinfo)["province_id"] == ["省份代码无效。"]


def test_missing_province_and_city_are_required(regions_seeded):
    with pytest.raises(InvalidInput) as excinfo:
        region_chain_check(None, "", None)

    assert messages(excinfo) == {"province_id": ["请选择省份。"], "city_id": ["请选择城市。"]}


def test_errors_use_the_callers_field_names(regions_seeded):
    with pytest.raises(InvalidInput) as excinfo:
        region_chain_check(110000, 440300, 999999, fields=("acct_prc_id", "acct_city_id", "acct_coy_id"))

    assert messages(excinfo) == {"acct_city_id": ["城市不属于所选省份。"], "acct_coy_id": ["区县不存在。"]}
