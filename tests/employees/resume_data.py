"""
Reference data and request bodies for resume tests (shared by tests/employees, tests/signing and the flow test).

``make_world()`` builds dictionaries, a small region tree, a company with
positions, handlers and contract templates with factories — it does not depend on
the ``seed_dictionaries`` command. ``resume_payload(world, user)`` returns a
valid JSON body for that user (with fresh uploads and SMS code).
"""

import datetime
from dataclasses import dataclass, field
from urllib.parse import urlencode

from contracts.models import EnabledStatus
from employees.idcard import make_id_number
from employees.models import (
    Employee,
    EmployeeEducation,
    SmsCode,
    SmsPurpose,
    WechatUser,
    WorkExperience,
)
from employees.otp import sms_code_create
from employees.uploads import upload_url
from signing.models import SignApplication, SignEvent
from tests.factories import (
    AdminUserFactory,
    CompanyFactory,
    ContractFactory,
    DictionaryFactory,
    HandlerFactory,
    RegionFactory,
    UploadFactory,
    WorkPositionFactory,
)

ID_NUMBER = make_id_number(address="110105", birth=datetime.date(1994, 6, 15), sequence=123)  # male


def region(id, name, parent=None, level=1):
    return RegionFactory(id=id, name=name, parent=parent, level=level)


@dataclass
class World:
    company: object
    position: object
    other_position: object
    company2: object
    position2: object
    handler: object
    handler2: object
    contract: object
    contract2: object
    regions: dict = field(default_factory=dict)


def make_world() -> World:
    for key, value in (("01", "汉族"), ("02", "蒙古族"), ("03", "回族")):
        DictionaryFactory(dict_item="Nation", dict_key=key, dict_value=value)
    DictionaryFactory(dict_item="Nation", dict_key="99", dict_value="停用族", enabled=False)
    for key, value in (("junior", "初中"), ("bachelor", "本科"), ("master", "硕士研究生")):
        DictionaryFactory(dict_item="Edu_Type", dict_key=key, dict_value=value)
    for key, value in (("parent", "父母"), ("spouse", "配偶"), ("friend", "朋友")):
        DictionaryFactory(dict_item="Relationship", dict_key=key, dict_value=value)

    bj = region(110000, "北京市")
    bj_city = region(110100, "北京市", bj, 2)
    gd = region(440000, "广东省")
    gz = region(440100, "广州市", gd, 2)
    dg = region(441900, "东莞市", gd, 2)  # no county level
    hk = region(810000, "香港特别行政区")  # no children at all
    regions = {
        "bj": bj,
        "bj_city": bj_city,
        "dongcheng": region(110101, "东城区", bj_city, 3),
        "xicheng": region(110102, "西城区", bj_city, 3),
        "gd": gd,
        "gz": gz,
        "tianhe": region(440106, "天河区", gz, 3),
        "dg": dg,
        "hk": hk,
    }

    company = CompanyFactory(company_name="闪签测试科技有限公司")
    company2 = CompanyFactory(company_name="第二测试用人单位有限公司")
    return World(
        company=company,
        position=WorkPositionFactory(company=company, name="前台"),
        other_position=WorkPositionFactory(company=company, name="仓管"),
        company2=company2,
        position2=WorkPositionFactory(company=company2, name="司机"),
        handler=HandlerFactory(name="李专员"),
        handler2=HandlerFactory(name="王专员"),
        contract=ContractFactory(company=company),
        contract2=ContractFactory(company=company2),
        regions=regions,
    )


def sms_code(phone: str) -> str:
    return sms_code_create(phone=phone, purpose=SmsPurpose.RESUME)[1]


def resume_payload(world: World, user: WechatUser, *, phone: str = "13800138000", with_code: bool = True, **overrides):
    """A valid JSON body for ``POST/PUT /api/employee``; ``overrides`` replace top-level fields."""
    r = world.regions
    body = {
        "real_name": "张三",
        "phone": phone,
        "id_number": ID_NUMBER,
        "nation": "01",
        "marital_sts": 1,
        "political_sts": 3,
        "acct_type": 1,
        "acct_prc_id": r["bj"].id,
        "acct_city_id": r["bj_city"].id,
        "acct_coy_id": r["dongcheng"].id,
        "acct_addr": "东城区东华门街道 1 号",
        "province_id": r["gd"].id,
        "city_id": r["gz"].id,
        "county_id": r["tianhe"].id,
        "addr": "天河区天河路 100 号",
        "em_contact_name": "张父",
        "em_contact_phone": "13900139000",
        "em_contact_relationship": "parent",
        "id_card_front": upload_url(UploadFactory(owner=user)),
        "id_card_back": upload_url(UploadFactory(owner=user)),
        "company_id": world.company.pk,
        "work_pos": world.position.name,
        "ad_user_id": world.handler.pk,
        "employee_edu": [
            {
                "edu_type": "bachelor",
                "school": "北京大学",
                "major": "法学",
                "start_date": "2012-09-01",
                "end_date": "2016-07",
            },
            {
                "edu_type": "master",
                "school": "清华大学",
                "major": "管理",
                "start_date": "2016-09",
                "end_date": "2019-07",
            },
        ],
        "work_exp": [
            {
                "company_name": "某某科技有限公司",
                "work_pos": "工程师",
                "start_date": "2019-08",
                "end_date": "2022-03-31",
                "description": "后端开发",
            },
            {"company_name": "另一家公司", "work_pos": "主管", "start_date": "2022-04", "end_date": ""},
        ],
    }
    if with_code:
        body["sms_code"] = sms_code(phone)
    body.update(overrides)
    return body


def bracket_form(payload: dict) -> bytes:
    """``payload`` as an url-encoded form with arrays in bracket notation (``employee_edu[0][school]=…``)."""
    pairs = []
    for key, value in payload.items():
        if isinstance(value, list):
            for index, item in enumerate(value):
                for sub, sub_value in item.items():
                    pairs.append((f"{key}[{index}][{sub}]", "" if sub_value is None else str(sub_value)))
        elif value is not None:
            pairs.append((key, str(value)))
    return urlencode(pairs).encode()


def row_counts() -> dict:
    return {
        "employees": Employee.objects.count(),
        "educations": EmployeeEducation.objects.count(),
        "works": WorkExperience.objects.count(),
        "applications": SignApplication.objects.count(),
        "events": SignEvent.objects.count(),
        "used_codes": SmsCode.objects.filter(used_at__isnull=False).count(),
    }


def staff_superuser():
    return AdminUserFactory(is_superuser=True, name="超级管理员")


def disable(obj):
    obj.status = EnabledStatus.DISABLED
    obj.save(update_fields=["status"])
    return obj
