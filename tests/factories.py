"""
Shared builders of the suite: factory_boy factories for every model, and the helpers that build
whole situations on top of them (STYLE.md: factories here, fixtures in ``conftest.py``).

* ``WechatUserFactory`` — a user who consented to the platform's current policies
  (``give_consents``); ``unconsented_user()`` / ``consented=False`` for one who did not;
  ``consent_through_api(client, platform)`` consents as the mini-program does;
* ``make_world()`` — dictionaries, a small region tree, two companies with positions, two
  handlers and contract templates (independent of ``seed_dictionaries``);
* ``resume_payload(world, user)`` — a valid ``POST``/``PUT /api/employee`` body (fresh uploads and
  SMS code), ``bracket_form`` its form-encoded twin;
* ``make_application(handler=…, company=…)`` — an application of a full resume (back office);
* ``make_person(world, name=…, phone=…)`` — a full resume with photos and a passed real-name check;
* ``make_signer(world)`` — a verified employee with an approved application, logged in;
* ``perform_move(move, application, world)`` — one state-machine move with valid arguments;
* image and PDF bytes (``png_bytes``, ``image_bytes``, ``jpeg_with_gps_and_orientation``,
  ``png_header_only``, ``pdf_bytes``).
"""

import datetime
import functools
import hashlib
import io
import struct
import zlib
from dataclasses import dataclass, field
from decimal import Decimal
from urllib.parse import urlencode

import factory
from django.contrib.auth.models import Group
from django.core.files.base import ContentFile
from django.utils import timezone
from PIL import Image
from rest_framework.test import APIClient

from contracts.models import Company, CompanySeal, Contract, EnabledStatus, SealAuthorisation, WorkPosition
from contracts.seals import round_seal_png
from dictionaries.models import Dictionary, Region
from employees.consent import consent_give, policies_current, policy_ensure_defaults
from employees.idcard import make_id_number
from employees.models import (
    ConsentPolicy,
    ConsentScope,
    Employee,
    EmployeeEducation,
    RealnameVerification,
    SmsCode,
    SmsPurpose,
    Upload,
    VerifyStatus,
    WechatUser,
    WorkExperience,
)
from employees.otp import sms_code_create
from employees.tokens import issue_token
from employees.uploads import upload_url
from shanqian.client import ClientContext
from shanqian.models import AdminUser, Platform
from shanqian.roles import HANDLER_GROUP
from signing.ledger.models import ContractStatus, EmploymentContract, TermType
from signing.models import SignApplication, SignedDocument, SignEvent, SignStatus
from signing.services import applications as services


def png_bytes(size=(64, 48), color=(200, 30, 30), fmt="PNG", **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.new("RGB", size, color).save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


@functools.cache
def pdf_bytes(title: str = "劳动合同", pages: int = 1) -> bytes:
    """A real PDF with Chinese text in an embedded TrueType font (the project's CJK font, subset)."""
    from reportlab.lib.pagesizes import A4
    from reportlab.pdfgen import canvas

    from signing.sealing.fonts import certificate_font

    font = certificate_font().name
    buffer = io.BytesIO()
    pdf = canvas.Canvas(buffer, pagesize=A4, invariant=1, initialFontName=font)
    for page in range(1, pages + 1):
        pdf.setFont(font, 16)
        pdf.drawString(72, 760, f"{title} 第 {page} 页")
        pdf.showPage()
    pdf.save()
    return buffer.getvalue()


# Every required placement (contracts.placements.REQUIRED_GROUPS) on page 1 of an A4 template, in a column.
TEMPLATE_PLACEMENTS = (
    ("company_name", 300, 34),
    ("credit_code", 200, 20),
    ("real_name", 300, 80),
    ("id_number", 300, 80),
    ("acct_address", 300, 30),
    ("work_pos", 300, 20),
    ("work_location", 300, 30),
    ("entry_date", 200, 20),
    ("end_date", 200, 20),
    ("salary", 200, 20),
    ("working_hours", 200, 20),
    ("sign_date", 160, 20),
    ("employee_signature", 140, 50),
    ("company_seal", 110, 110),
)


def place_required(contract):
    """Give ``contract`` every required placement (page 1, A4)."""
    from contracts.models import Placement

    y = 90.0
    rows = []
    for key, width, height in TEMPLATE_PLACEMENTS:
        rows.append(Placement(contract=contract, key=key, page=1, x=72, y=y, width=width, height=height))
        y += height + 6
    Placement.objects.bulk_create(rows)


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
    """
    A mini-program user who has consented to the platform's current policies (``give_consents``),
    as everyone who got past the consent screen has; ``WechatUserFactory(consented=False)`` (or
    ``unconsented_user()``) for one who has not.
    """

    class Meta:
        model = WechatUser
        skip_postgeneration_save = True

    platform = factory.SubFactory(PlatformFactory)
    openid = factory.Sequence(lambda n: f"openid-{n:06d}")
    session_key = "test-session-key"

    @factory.post_generation
    def consented(obj, create, extracted, **kwargs):
        if create and extracted is not False:
            give_consents(obj)


def unconsented_user(**kwargs) -> WechatUser:
    """A user who has not consented to anything (the state right after the first login)."""
    return WechatUserFactory(consented=False, **kwargs)


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
        skip_postgeneration_save = True

    company_name = factory.Sequence(lambda n: f"闪签测试用人单位{n}有限公司")
    credit_code = "91110000100000000R"
    company_address = "北京市朝阳区建国路 88 号"
    legal_representative = "王建国"

    @factory.post_generation
    def sealed(obj, create, extracted, **kwargs):
        """A company that can have contracts approved: a seal and an authorisation in force (``sealed=False``: none)."""
        if not create or extracted is False:
            return
        seal_factory(obj)
        SealAuthorisationFactory(company=obj)


@functools.cache
def seal_png() -> bytes:
    return round_seal_png("闪签测试用人单位有限公司", size=240).content


def seal_factory(company, content: bytes | None = None) -> CompanySeal:
    content = content or seal_png()
    return CompanySeal.objects.create(
        company=company,
        image=ContentFile(content, name="seal.png"),
        sha256=hashlib.sha256(content).hexdigest(),
        width=240,
        height=240,
        source=CompanySeal.Source.GENERATED,
    )


class SealAuthorisationFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = SealAuthorisation

    company = factory.SubFactory(CompanyFactory)
    authoriser = "王建国"
    valid_from = factory.LazyFunction(lambda: timezone.now() - datetime.timedelta(days=1))
    valid_until = factory.LazyFunction(lambda: timezone.now() + datetime.timedelta(days=365))


class WorkPositionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = WorkPosition

    company = factory.SubFactory(CompanyFactory)
    name = factory.Sequence(lambda n: f"岗位{n}")


class ContractFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Contract
        skip_postgeneration_save = True

    contract_name = "劳动合同"
    contract_body = "闪签测试用人单位"
    company = factory.SubFactory(CompanyFactory)
    sign_year = 3
    file = factory.LazyFunction(lambda: ContentFile(pdf_bytes(), name="contract.pdf"))
    sha256 = factory.LazyAttribute(lambda o: hashlib.sha256(o.file.read()).hexdigest() if o.file else "")

    @factory.post_generation
    def placed(obj, create, extracted, **kwargs):
        """Every required placement on page 1 (``placed=False``: none)."""
        if create and extracted is not False:
            place_required(obj)


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


class SignedDocumentFactory(factory.django.DjangoModelFactory):
    """A stored (unsigned) PDF standing in for a sealed document, for list and link tests."""

    class Meta:
        model = SignedDocument

    application = factory.SubFactory(SignApplicationFactory, status=SignStatus.SIGNED)
    file = factory.LazyFunction(lambda: ContentFile(pdf_bytes("已签署劳动合同"), name="signed.pdf"))
    sha256 = factory.Sequence(lambda n: hashlib.sha256(f"signed-{n}".encode()).hexdigest())
    size = 1024
    contract_sha256 = "0" * 64


class EmploymentContractFactory(factory.django.DjangoModelFactory):
    """A ledger record of a signed application (three-year fixed term from today by default)."""

    class Meta:
        model = EmploymentContract

    application = factory.SubFactory(SignApplicationFactory, status=SignStatus.SIGNED)
    employee = factory.LazyAttribute(lambda o: o.application.em)
    company = factory.LazyAttribute(lambda o: o.application.company)
    ad_user = factory.LazyAttribute(lambda o: o.application.ad_user)
    work_pos = factory.LazyAttribute(lambda o: o.application.work_pos)
    work_location = "北京市东城区"
    salary = Decimal("8000.00")
    term_type = TermType.FIXED
    start_date = factory.LazyFunction(timezone.localdate)
    end_date = factory.LazyAttribute(
        lambda o: o.start_date.replace(year=o.start_date.year + 3) - datetime.timedelta(days=1)
    )
    probation_end = None
    status = ContractStatus.ACTIVE


def make_contract(*, handler, company, name=None, **kwargs) -> EmploymentContract:
    """A record of a signed application of a full resume (``make_application``) by ``handler``."""
    application = make_application(handler=handler, company=company, name=name, status=SignStatus.SIGNED, photos=False)
    return EmploymentContractFactory(application=application, **kwargs)


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


def give_consents(user, scopes=tuple(ConsentScope), *, client=None) -> list:
    """
    ``user`` consents (through ``consent_give``) to the current policy of each scope: what the
    mini-program's consent screen does, and what the gated endpoints (SPEC §13) need. A platform
    with no published policy of a scope gets the default texts first (``policy_ensure_defaults``).
    """
    current = policies_current(platform_id=user.platform_id)
    if any(scope not in current for scope in scopes):
        policy_ensure_defaults(platform=user.platform)
        current = policies_current(platform_id=user.platform_id)
    return [consent_give(user=user, scope=scope, version=current[scope].version, client=client) for scope in scopes]


def consent_through_api(client, platform) -> dict:
    """
    What the mini-program does before it asks for anything sensitive (SPEC §13): read
    ``GET /api/consents`` and consent to every current policy it lists. The platform gets the
    default texts first when it has none (as ``seed_demo`` publishes them). Returns the final state.
    """
    policy_ensure_defaults(platform=platform)
    state = client.get("/api/consents").json()["data"]
    for policy in state["policies"]:
        answer = client.post("/api/consents", {"scope": policy["scope"], "version": policy["version"]}, format="json")
        assert answer.status_code == 200, answer.json()
    return client.get("/api/consents").json()["data"]


# --- the world of reference data, companies and handlers ----------------------------------------------

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


def disable(obj):
    obj.status = EnabledStatus.DISABLED
    obj.save(update_fields=["status"])
    return obj


# --- back office ------------------------------------------------------------------------------------------


def make_application(*, handler, company, status=SignStatus.APPLIED, name=None, photos=True, **kwargs):
    """An application of a full resume: both ID photos, one education and one job."""
    user = WechatUserFactory()
    employee_kwargs = {"user": user}
    if name:
        employee_kwargs["real_name"] = name
    if photos:
        employee_kwargs["id_card_front"] = UploadFactory(owner=user)
        employee_kwargs["id_card_back"] = UploadFactory(owner=user)
    employee = EmployeeFactory(**employee_kwargs, **kwargs.pop("employee", {}))
    EmployeeEducationFactory(employee=employee)
    WorkExperienceFactory(employee=employee)
    return SignApplicationFactory(em=employee, ad_user=handler, company=company, status=status, **kwargs)


def make_person(world, *, name: str, phone: str, contact=("张父", "13900139000"), verified_by=None):
    """
    A WeChat user with a full resume — both ID photos, one education, one job, an emergency contact —
    and a passed real-name check of it (``verified_by``, a staff member, decided it). Returns
    ``(user, employee)``. What privacy tests export and delete.
    """
    user = WechatUserFactory(unionid=f"union-{phone}")
    front, back = UploadFactory(owner=user), UploadFactory(owner=user)
    employee = EmployeeFactory(
        user=user,
        real_name=name,
        phone=phone,
        id_card_front=front,
        id_card_back=back,
        em_contact_name=contact[0],
        em_contact_phone=contact[1],
        em_contact_relationship="parent",
    )
    EmployeeEducationFactory(employee=employee, school=f"{name}的大学")
    WorkExperienceFactory(employee=employee, company_name=f"{name}的前单位")
    RealnameVerification.objects.create(
        user=user,
        real_name=name,
        id_number=employee.id_number,
        id_card_front=front,
        id_card_back=back,
        backend="manual",
        status=VerifyStatus.VERIFIED,
        decided_at=timezone.now(),
        decided_by=verified_by,
        ip="198.51.100.7",
    )
    return user, employee


# --- signing ------------------------------------------------------------------------------------------------

# Sent with every signing request: the audit events and the certificate record them.
CONTEXT_HEADERS = {"HTTP_X_LOCATION": "116.397128-39.916527", "HTTP_X_CITY": "%E5%8C%97%E4%BA%AC"}


@dataclass
class Signer:
    """An employee with a verified real name and an approved (status 2) application, logged in."""

    user: object
    employee: object
    application: SignApplication
    client: APIClient

    def refresh(self) -> SignApplication:
        self.application.refresh_from_db()
        return self.application


def logged_in_client(user, platform_code: str = "demo", **headers) -> APIClient:
    client = APIClient()
    client.credentials(
        HTTP_X_PLATFORM_CODE=platform_code, HTTP_X_AUTH_TOKEN=issue_token(user=user), **CONTEXT_HEADERS, **headers
    )
    return client


def signing_ready(company):
    """The PKI initialised (idempotent) and a company certificate for ``company``: what signing needs."""
    from signing.pki.models import CertificateKind, PkiCertificate
    from signing.pki.setup import pki_init

    if not PkiCertificate.objects.filter(kind=CertificateKind.ISSUING, revoked_at__isnull=True).exists():
        pki_init(dev_tsa=True)
    if not PkiCertificate.objects.filter(
        kind=CertificateKind.COMPANY, company=company, revoked_at__isnull=True
    ).exists():
        from signing.pki.company import company_certificate_issue

        company_certificate_issue(company=company, credit_code="91330100MA27XYZ12B")
    return company


def make_signer(world, *, status: int = 2, verify_status: int = VerifyStatus.VERIFIED, phone: str = "13912345678"):
    signing_ready(world.company)
    user = WechatUserFactory(verify_status=verify_status)
    employee = EmployeeFactory(user=user, real_name="李小雷", phone=phone)
    if verify_status == VerifyStatus.VERIFIED:
        # The decision that made them verified: the trail's 实名认证通过 (SPEC §10).
        RealnameVerification.objects.create(
            user=user,
            real_name=employee.real_name,
            id_number=employee.id_number,
            backend="manual",
            status=VerifyStatus.VERIFIED,
            decided_at=timezone.now(),
            decided_by=world.handler,
        )
    application = SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, work_pos="前台")
    if status in (2, 3, 5):
        application = services.application_approve(
            application=application,
            staff=world.handler,
            contract=world.contract,
            entry_date=timezone.localdate() + datetime.timedelta(days=7),
            salary="7000.5",
        )
    if status in (3, 4, 5):
        SignApplication.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    return Signer(user=user, employee=employee, application=application, client=logged_in_client(user))


def sign_code(phone: str) -> str:
    """A live purpose=sign code for ``phone`` (as /api/verifycode would have sent)."""
    return sms_code_create(phone=phone, purpose=SmsPurpose.SIGN)[1]


def signature_url(user) -> str:
    return upload_url(UploadFactory(owner=user, width=300, height=120))


CLIENT = ClientContext(
    ip="203.0.113.9", user_agent="MiniProgram/8.0", lng=Decimal("116.397128"), lat=Decimal("39.916527"), city="北京"
)
TODAY = timezone.localdate()


def perform_move(move, application, world):
    """Run ``move`` with valid arguments and the right kind of actor."""
    user = application.em.user
    if move == "approve":
        return services.application_approve(
            application=application,
            staff=world.handler,
            contract=world.contract,
            entry_date=TODAY + datetime.timedelta(days=7),
            salary="6500.00",
            client=CLIENT,
        )
    if move == "reject":
        return services.application_reject(
            application=application, staff=world.handler, reason="材料不全", client=CLIENT
        )
    if move == "cancel":
        return services.application_cancel(application=application, actor_user=user, client=CLIENT)
    if move == "sign":
        return services.application_sign(application=application, user=user, client=CLIENT)
    if move == "sign_offline":
        return services.application_sign_offline(
            application=application, staff=world.handler, note="纸质合同已在门店签署", client=CLIENT
        )
    raise AssertionError(move)


# --- images -------------------------------------------------------------------------------------------------


def image_bytes(fmt="JPEG", size=(64, 48), mode="RGB", color=(200, 30, 30), **save_kwargs) -> bytes:
    buffer = io.BytesIO()
    Image.new(mode, size, color).save(buffer, fmt, **save_kwargs)
    return buffer.getvalue()


GPS_LATITUDE = (39.0, 54.0, 27.0)


def jpeg_with_gps_and_orientation(size=(40, 20), orientation=6) -> bytes:
    """A JPEG whose EXIF carries GPS coordinates, a camera model and an orientation."""
    image = Image.new("RGB", size, (10, 120, 200))
    # A marker in the top-left corner tells whether the orientation was applied.
    image.paste((255, 255, 0), (0, 0, 8, 8))
    exif = Image.Exif()
    exif[0x0112] = orientation
    exif[0x0110] = "SpyCam 3000"
    gps = exif.get_ifd(0x8825)
    gps[1] = "N"
    gps[2] = GPS_LATITUDE
    gps[3] = "E"
    gps[4] = (116.0, 23.0, 44.0)
    buffer = io.BytesIO()
    image.save(buffer, "JPEG", exif=exif, quality=95)
    return buffer.getvalue()


def handwritten_signature() -> bytes:
    """A transparent PNG with one dark stroke: what the mini-program uploads as a signature."""
    image = Image.new("RGBA", (360, 140), (0, 0, 0, 0))
    for x in range(40, 320):
        y = 70 + int(25 * ((x % 60) / 60 - 0.5))
        for dy in range(-2, 3):
            image.putpixel((x, y + dy), (10, 10, 60, 255))
    buffer = io.BytesIO()
    image.save(buffer, "PNG")
    return buffer.getvalue()


def png_header_only(width: int, height: int) -> bytes:
    """A PNG that declares ``width`` x ``height`` but carries no real pixel data."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)

    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00" * 16)) + chunk(b"IEND", b"")
    )
