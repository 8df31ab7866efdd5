"""
``manage.py bench_load``: realistic bulk data for the benchmarks and the scale test (never for production).

Writes, on top of the reference data (``seed_dictionaries``) and the demo employers
(``seed_demo``), without one ORM save per row:

* ``--applications N`` mini-program users, each with a resume (``--rows`` education and
  work rows each), one application whose status follows a realistic mix (mostly signed,
  a few waiting for a handler) and an ``apply_time`` spread over two years;
* ``--readers R`` of those users also get a session token (raw value ``bench-r-<i>``);
* ``--writers W`` extra users with a token, a fresh phone and ID number and an unused
  SMS code for ``POST /api/employee`` (one request each).

Readers and writers (the users who drive the API) have consented to the demo platform's current
personal-information rules (``seed_demo`` publishes them): ``POST /api/image`` and
``POST /api/employee`` need the ``sensitive_pi`` consent (SPEC §13).

PostgreSQL is filled with ``COPY … FROM STDIN`` (about a million applications a
minute); other databases with ``bulk_create`` in batches. Primary keys are assigned
here so the rows can reference each other; sequences are moved past them afterwards.
``--out FILE`` writes the tokens, codes and reference ids the wrk scripts need.
"""

import datetime
import hashlib
import json
import random
import time
from decimal import Decimal

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError
from django.db import connection, transaction
from django.db.models import Max
from django.utils import timezone

from contracts.models import Company, WorkPosition
from dictionaries.models import Dictionary, Region
from employees.consent import policies_current
from employees.idcard import CHECK_CHARS, WEIGHTS
from employees.models import (
    Consent,
    Employee,
    EmployeeEducation,
    SessionToken,
    SmsCode,
    WechatUser,
    WorkExperience,
)
from employees.otp import hash_code
from shanqian.demo.seed import DEMO_PLATFORM_CODE, demo_seed
from shanqian.fields import BlindIndexField, EncryptedCharField
from shanqian.models import Platform
from shanqian.roles import handlers_queryset
from signing.models import SignApplication, SignStatus

# Share of applications per status: most have been signed long ago, a few wait for a handler.
STATUS_MIX = [
    (SignStatus.APPLIED, 2),
    (SignStatus.AWAITING_SIGNATURE, 3),
    (SignStatus.SIGNED, 80),
    (SignStatus.REJECTED, 5),
    (SignStatus.CANCELLED, 10),
]
BIRTH_START = datetime.date(1965, 1, 1)
WRITER_OFFSET = 5_000_000  # writers' phones and ID numbers never meet the loaded ones (births stay before 1980)
BATCH = 20_000


def fast_id_number(index: int) -> str:
    """The ``index``-th valid ID number (distinct for index < 15 million): birth day and sequence from the index."""
    birth = BIRTH_START + datetime.timedelta(days=index // 1000)
    first17 = f"110105{birth:%Y%m%d}{index % 1000:03d}"
    return first17 + CHECK_CHARS[sum(int(d) * w for d, w in zip(first17, WEIGHTS, strict=True)) % 11]


def fast_phone(index: int) -> str:
    return f"139{index:08d}"


def token_digest(raw: str) -> str:
    return hashlib.sha256(raw.encode()).hexdigest()


def _next_id(model) -> int:
    return (model.objects.aggregate(m=Max("pk"))["m"] or 0) + 1


class Writer:
    """Rows of one model, sent in batches: COPY on PostgreSQL, bulk_create elsewhere."""

    def __init__(self, model):
        self.model = model
        self.fields = [f for f in model._meta.concrete_fields]
        self.defaults = {f.attname: f.get_default() for f in self.fields}
        self.rows: list[dict] = []
        self.count = 0

    def _column(self, field, row):
        # COPY bypasses the fields' own preparation: encrypt and index the way save() would.
        if isinstance(field, BlindIndexField):
            return field.lookup_value(row.get(field.source))
        value = row.get(field.attname, self.defaults[field.attname])
        if isinstance(field, EncryptedCharField):
            return field.get_prep_value(value)
        return value

    def add(self, **values):
        self.rows.append(values)

    def flush(self):
        if not self.rows:
            return
        if connection.vendor == "postgresql":
            columns = ", ".join(connection.ops.quote_name(f.column) for f in self.fields)
            table = connection.ops.quote_name(self.model._meta.db_table)
            with connection.cursor() as cursor, cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy:
                for row in self.rows:
                    copy.write_row([self._column(f, row) for f in self.fields])
        else:
            self.model.objects.bulk_create([self.model(**row) for row in self.rows], batch_size=1000)
        self.count += len(self.rows)
        self.rows = []


def _reset_sequences(models) -> None:
    from django.core.management.color import no_style

    with connection.cursor() as cursor:
        for sql in connection.ops.sequence_reset_sql(no_style(), models):
            cursor.execute(sql)


class Command(BaseCommand):
    help = "基准测试数据：批量写入小程序用户、简历、签约申请、令牌与短信验证码（仅用于基准测试库）。"

    def add_arguments(self, parser):
        parser.add_argument("--applications", type=int, default=10_000)
        parser.add_argument("--rows", type=int, default=3, help="每份简历的教育经历与工作经历各几条")
        parser.add_argument("--readers", type=int, default=1000, help="其中多少用户签发令牌 bench-r-<i>")
        parser.add_argument("--writers", type=int, default=0, help="额外的未提交简历用户（带令牌与验证码）")
        parser.add_argument("--out", default="", help="写出令牌等信息的 JSON 文件")
        parser.add_argument("--seed", type=int, default=7)
        parser.add_argument("--force", action="store_true", help="在 DEBUG 关闭时也执行")

    def handle(self, *args, **o):
        if not settings.DEBUG and not o["force"]:
            raise CommandError("DEBUG 已关闭：基准数据不应写入生产库。确需执行请加 --force。")
        started = time.monotonic()
        rng = random.Random(o["seed"])
        if not Dictionary.objects.exists():
            call_command("seed_dictionaries", stdout=self.stdout)
        demo_seed(password="bench-" + token_digest(settings.SECRET_KEY)[:16])
        platform = Platform.objects.get(code=DEMO_PLATFORM_CODE)
        ref = self._reference()
        with transaction.atomic():
            summary = self._load(platform=platform, ref=ref, rng=rng, **o)
        if connection.vendor == "postgresql":
            # What autovacuum does to a table that has lived a while: statistics for the planner and
            # the visibility map that lets counts use index-only scans. Not allowed in a transaction.
            with connection.cursor() as cursor:
                for model in (WechatUser, SessionToken, Employee, EmployeeEducation, WorkExperience, SignApplication):
                    cursor.execute(f"VACUUM ANALYZE {connection.ops.quote_name(model._meta.db_table)}")
        self.stdout.write(
            f"写入：{summary['applications']} 份申请/简历/用户，{summary['children']} 条经历，"
            f"{summary['readers']} 个读令牌，{summary['writers']} 个写用户；"
            f"用时 {time.monotonic() - started:.1f} 秒。"
        )
        if o["out"]:
            with open(o["out"], "w", encoding="utf-8") as fh:
                json.dump({**ref["public"], **summary["out"]}, fh, ensure_ascii=False)

    def _reference(self) -> dict:
        county = Region.objects.filter(level=Region.Level.COUNTY, parent__parent__isnull=False).order_by("id").first()
        if county is None:
            raise CommandError("行政区划为空：请先执行 seed_dictionaries。")
        city, province = county.parent, county.parent.parent

        def keys(item):
            return list(
                Dictionary.objects.filter(dict_item=item, enabled=True)
                .order_by("sort")
                .values_list("dict_key", flat=True)
            )

        companies = list(Company.objects.order_by("id"))
        positions = {
            c.pk: list(WorkPosition.objects.filter(company=c).values_list("name", flat=True)) for c in companies
        }
        handlers = list(handlers_queryset().order_by("id").values_list("id", flat=True))
        edu, nation, relation = keys("Edu_Type"), keys("Nation"), keys("Relationship")
        public = {
            "platform": DEMO_PLATFORM_CODE,
            "company_id": companies[0].pk,
            "work_pos": positions[companies[0].pk][0],
            "ad_user_id": handlers[0],
            "province_id": province.id,
            "city_id": city.id,
            "county_id": county.id,
            "nation": nation[0],
            "edu_types": edu[:3],
            "relationship": relation[0],
        }
        return {
            "public": public,
            "region": (province, city, county),
            "companies": companies,
            "positions": positions,
            "handlers": handlers,
            "edu": edu,
            "nation": nation,
            "relation": relation,
        }

    def _load(self, *, platform, ref, rng, applications, rows, readers, writers, **_):
        now = timezone.now()
        province, city, county = ref["region"]
        users, tokens, employees = Writer(WechatUser), Writer(SessionToken), Writer(Employee)
        consents, consent_id = Writer(Consent), _next_id(Consent)
        policies = list(policies_current(platform_id=platform.pk).values())

        def consent(uid):
            nonlocal consent_id
            for policy in policies:
                consents.add(
                    id=consent_id,
                    user_id=uid,
                    policy_id=policy.pk,
                    scope=policy.scope,
                    version=policy.version,
                    given_at=now,
                    ip="127.0.0.1",
                    user_agent="bench",
                )
                consent_id += 1

        educations, works, apps, codes = (
            Writer(EmployeeEducation),
            Writer(WorkExperience),
            Writer(SignApplication),
            Writer(SmsCode),
        )
        user_id, token_id, em_id = _next_id(WechatUser), _next_id(SessionToken), _next_id(Employee)
        edu_id, work_id, app_id, code_id = (
            _next_id(EmployeeEducation),
            _next_id(WorkExperience),
            _next_id(SignApplication),
            _next_id(SmsCode),
        )
        # Resume phones and ID numbers continue after those already loaded (a second run adds more).
        base = Employee.objects.count()
        statuses = [s for s, weight in STATUS_MIX for _ in range(weight)]
        expires = now + datetime.timedelta(days=30)
        two_years = 2 * 365 * 86400
        address = {
            "acct_prc_id": province.id,
            "acct_prc_name": province.name,
            "acct_city_id": city.id,
            "acct_city_name": city.name,
            "acct_coy_id": county.id,
            "acct_coy_name": county.name,
            "province_id": province.id,
            "province_name": province.name,
            "city_id": city.id,
            "city_name": city.name,
            "county_id": county.id,
            "county_name": county.name,
        }
        ordered = (users, tokens, consents, employees, educations, works, apps, codes)

        def flush_all():
            # Parents before children, checked at once rather than deferred to a huge commit.
            for writer in ordered:
                writer.flush()

        if connection.vendor == "postgresql":
            with connection.cursor() as cursor:
                cursor.execute("SET CONSTRAINTS ALL IMMEDIATE")
        out_readers = []
        for i in range(applications):
            if i and i % BATCH == 0:
                flush_all()
            n = base + i
            created = now - datetime.timedelta(seconds=rng.randrange(two_years))
            uid, eid, aid = user_id + i, em_id + i, app_id + i
            users.add(
                id=uid,
                platform_id=platform.pk,
                openid=f"bench-openid-{n}",
                unionid="",
                session_key="",
                verify_status=2,
                verify_reason="",
                created_at=created,
                updated_at=created,
                last_login_at=created,
            )
            if i < readers:
                raw = f"bench-r-{n}"
                tokens.add(
                    id=token_id,
                    user_id=uid,
                    digest=token_digest(raw),
                    created_at=now,
                    expires_at=expires,
                    revoked_at=None,
                    ip="127.0.0.1",
                    user_agent="bench",
                )
                token_id += 1
                consent(uid)
                out_readers.append(raw)
            id_number = fast_id_number(n)
            birth = datetime.date(int(id_number[6:10]), int(id_number[10:12]), int(id_number[12:14]))
            employees.add(
                id=eid,
                user_id=uid,
                real_name=f"员工{n}",
                phone=fast_phone(n),
                id_number=id_number,
                age=max(0, now.year - birth.year),
                gender=1 if int(id_number[16]) % 2 else 2,
                nation=rng.choice(ref["nation"]),
                marital_sts=rng.choice((1, 2, 3)),
                political_sts=rng.choice((1, 2, 3)),
                acct_type=rng.choice((0, 1)),
                acct_addr="东华门街道 1 号",
                addr="天河路 100 号",
                em_contact_name="联系人",
                em_contact_phone="13900139000",
                em_contact_relationship=rng.choice(ref["relation"]),
                id_card_front_id=None,
                id_card_back_id=None,
                created_at=created,
                updated_at=created,
                **address,
            )
            for k in range(rows):
                start = datetime.date(2005 + k * 3, 9, 1)
                educations.add(
                    id=edu_id,
                    employee_id=eid,
                    edu_type=ref["edu"][k % len(ref["edu"])],
                    school=f"第{k + 1}学校",
                    major="专业",
                    start_date=start,
                    end_date=start + datetime.timedelta(days=1000),
                )
                works.add(
                    id=work_id,
                    employee_id=eid,
                    company_name=f"第{k + 1}家公司",
                    work_pos="岗位",
                    start_date=start + datetime.timedelta(days=1100),
                    end_date=start + datetime.timedelta(days=2000),
                    description="工作描述",
                )
                edu_id += 1
                work_id += 1
            company = rng.choice(ref["companies"])
            status = rng.choice(statuses)
            apps.add(
                id=aid,
                em_id=eid,
                ad_user_id=rng.choice(ref["handlers"]),
                company_id=company.pk,
                work_pos=rng.choice(ref["positions"][company.pk] or ["岗位"]),
                entry_date=None,
                contract_id=None,
                salary=Decimal("6000.00"),
                apply_time=created,
                status=status,
                reason="资料不全" if status == SignStatus.REJECTED else "",
                updated_at=created,
            )

        out_writers = []
        first_writer = user_id + applications
        for j in range(writers):
            n = WRITER_OFFSET + base + j
            uid = first_writer + j
            raw = f"bench-w-{n}"
            users.add(
                id=uid,
                platform_id=platform.pk,
                openid=f"bench-openid-{n}",
                unionid="",
                session_key="",
                verify_status=0,
                verify_reason="",
                created_at=now,
                updated_at=now,
                last_login_at=now,
            )
            tokens.add(
                id=token_id,
                user_id=uid,
                digest=token_digest(raw),
                created_at=now,
                expires_at=expires,
                revoked_at=None,
                ip="127.0.0.1",
                user_agent="bench",
            )
            token_id += 1
            consent(uid)
            phone, code = fast_phone(n), f"{rng.randrange(10**6):06d}"
            codes.add(
                id=code_id + j,
                phone=phone,
                purpose="resume",
                code_hash=hash_code(phone=phone, purpose="resume", code=code),
                created_at=now,
                expires_at=expires,
                failed_tries=0,
                used_at=None,
                ip=None,
                sent=True,
            )
            out_writers.append([raw, phone, fast_id_number(n), code])

        flush_all()
        _reset_sequences(
            [WechatUser, SessionToken, Consent, Employee, EmployeeEducation, WorkExperience, SignApplication, SmsCode]
        )
        return {
            "applications": applications,
            "children": educations.count + works.count,
            "readers": len(out_readers),
            "writers": len(out_writers),
            "out": {"readers": out_readers, "writers": out_writers},
        }
