"""
Issue 15, finding 9: a Content-Security-Policy on /api and /admin, and in a real browser the
admin's own scripts and Swagger UI still work under it (no violation reported).

Headless Debian Chromium through Playwright, with the browser fixtures of ``tests/support/browser.py``.
Every page records ``securitypolicyviolation`` events; the test fails on any.
"""

import contextlib
import re

import pytest

from tests.factories import AdminUserFactory
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright, world  # noqa: F401 (fixtures)

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

RECORD_VIOLATIONS = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def _policy(response) -> str:
    policy = response.headers.get("content-security-policy", "")
    assert "script-src 'self'" in policy and "'unsafe-inline'" not in policy.split("script-src")[1].split(";")[0]
    return policy


def _admin_pages(fixtures) -> list[str]:
    """Every registered model's list and add page, and the change pages people work on."""
    from django.contrib import admin
    from django.urls import NoReverseMatch, reverse

    pages = ["/admin/"]
    for model in admin.site._registry:
        meta = model._meta
        for view in ("changelist", "add"):
            with contextlib.suppress(NoReverseMatch):
                pages.append(reverse(f"admin:{meta.app_label}_{meta.model_name}_{view}"))
    application = fixtures["approve"]
    pages += [
        reverse("admin:signing_signapplication_change", args=[application.pk]),
        reverse("admin:employees_employee_change", args=[application.em_id]),
        reverse("admin:contracts_contract_change", args=[fixtures["contract"].pk]),
        # The placement page (its own static script) and its preview (page images as data: URLs).
        reverse("admin:contracts_contract_placements", args=[fixtures["contract"].pk]),
        reverse("admin:signing_contract_preview", args=[fixtures["contract"].pk]),
    ]
    return pages


def _violations(page) -> list[str]:
    page.wait_for_load_state("load")
    return page.evaluate("window.__csp || []")


def test_admin_scripts_and_swagger_ui_work_under_the_policy(live_server, sync_playwright, world):  # noqa: F811
    """Finding 9: no CSP anywhere; now one on both, and what people use still runs."""
    AdminUserFactory(username="csp-admin", password="Csp-Admin-Pass-42", is_superuser=True, is_staff=True)
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.add_init_script(RECORD_VIOLATIONS)

        login = page.goto(f"{live_server.url}/admin/login/?next=/admin/")
        _policy(login)
        assert _violations(page) == []
        page.fill("#id_username", "csp-admin")
        page.fill("#id_password", "Csp-Admin-Pass-42")
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r".*/admin/$"))

        # actions.js: the header checkbox selects every row.
        changelist = page.goto(f"{live_server.url}/admin/signing/signapplication/")
        _policy(changelist)
        page.check("#action-toggle")
        boxes = page.locator("input.action-select")
        assert boxes.count() > 0
        assert all(boxes.nth(i).is_checked() for i in range(boxes.count()))
        assert _violations(page) == []

        # Every admin list and add page, and the change pages (admin/js/core.js, prepopulate,
        # SelectFilter, calendars…): each page's own record (the init script starts a new one per page).
        found = {}
        for path in _admin_pages(world):
            response = page.goto(f"{live_server.url}{path}")
            assert response.status < 500, path
            _policy(response)
            if violations := _violations(page):
                found[path] = violations
        assert found == {}

        # Swagger UI builds the whole page from its scripts.
        docs = page.goto(f"{live_server.url}/api/docs")
        _policy(docs)
        page.wait_for_selector(".swagger-ui .info .title", timeout=20_000)
        assert "闪签云" in page.inner_text(".swagger-ui .info .title")
        assert page.locator(".opblock").count() > 5
        assert _violations(page) == []
        browser.close()


def test_api_responses_carry_the_policy(api):
    """Finding 9: /api answered without any CSP."""
    response = api.get("/api/companies")

    policy = response["Content-Security-Policy"]
    assert "default-src 'self'" in policy and "frame-ancestors 'none'" in policy and "object-src 'none'" in policy


def test_a_search_by_phone_in_the_browser_leaves_the_phone_in_no_url(live_server, sync_playwright, world):  # noqa: F811
    """Finding 8: the search box POSTs; the address bar, the history and each Referer hold only ?qs=<token>."""
    AdminUserFactory(username="search-admin", password="Search-Admin-Pass-42", is_superuser=True, is_staff=True)
    phone = world["reject"].em.phone
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.add_init_script(RECORD_VIOLATIONS)
        requested = []
        page.on("request", lambda request: requested.append((request.url, request.headers.get("referer", ""))))
        page.goto(f"{live_server.url}/admin/login/?next=/admin/signing/signapplication/")
        page.fill("#id_username", "search-admin")
        page.fill("#id_password", "Search-Admin-Pass-42")
        page.click("input[type=submit]")
        page.wait_for_url(re.compile(r".*/admin/signing/signapplication/$"))

        page.fill("#searchbar", phone)
        page.press("#searchbar", "Enter")
        page.wait_for_url(re.compile(r".*\?qs=[\w-]+$"))
        assert page.locator("th.field-employee_name a").all_inner_texts() == ["李四"]
        assert _violations(page) == []
        page.click("th.field-employee_name a")  # the change page: its Referer is the list's URL
        page.wait_for_url(re.compile(r".*/change/.*"))
        page.go_back()
        page.wait_for_url(re.compile(r".*\?qs=[\w-]+$"))

        assert page.locator("#searchbar").input_value() == phone
        for url, referer in requested:
            assert phone not in url and phone not in referer, (url, referer)
        assert any("qs=" in referer for _, referer in requested)
        browser.close()
