"""
Issue 15, finding 8: admin searches for phones and ID numbers left the term in URLs (access logs,
browser history, the Referer of every link). ``shanqian.admin_search``: the search box POSTs, the
term is kept in the session under a token, and the list is ``?qs=<token>``.
"""

import json
import re
from urllib.parse import quote

import pytest
from django.contrib import admin
from django.contrib.admin.views.main import ChangeList
from django.contrib.sessions.backends.db import SessionStore
from django.contrib.sessions.models import Session
from django.test import Client

from shanqian.admin_search import KEEP, SESSION_KEY, SearchTokenMixin
from shanqian.fieldcrypt import is_envelope
from signing.models import SignApplication, SignStatus
from tests.factories import EmployeeFactory, SignApplicationFactory, make_application
from tests.support.admin import CHANGELIST, client_for, messages_of, search, search_query

pytestmark = pytest.mark.django_db

EMPLOYEES = "/admin/employees/employee/"
LEDGER = "/admin/signing/employmentcontract/"
REALNAME = "/admin/employees/realnameverification/"
PERSONAL_LISTS = (CHANGELIST, EMPLOYEES, LEDGER, REALNAME)


def names_in_list(response) -> list[str]:
    return re.findall(r'<th class="field-employee_name"><a href="[^"]+">([^<]+)</a></th>', response.content.decode())


def urls_in(response) -> list[str]:
    """Every URL the page links to or submits to, and where it was redirected from."""
    page = response.content.decode()
    urls = re.findall(r'(?:href|action|src)="([^"]*)"', page)
    return urls + [url for url, _ in getattr(response, "redirect_chain", [])]


def assert_term_in_no_url(response, term: str) -> None:
    for url in urls_in(response):
        assert term not in url and quote(term) not in url, url
        assert "q=" not in url.replace("qs=", ""), url


@pytest.fixture
def people(handler, company):
    zhang = make_application(handler=handler, company=company, name="张三丰", photos=False)
    li = make_application(handler=handler, company=company, name="李四", photos=False)
    return zhang, li


def test_a_search_by_phone_finds_the_person_and_no_url_holds_the_phone(super_client, people):
    _, li = people
    phone = li.em.phone

    posted = super_client.post(CHANGELIST, {"q": phone, "_sq_search": "1"})

    assert posted.status_code == 303 and "no-store" in posted["Cache-Control"]
    assert phone not in posted["Location"] and re.search(r"\?qs=[\w-]{8,}$", posted["Location"])
    page = super_client.get(posted["Location"])
    assert names_in_list(page) == ["李四"]
    assert_term_in_no_url(page, phone)
    assert f'value="{phone}"' in page.content.decode()  # shown in the search box only


@pytest.mark.parametrize("url", PERSONAL_LISTS)
def test_every_personal_list_finds_by_id_number_through_the_token(super_client, people, url):
    zhang, _ = people
    number = zhang.em.id_number

    page = search(super_client, url, number)

    assert page.status_code == 200
    assert page.redirect_chain and "qs=" in page.redirect_chain[-1][0]
    assert_term_in_no_url(page, number)


def test_the_id_number_search_is_the_blind_index_lookup(super_client, people):
    zhang, _ = people

    assert names_in_list(search(super_client, CHANGELIST, zhang.em.id_number.lower())) == ["张三丰"]
    assert names_in_list(search(super_client, CHANGELIST, zhang.em.id_number[:10])) == []


def test_a_term_typed_into_the_url_is_moved_into_the_session(super_client, people):
    _, li = people

    response = super_client.get(CHANGELIST, {"q": li.em.phone, "status__exact": "1"})

    assert response.status_code == 303
    location = response["Location"]
    assert li.em.phone not in location and "status__exact=1" in location and "qs=" in location
    assert names_in_list(super_client.get(location)) == ["李四"]


def test_an_empty_search_clears_the_token(super_client, people):
    query = search_query(super_client, CHANGELIST, "李四")

    response = super_client.post(f"{CHANGELIST}{query}", {"q": "  ", "_sq_search": "1"})

    assert response.status_code == 303 and "qs=" not in response["Location"]


def test_a_token_from_another_session_does_not_search(super_client, superuser, people):
    query = search_query(super_client, CHANGELIST, people[1].em.phone)
    other = client_for(superuser)  # the same account, another session

    response = other.get(f"{CHANGELIST}{query}", follow=True)

    assert response.redirect_chain[0][1] == 303
    assert "qs=" not in response.redirect_chain[-1][0]
    assert "搜索条件已失效，请重新输入搜索内容。" in messages_of(response)
    assert sorted(names_in_list(response)) == ["张三丰", "李四"]  # the whole list, not the search
    assert Client().get(f"{CHANGELIST}{query}").status_code == 302  # and no one logged out gets in


def test_the_session_store_holds_the_term_encrypted(super_client, people):
    number = people[0].em.id_number
    query = search_query(super_client, CHANGELIST, number)

    # What the session store holds, decoded as Django decodes it: no phone or ID number in the clear.
    stored = SessionStore().decode(Session.objects.get(pk=super_client.session.session_key).session_data)
    assert number not in json.dumps(stored, ensure_ascii=False)
    assert is_envelope(next(iter(stored[SESSION_KEY].values())))
    assert names_in_list(super_client.get(f"{CHANGELIST}{query}")) == ["张三丰"]


def test_the_session_keeps_only_the_last_searches(super_client, people):
    first = search_query(super_client, CHANGELIST, "张三丰")
    for n in range(KEEP):
        search_query(super_client, CHANGELIST, f"李{n}")

    assert len(super_client.session[SESSION_KEY]) == KEEP
    assert super_client.get(f"{CHANGELIST}{first}").status_code == 303


@pytest.fixture
def twelve_zhangs(handler, company, monkeypatch):
    for n in range(12):
        SignApplicationFactory(
            em=EmployeeFactory(real_name=f"张{n:02d}"), ad_user=handler, company=company, status=SignStatus(n % 2 + 1)
        )
    for n in range(3):
        SignApplicationFactory(em=EmployeeFactory(real_name=f"李{n}"), ad_user=handler, company=company)
    monkeypatch.setattr(admin.site._registry[SignApplication], "list_per_page", 5)


def test_pagination_keeps_the_search_through_the_token(super_client, twelve_zhangs):
    first = search(super_client, CHANGELIST, "张")
    assert len(names_in_list(first)) == 5
    page_links = sorted(set(re.findall(r'href="(\?[^"]*p=\d[^"]*)"', first.content.decode())))
    assert page_links and all("qs=" in link for link in page_links)

    seen = set(names_in_list(first))
    for link in page_links:
        seen |= set(names_in_list(super_client.get(f"{CHANGELIST}{link.replace('&amp;', '&')}")))

    assert seen == {f"张{n:02d}" for n in range(12)}
    assert_term_in_no_url(first, "张")


def test_filters_combine_with_the_search_and_their_links_keep_the_token(super_client, twelve_zhangs):
    query = search_query(super_client, CHANGELIST, "张", status__exact="1")
    assert "status__exact=1" in query

    filtered = super_client.get(f"{CHANGELIST}{query}")

    assert sorted(names_in_list(filtered)) == [f"张{n:02d}" for n in range(0, 12, 2)][:5]
    token = re.search(r"qs=([\w-]+)", query).group(1)
    filter_links = re.findall(r'href="(\?[^"]*status__exact=[^"]*)"', filtered.content.decode())
    assert filter_links and all(f"qs={token}" in link for link in filter_links)
    assert_term_in_no_url(filtered, "张")


def test_the_change_page_and_the_export_link_carry_the_token_not_the_term(super_client, people):
    _, li = people
    page = search(super_client, CHANGELIST, li.em.phone)

    change_links = re.findall(rf'href="([^"]*/{li.pk}/change/[^"]*)"', page.content.decode())
    assert change_links and all("_changelist_filters=qs" in link for link in change_links)
    export = re.search(r'href="([^"]*export/[^"]*)" class="sq-export-link"', page.content.decode()).group(1)
    assert "qs=" in export and li.em.phone not in export
    assert super_client.get(export.replace("&amp;", "&")).status_code == 200


def test_a_lost_search_is_not_exported_as_the_whole_list(super_client, people):
    response = super_client.get(f"{CHANGELIST}export/?qs=not-a-token")

    assert response.status_code == 303 and response["Location"] == CHANGELIST


def test_every_registered_admin_searches_through_the_token_and_renders_the_post_form(super_client):
    for model, model_admin in admin.site._registry.items():
        assert isinstance(model_admin, SearchTokenMixin), model
        assert issubclass(model_admin.get_changelist(None), ChangeList)
    page = super_client.get(EMPLOYEES).content.decode()
    assert '<form id="changelist-search" method="post"' in page and 'name="csrfmiddlewaretoken"' in page


# The admin's autocomplete sends its term in the URL (/admin/autocomplete/?term=…): it may only search
# models without personal data. A new autocomplete on people must move to a POSTed search first.
AUTOCOMPLETE_ALLOWED = {"contracts.company"}


def test_autocomplete_searches_no_personal_data():
    for model, model_admin in admin.site._registry.items():
        for name in model_admin.autocomplete_fields:
            target = model._meta.get_field(name).related_model
            assert target._meta.label_lower in AUTOCOMPLETE_ALLOWED, (model, name, target)
