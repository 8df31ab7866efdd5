"""``GET /api/dict/{dict_item}`` and ``GET /api/regions`` (SPEC §4.6, §4.13)."""

import pytest
from django.test import Client

from dictionaries.models import Dictionary, Region
from tests.envelope import assert_error
from tests.factories import AdminUserFactory, DictionaryFactory, RegionFactory
from tests.support.admin import search

pytestmark = pytest.mark.django_db


@pytest.fixture
def staff_client(db, settings):
    # The suite runs with DEBUG off; the admin's pages need static URLs without a collected manifest.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }
    admin = AdminUserFactory(is_superuser=True)
    client = Client()
    client.force_login(admin)
    return client


# --- /api/dict ------------------------------------------------------------------------------


def test_edu_type_in_display_order(user_api, dictionaries_seeded):
    response = user_api.get("/api/dict/Edu_Type")

    assert response.status_code == 200
    body = response.json()
    assert body["status"] == 0
    assert body["data"][0] == {"dict_key": "junior", "dict_value": "初中"}
    assert [entry["dict_key"] for entry in body["data"]] == [
        "junior",
        "senior",
        "secondary_vocational",
        "college",
        "bachelor",
        "master",
        "doctor",
    ]


def test_nation_lists_56_entries(user_api, dictionaries_seeded):
    data = user_api.get("/api/dict/Nation/").json()["data"]

    assert len(data) == 56
    assert data[0] == {"dict_key": "01", "dict_value": "汉族"}


def test_disabled_entries_are_hidden_and_sort_decides_order(user_api, db):
    DictionaryFactory(dict_item="Test", dict_key="b", dict_value="乙", sort=2)
    DictionaryFactory(dict_item="Test", dict_key="a", dict_value="甲", sort=3)
    DictionaryFactory(dict_item="Test", dict_key="c", dict_value="丙", sort=1)
    DictionaryFactory(dict_item="Test", dict_key="off", dict_value="停用", sort=0, enabled=False)

    data = user_api.get("/api/dict/Test").json()["data"]

    assert data == [
        {"dict_key": "c", "dict_value": "丙"},
        {"dict_key": "b", "dict_value": "乙"},
        {"dict_key": "a", "dict_value": "甲"},
    ]


@pytest.mark.parametrize("item", ["No_Such_Item", "edu_type", "Edu_Type%00", "%E5%AD%A6%E5%8E%86", "x" * 300])
def test_unknown_dictionary_is_40400(user_api, dictionaries_seeded, item):
    assert_error(user_api.get(f"/api/dict/{item}"), 404, 40400)


def test_dictionary_needs_a_login(api, dictionaries_seeded):
    assert_error(api.get("/api/dict/Edu_Type"), 401, 40100)


def test_dictionary_refuses_a_bad_token(api, dictionaries_seeded):
    api.credentials(HTTP_X_PLATFORM_CODE="demo", HTTP_X_AUTH_TOKEN="not-a-token")

    assert_error(api.get("/api/dict/Edu_Type"), 401, 40100)


def test_dictionary_is_read_only(user_api, dictionaries_seeded):
    assert_error(user_api.post("/api/dict/Edu_Type", {"dict_key": "x"}), 405, 40500)


def test_dictionary_query_count_does_not_grow_with_entries(user_api, django_assert_max_num_queries):
    Dictionary.objects.bulk_create(
        Dictionary(dict_item="Big", dict_key=f"k{n}", dict_value=f"值{n}", sort=n) for n in range(300)
    )

    with django_assert_max_num_queries(3):  # platform (cold cache), token, the dictionary table once
        first = user_api.get("/api/dict/Big")
    with django_assert_max_num_queries(1):  # the token only: the table is cached
        second = user_api.get("/api/dict/Big")

    assert len(first.json()["data"]) == 300
    assert second.json() == first.json()


def test_the_dictionary_is_cached(user_api, dictionaries_seeded):
    user_api.get("/api/dict/Edu_Type")
    # A raw UPDATE sends no signal: the cached answer stands, which shows the cache is used.
    Dictionary.objects.filter(dict_item="Edu_Type", dict_key="junior").update(dict_value="改了")

    assert user_api.get("/api/dict/Edu_Type").json()["data"][0]["dict_value"] == "初中"


def test_staff_editing_an_entry_in_the_admin_invalidates_the_cache(
    user_api, staff_client, dictionaries_seeded, django_capture_on_commit_callbacks
):
    assert user_api.get("/api/dict/Edu_Type").json()["data"][0]["dict_value"] == "初中"
    entry = Dictionary.objects.get(dict_item="Edu_Type", dict_key="junior")

    with django_capture_on_commit_callbacks(execute=True):
        response = staff_client.post(
            f"/admin/dictionaries/dictionary/{entry.pk}/change/",
            {
                "dict_item": "Edu_Type",
                "dict_key": "junior",
                "dict_value": "初级中学",
                "code": "70",
                "sort": 1,
                "enabled": "on",
            },
        )

    assert response.status_code == 302, response.content.decode()[:2000]
    assert user_api.get("/api/dict/Edu_Type").json()["data"][0] == {"dict_key": "junior", "dict_value": "初级中学"}


def test_disabling_and_deleting_entries_invalidate_the_cache(
    user_api, dictionaries_seeded, django_capture_on_commit_callbacks
):
    user_api.get("/api/dict/Gender")
    with django_capture_on_commit_callbacks(execute=True):
        unknown = Dictionary.objects.get(dict_item="Gender", dict_key="0")
        unknown.enabled = False
        unknown.save()
    assert [e["dict_key"] for e in user_api.get("/api/dict/Gender").json()["data"]] == ["1", "2"]

    with django_capture_on_commit_callbacks(execute=True):
        Dictionary.objects.filter(dict_item="Gender").delete()
    assert_error(user_api.get("/api/dict/Gender"), 404, 40400)


def test_a_new_dictionary_appears_once_staff_add_it(user_api, db, django_capture_on_commit_callbacks):
    assert_error(user_api.get("/api/dict/Shift"), 404, 40400)

    with django_capture_on_commit_callbacks(execute=True):
        Dictionary.objects.create(dict_item="Shift", dict_key="day", dict_value="白班")

    assert user_api.get("/api/dict/Shift").json()["data"] == [{"dict_key": "day", "dict_value": "白班"}]


# --- /api/regions -----------------------------------------------------------------------------


def test_provinces_without_parent(user_api, regions_seeded):
    data = user_api.get("/api/regions").json()["data"]

    assert len(data) >= 34
    assert data[0] == {"id": 110000, "name": "北京市"}
    assert [row["id"] for row in data] == sorted(row["id"] for row in data)
    assert all(set(row) == {"id", "name"} for row in data)


def test_empty_parent_id_means_provinces(user_api, regions_seeded):
    assert user_api.get("/api/regions?parent_id=").json()["data"][0] == {"id": 110000, "name": "北京市"}


def test_children_of_a_province_then_of_a_city(user_api, regions_seeded):
    assert user_api.get("/api/regions?parent_id=110000").json()["data"] == [{"id": 110100, "name": "北京市"}]

    counties = user_api.get("/api/regions/?parent_id=110100").json()["data"]
    assert counties[0] == {"id": 110101, "name": "东城区"}
    assert len(counties) == 16


def test_chongqing_shows_one_city(user_api, regions_seeded):
    assert user_api.get("/api/regions?parent_id=500000").json()["data"] == [{"id": 500100, "name": "重庆市"}]
    names = {row["name"] for row in user_api.get("/api/regions?parent_id=500100").json()["data"]}
    assert {"渝中区", "城口县", "秀山土家族苗族自治县"} <= names


@pytest.mark.parametrize("leaf", [441900, 110101])
def test_a_region_without_children_gives_an_empty_list(user_api, regions_seeded, leaf):
    response = user_api.get(f"/api/regions?parent_id={leaf}")

    assert response.status_code == 200
    assert response.json()["data"] == []


@pytest.mark.parametrize("parent", ["999999", "100000", "110200", "000000"])
def test_unknown_parent_is_40400_and_does_not_poison_the_province_list(user_api, regions_seeded, parent):
    assert_error(user_api.get(f"/api/regions?parent_id={parent}"), 404, 40400)
    assert_error(user_api.get(f"/api/regions?parent_id={parent}"), 404, 40400)

    assert user_api.get("/api/regions").json()["data"][0] == {"id": 110000, "name": "北京市"}


@pytest.mark.parametrize(
    "parent", ["abc", "11", "1100000", "-11000", "%EF%BC%91%EF%BC%91%EF%BC%90%EF%BC%90%EF%BC%90%EF%BC%90", "%FF"]
)
def test_malformed_parent_is_40000(user_api, regions_seeded, parent):
    body = assert_error(user_api.get(f"/api/regions?parent_id={parent}"), 400, 40000)

    assert "parent_id" in body["data"]["errors"]


def test_regions_need_a_login(api, regions_seeded):
    assert_error(api.get("/api/regions"), 401, 40100)


def test_region_query_count_does_not_grow_with_children(user_api, django_assert_max_num_queries):
    province = RegionFactory(id=330000, name="浙江省")
    Region.objects.bulk_create(
        Region(id=330100 + n * 100, name=f"城市{n}", parent=province, level=Region.Level.CITY) for n in range(99)
    )
    Region.objects.bulk_create(
        Region(id=330101 + n, name=f"区县{n}", parent_id=330100, level=Region.Level.COUNTY) for n in range(98)
    )
    Region.objects.bulk_create(
        Region(id=100000 + n * 10000, name=f"省{n}", level=Region.Level.PROVINCE) for n in range(1, 23)
    )

    with django_assert_max_num_queries(3):  # platform (cold cache), token, children
        cities = user_api.get("/api/regions?parent_id=330000")
    with django_assert_max_num_queries(2):
        counties = user_api.get("/api/regions?parent_id=330100")
    with django_assert_max_num_queries(1):  # cached: the token only
        user_api.get("/api/regions?parent_id=330100")

    assert len(cities.json()["data"]) == 99
    assert len(counties.json()["data"]) == 98


def test_region_changes_invalidate_the_cache(user_api, regions_seeded, django_capture_on_commit_callbacks):
    assert user_api.get("/api/regions?parent_id=110000").json()["data"][0]["name"] == "北京市"

    with django_capture_on_commit_callbacks(execute=True):
        city = Region.objects.get(id=110100)
        city.name = "北京城区"
        city.save()

    assert user_api.get("/api/regions?parent_id=110000").json()["data"] == [{"id": 110100, "name": "北京城区"}]


def test_reseeding_invalidates_the_region_cache(user_api, regions_seeded, django_capture_on_commit_callbacks):
    from dictionaries.services import region_rows_from_cpca, regions_sync

    Region.objects.filter(id=110101).update(name="旧名")
    assert user_api.get("/api/regions?parent_id=110100").json()["data"][0]["name"] == "旧名"

    with django_capture_on_commit_callbacks(execute=True):
        regions_sync(rows=region_rows_from_cpca())

    assert user_api.get("/api/regions?parent_id=110100").json()["data"][0]["name"] == "东城区"


def test_region_admin_is_read_only_but_searchable(staff_client, regions_seeded):
    response = search(staff_client, "/admin/dictionaries/region/", "东城")

    assert response.status_code == 200
    assert "东城区" in response.content.decode()
    assert staff_client.get("/admin/dictionaries/region/add/").status_code == 403
    assert staff_client.post("/admin/dictionaries/region/110101/delete/", {"post": "yes"}).status_code == 403
    assert Region.objects.filter(id=110101).exists()


def test_dictionary_admin_changelist_filters_by_item(staff_client, dictionaries_seeded):
    response = staff_client.get("/admin/dictionaries/dictionary/?dict_item=Nation")

    assert response.status_code == 200
    assert "基诺族" in response.content.decode()


def test_a_long_province_list_costs_the_same_queries(user_api, django_assert_max_num_queries):
    Region.objects.bulk_create(Region(id=100000 + n, name=f"地区{n}", level=Region.Level.PROVINCE) for n in range(500))

    with django_assert_max_num_queries(3):  # platform (cold cache), token, the roots
        response = user_api.get("/api/regions")

    assert len(response.json()["data"]) == 500
