"""factory_boy factories for every model the tests build."""

import datetime
import hashlib
import io
from decimal import Decimal

import factory
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image

from contracts.models import Company, Contract, WorkPosition
from dictionaries.models import Dictionary, Region
from employees.idcard import make_id_number
from employees.models import (
    ConsentPolicy,
    ConsentScope,
    Employee,
    EmployeeEducation,
    Upload,
    WechatUser,
    WorkExperience,
)
from shanqian.models import AdminUser, Platform
from shanqian.roles import HANDLER_GROUP
from signing.models import SignApplication, SignStatus


def png_bytes(size=(64, 48), color=(200, 30, 30), fmt="PNG", **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


def pdf_bytes(title: str = "劳动合同", pages: int = 1) -> bytes:
    """A real PDF with Chinese text (reportlab's built-in CID font, no file needed)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfgen import canvas

    pdfmetrics.registerFont(UnicodeCIDFont("STSong-Light"))
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4)
    for page in range(1, pages + 1):
        pdf.setFont("STSong-Light", 16)
        pdf.drawString(72, 760, f"{title} 第 {page} 页")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


class PlatformFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Platform
        django_get_or_create = ("code",)

    code = "demo"
    name = "演示平台"
    wechat_appid = "wx-test-appid"
    wechat_secret = "wx-test-secret"


class AdminUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = AdminUser
        skip_postgeneration_save = True

    username = factory.Sequence(lambda n: f"staff{n}")
    name = factory.Sequence(lambda n: f"专员{n}")
    email = factory.LazyAttribute(lambda o: f"{o.username}@example.com")
    is_staff = True
    password = factory.PostGenerationMethodCall("set_password", "staff-pass-123")

    @factory.post_generation
    def _save(obj, create, extracted, **kwargs):
        if create:
            obj.save()


class HandlerFactory(AdminUserFactory):
    @factory.post_generation
    def handler_group(obj, create, extracted, **kwargs):
        if create:
            group, _ = Group.objects.get_or_create(name=HANDLER_GROUP)
            obj.groups.add(group)


class WechatUserFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WechatUser

    platform = factory.SubFactory(PlatformFactory)
    openid = factory.Sequence(lambda n: f"openid-{n:06d}")
    session_key = "test-session-key"


class UploadFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Upload

    owner = factory.SubFactory(WechatUserFactory)
    format = Upload.Format.PNG
    width = 64
    height = 48
    file = factory.LazyAttribute(lambda o: ContentFile(png_bytes((o.width, o.height)), name="x.png"))
    size = factory.LazyAttribute(lambda o: o.file.size)
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(png_bytes((o.width, o.height))).hexdigest())


class DictionaryFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Dictionary
        django_get_or_create = ("dict_item", "dict_key")

    dict_item = "Edu_Type"
    dict_key = factory.Sequence(lambda n: f"key{n}")
    dict_value = factory.Sequence(lambda n: f"值{n}")
    sort = factory.Sequence(int)


class RegionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Region
        django_get_or_create = ("id",)

    id = factory.Sequence(lambda n: 100000 + n * 10000)
    name = factory.Sequence(lambda n: f"地区{n}")
    level = Region.Level.PROVINCE
    parent = None


class CompanyFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Company

    company_name = factory.Sequence(lambda n: f"闪签测试用人单位{n}有限公司")


class WorkPositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkPosition

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"岗位{n}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract

    contract_name = "劳动合同"
    contract_body = "闪签测试用人单位"
    company = factory.SubFactory(CompanyFactory)
    sign_year = 3
    file = factory.LazyFunction(lambda: ContentFile(pdf_bytes(), name="contract.pdf"))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.file.read()).hexdigest() if o.file else "")


class EmployeeFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Employee

    user = factory.SubFactory(WechatUserFactory)
    real_name = factory.Sequence(lambda n: f"张{n}")
    phone = factory.Sequence(lambda n: f"138{n:08d}")
    id_number = factory.Sequence(
        lambda n: make_id_number(
            sequence=n % 1000, birth=datetime.date(1990, 1, 1) + datetime.timedelta(days=n // 1000)
        )
    )
    age = 30
    gender = 1
    nation = "01"
    marital_sts = 1
    political_sts = 3
    acct_type = 1


class EmployeeEducationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = EmployeeEducation

    employee = factory.SubFactory(EmployeeFactory)
    edu_type = "bachelor"
    school = "北京大学"
    major = "法学"
    start_date = datetime.date(2008, 9, 1)
    end_date = datetime.date(2012, 7, 1)


class WorkExperienceFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkExperience

    employee = factory.SubFactory(EmployeeFactory)
    company_name = "某某科技有限公司"
    work_pos = "工程师"
    start_date = datetime.date(2012, 8, 1)
    end_date = datetime.date(2018, 8, 1)


class SignApplicationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SignApplication

    em = factory.SubFactory(EmployeeFactory)
    ad_user = factory.SubFactory(HandlerFactory)
    company = factory.SubFactory(CompanyFactory)
    work_pos = "岗位A"
    status = SignStatus.APPLIED
    salary = Decimal("0.00")


class ConsentPolicyFactory(factory.django.DjangoModelFactory):
    """A published policy (``published_at=None`` for a draft)."""

    class Meta:
        model = ConsentPolicy

    platform = factory.SubFactory(PlatformFactory)
    scope = ConsentScope.SENSITIVE_PI
    version = factory.Sequence(lambda n: f"1.{n}")
    title = factory.LazyAttribute(lambda o: ConsentScope(o.scope).label)
    body = factory.LazyAttribute(lambda o: f"{ConsentScope(o.scope).label} 第 {o.version} 版全文。")
    published_at = factory.LazyFunction(timezone.now)
    body_sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.body.encode()).hexdigest() if o.published_at else "")


def give_consents(user, scopes=tuple(ConsentScope)) -> list:
    """``user`` consents to the current policy of each scope (the platform's default texts if it has none)."""
    from employees.consent import consent_give, policies_current, policy_ensure_defaults

    policy_ensure_defaults(platform=user.platform)
    current = policies_current(platform_id=user.platform_id)
    return [consent_give(user=user, scope=scope, version=current[scope].version) for scope in scopes]
