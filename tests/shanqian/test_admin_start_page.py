"""The start page's work board: counts by status, today and overall, each a link to the filtered list."""

import datetime
import re
from html import unescape

import pytest
from django.utils import timezone

from employees.models import RealnameVerification
from signing.models import SignApplication, SignStatus
from signing.selectors import application_dashboard
from tests.factories import make_application

pytestmark = pytest.mark.django_db


def link(page: str, css_class: str) -> tuple[str, int]:
    match = re.search(rf'<a href="([^"]+)" class="{css_class}">(\d+)', page)
    assert match, css_class
    return unescape(match.group(1)), int(match.group(2))


def names(page: str) -> list[str]:
    return re.findall(r'<th class="field-employee_name"><a href="[^"]+">([^<]+)</a></th>', page)


@pytest.fixture
def board(handler, other_handler, company):
    yesterday = timezone.now() - datetime.timedelta(days=1)
    rows = {
        "今日申请甲": make_application(handler=handler, company=company, name="今日申请甲", photos=False),
        "今日申请乙": make_application(handler=other_handler, company=company, name="今日申请乙", photos=False),
        "昨日申请": make_application(handler=handler, company=company, name="昨日申请", photos=False),
        "昨日待签": make_application(
            handler=handler, company=company, name="昨日待签", photos=False, status=SignStatus.AWAITING_SIGNATURE
        ),
        "今日驳回": make_application(
            handler=other_handler, company=company, name="今日驳回", photos=False, status=SignStatus.REJECTED
        ),
    }
    SignApplication.objects.filter(pk__in=[rows["昨日申请"].pk, rows["昨日待签"].pk]).update(apply_time=yesterday)
    return rows


def test_superuser_sees_counts_by_status_today_and_overall(super_client, board):
    page = super_client.get("/admin/").content.decode()

    assert link(page, "sq-today-1")[1] == 2
    assert link(page, "sq-total-1")[1] == 3
    assert link(page, "sq-today-2")[1] == 0
    assert link(page, "sq-total-2")[1] == 1
    assert link(page, "sq-today-4")[1] == 1
    assert link(page, "sq-total-all")[1] == 5
    assert link(page, "sq-today-all")[1] == 3


def test_handler_sees_only_their_own_counts(handler_client, board):
    page = handler_client.get("/admin/").content.decode()

    assert link(page, "sq-today-1")[1] == 1
    assert link(page, "sq-total-1")[1] == 2
    assert link(page, "sq-total-4")[1] == 0
    assert link(page, "sq-total-all")[1] == 3


def test_each_count_links_to_the_matching_filtered_list(super_client, board):
    page = super_client.get("/admin/").content.decode()

    today_url, today_count = link(page, "sq-today-1")
    total_url, total_count = link(page, "sq-total-1")

    assert "status__exact=1" in today_url and "apply_time__gte=" in today_url and "apply_time__lt=" in today_url
    assert sorted(names(super_client.get(today_url).content.decode())) == ["今日申请乙", "今日申请甲"]
    assert len(names(super_client.get(total_url).content.decode())) == total_count == 3
    assert today_count == 2


def test_the_today_link_is_the_lists_own_today_filter(super_client, board):
    today_url, _ = link(super_client.get("/admin/").content.decode(), "sq-today-all")

    page = super_client.get(today_url).content.decode()

    assert re.search(r'<li class="selected">\s*<a href="[^"]*">今天</a>', page)


def test_the_board_is_one_aggregate_query(handler, board, django_assert_num_queries):
    with django_assert_num_queries(1):
        result = application_dashboard(staff=handler)

    assert result["total"] == {1: 2, 2: 1, 3: 0, 4: 0, 5: 0}


def test_the_board_shows_the_real_name_queue(super_client, board):
    RealnameVerification.objects.create(
        user=board["今日申请甲"].em.user,
        real_name="今日申请甲",
        id_number=board["今日申请甲"].em.id_number,
        backend="manual",
    )

    url, count = link(super_client.get("/admin/").content.decode(), "sq-realname-queue")

    assert count == 1
    assert url == "/admin/employees/realnameverification/"


def test_staff_without_application_permissions_see_no_board(db):
    from tests.factories import AdminUserFactory
    from tests.support.admin import client_for

    page = client_for(AdminUserFactory(username="plain")).get("/admin/").content.decode()

    assert 'id="sq-dashboard"' not in page


def test_a_count_that_reaches_the_cap_is_shown_as_at_least_that_many(super_client, superuser, board, monkeypatch):
    import signing.selectors

    monkeypatch.setattr(signing.selectors, "COUNT_CAP", 2)  # the real cap is 100,000 rows per figure

    result = application_dashboard(staff=superuser)
    page = super_client.get("/admin/").content.decode()

    assert result["total"][1] == 2 and result["capped"] == {1}  # three applied, counted up to two
    assert re.search(r'class="sq-total-1">2\+</a>', page)
    assert re.search(r'class="sq-total-2">1</a>', page)  # under the cap: exact, no "+"
    assert re.search(r'class="sq-total-all">4\+</a>', page)
