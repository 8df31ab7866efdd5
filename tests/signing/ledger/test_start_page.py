"""
The start page's ledger figures: applications per day (30 days) and the funnel as server-rendered
SVG, contracts ending in 30/60/90 days, the art. 82 risk list — each a link into the filtered
list, each one query, scoped like the lists.
"""

import datetime
import re
from html import unescape

import pytest
from django.utils import timezone

from signing.ledger import selectors
from signing.models import SignApplication, SignStatus
from tests.factories import ContractFactory, make_application, make_contract

pytestmark = pytest.mark.django_db


def href(page: str, css_class: str) -> str:
    match = re.search(rf'<a href="([^"]+)" class="{css_class}"', page)
    assert match, css_class
    return unescape(match.group(1))


def listed(client, url: str) -> list[str]:
    page = client.get(url).content.decode()
    return sorted(re.findall(r'<th class="field-employee_name"><a href="[^"]+">([^<]+)</a></th>', page))


@pytest.fixture
def week(handler, other_handler, company):
    today = timezone.localdate()
    now = timezone.now()
    template = ContractFactory(company=company)
    rows = {}
    for name, days_ago, status, who in (
        ("今天甲", 0, SignStatus.APPLIED, handler),
        ("今天乙", 0, SignStatus.SIGNED, other_handler),
        ("三天前", 3, SignStatus.AWAITING_SIGNATURE, handler),
        ("三天前驳回", 3, SignStatus.REJECTED, handler),
        ("四十天前", 40, SignStatus.AWAITING_SIGNATURE, handler),
    ):
        application = make_application(handler=who, company=company, name=name, status=status, photos=False)
        update = {"apply_time": now - datetime.timedelta(days=days_ago)}
        if status in (SignStatus.AWAITING_SIGNATURE, SignStatus.SIGNED):
            update.update(contract=template, entry_date=today - datetime.timedelta(days=days_ago))
        SignApplication.objects.filter(pk=application.pk).update(**update)
        rows[name] = application
    make_contract(handler=handler, company=company, name="月底到期", end_date=today + datetime.timedelta(days=25))
    make_contract(handler=handler, company=company, name="两月到期", end_date=today + datetime.timedelta(days=55))
    make_contract(handler=other_handler, company=company, name="三月到期", end_date=today + datetime.timedelta(days=85))
    # The contracts' own applications were signed long ago: outside the charts' 30 days.
    SignApplication.objects.filter(employment_contract__isnull=False).update(
        apply_time=now - datetime.timedelta(days=400)
    )
    return rows


def test_the_figures_of_a_superuser(super_client, week):
    page = super_client.get("/admin/").content.decode()

    assert page.count('<svg class="sq-chart') == 3
    assert re.search(r'sq-per-day-total">4<', page)  # 40 days ago is outside the window
    assert re.search(r"<title>签约申请：4</title>", page)
    assert re.search(r"<title>审核通过：2</title>", page)  # 今天乙 (signed), 三天前 (waiting)
    assert re.search(r"<title>已签约：1</title>", page)
    assert "已驳回 1" in page
    assert re.search(r'sq-ending-30">30 天内：1<', page)
    assert re.search(r'sq-ending-60">60 天内：2<', page)
    assert re.search(r'sq-ending-90">90 天内：3<', page)
    assert re.search(r'sq-risk-total">1<', page) and "四十天前" in page


def test_each_figure_links_into_the_matching_filtered_list(super_client, week):
    page = super_client.get("/admin/").content.decode()

    assert listed(super_client, href(page, "sq-ending-60")) == ["两月到期", "月底到期"]
    assert listed(super_client, href(page, "sq-risk-total")) == ["四十天前"]
    assert listed(super_client, href(page, "sq-funnel-rejected")) == ["三天前驳回"]
    per_day = page[page.index('class="sq-chart sq-per-day"') :].split("</svg>")[0]
    today_bar = re.findall(r'<a href="([^"]+)"><rect class="sq-bar"', per_day)[-1]
    assert listed(super_client, unescape(today_bar)) == ["今天乙", "今天甲"]


def test_a_handler_sees_only_their_own_figures(handler_client, week):
    page = handler_client.get("/admin/").content.decode()

    assert re.search(r'sq-per-day-total">3<', page)
    assert re.search(r'sq-ending-90">90 天内：2<', page)
    assert re.search(r'sq-risk-total">1<', page)


def test_labels_are_escaped(super_client, handler, company):
    application = make_application(handler=handler, company=company, name="<b>x</b>", photos=False)
    SignApplication.objects.filter(pk=application.pk).update(
        status=SignStatus.AWAITING_SIGNATURE, entry_date=timezone.localdate() - datetime.timedelta(days=45)
    )

    page = super_client.get("/admin/").content.decode()

    assert "<b>x</b>" not in page and "&lt;b&gt;x&lt;/b&gt;" in page


@pytest.mark.parametrize(
    "figure",
    [
        selectors.applications_per_day,
        selectors.application_funnel,
        selectors.contracts_ending,
        selectors.art82_risk,
    ],
)
@pytest.mark.parametrize("who", ["superuser", "handler"])
def test_each_figure_is_one_query(request, week, figure, who, django_assert_num_queries):
    staff = request.getfixturevalue(who)

    with django_assert_num_queries(1):
        figure(staff=staff)


def test_the_whole_start_page_has_a_pinned_query_count(super_client, week, django_assert_max_num_queries):
    super_client.get("/admin/")  # warm the content-type and session caches

    with django_assert_max_num_queries(12):
        assert super_client.get("/admin/").status_code == 200


def test_the_risk_list_shows_at_most_ten_with_the_total(super_client, handler, company):
    long_ago = timezone.localdate() - datetime.timedelta(days=60)
    for n in range(12):
        application = make_application(handler=handler, company=company, name=f"风险{n:02d}", photos=False)
        SignApplication.objects.filter(pk=application.pk).update(
            status=SignStatus.AWAITING_SIGNATURE, entry_date=long_ago
        )

    rows, total = selectors.art82_risk(staff=super_client_user(super_client))

    assert len(rows) == 10 and total == 12
    assert "查看全部 12 人" in super_client.get("/admin/").content.decode()


def super_client_user(client):
    from shanqian.models import AdminUser

    return AdminUser.objects.get(username="boss")
