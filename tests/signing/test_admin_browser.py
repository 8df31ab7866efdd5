"""
The back office in a real browser: a handler logs in through the login form,
approves one application through the intermediate form, rejects another with a
reason from its page, and the mini-program then sees 2 (待签约) and 4 (已驳回, with
that reason) through ``GET /api/em_status``.

Headless Chromium from Debian's ``chromium`` package, driven by Playwright's sync
API (Playwright never downloads a browser here). Skipped with a message where
``/usr/bin/chromium`` or the ``playwright`` package is missing. Screenshots of the
handler's list and of the approve form go to /tmp/backoffice-*.png.
"""

import datetime
import os
import re

import pytest
from rest_framework.test import APIClient

from employees.tokens import issue_token
from signing.models import SignApplication, SignStatus
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright, world  # noqa: F401 (fixtures)

SCREENSHOT_LIST = "/tmp/backoffice-changelist.png"
SCREENSHOT_APPROVE = "/tmp/backoffice-approve-form.png"
REASON = "身份证照片不清晰，请重新上传后再提交"

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]


def em_status(application):
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE="demo", HTTP_X_AUTH_TOKEN=issue_token(user=application.em.user))
    body = client.get("/api/em_status").json()
    assert body["status"] == 0, body
    return body["data"]


def test_a_handler_approves_and_rejects_in_the_browser(live_server, sync_playwright, world):  # noqa: F811
    entry = (datetime.date.today() + datetime.timedelta(days=14)).isoformat()
    base = live_server.url

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 900}, locale="zh-CN")

            # Log in through the form; the admin CSS is served by the live server.
            page.goto(f"{base}/admin/login/?next=/admin/signing/signapplication/")
            page.fill("#id_username", "hr-browser")
            page.fill("#id_password", "staff-pass-123")
            page.click("input[type=submit]")
            page.wait_for_selector("#result_list")
            assert page.evaluate("getComputedStyle(document.querySelector('#header')).display") == "flex"
            rows = page.locator("#result_list tbody tr")
            names = [rows.nth(i).locator("th.field-employee_name").inner_text() for i in range(rows.count())]
            assert names[:3] == ["张三", "李四", "王五"]  # the waiting work first
            assert "别人的申请" not in names
            assert re.fullmatch(r"1\d{2}\*{4}\d{4}", rows.nth(0).locator("td.field-masked_phone").inner_text())
            page.screenshot(path=SCREENSHOT_LIST, full_page=True)

            # 审核通过 through the bulk action and its intermediate form.
            rows.filter(has_text="张三").locator("input.action-select").check()
            page.select_option("select[name=action]", "approve_selected")
            page.click("button[name=index]")
            page.wait_for_selector("#sq-action-form")
            assert "审核通过：1 条签约申请" in page.inner_text("#content")
            page.select_option("#id_contract", str(world["contract"].pk))
            page.fill("#id_entry_date", entry)
            page.fill("#id_salary", "8800.00")
            page.screenshot(path=SCREENSHOT_APPROVE, full_page=True)
            page.click("input[name=_confirm]")
            page.wait_for_selector(".messagelist .success")
            assert "已审核通过 1 条：张三" in page.inner_text(".messagelist")

            # 驳回 from the application's own page, with the reason the employee will see.
            page.click("#result_list a:text-is('李四')")
            page.click("a.sq-review-reject")
            page.fill("textarea[name=reason]", REASON)
            page.click("input[name=_confirm]")
            page.wait_for_selector(".messagelist .success")
            assert "已驳回：李四" in page.inner_text(".messagelist")
        finally:
            browser.close()

    approved = SignApplication.objects.get(pk=world["approve"].pk)
    assert (approved.status, approved.contract_id, str(approved.salary)) == (
        SignStatus.AWAITING_SIGNATURE,
        world["contract"].pk,
        "8800.00",
    )
    assert em_status(world["approve"]) == {
        "reason": "",
        "company_name": "闪签云演示科技有限公司",
        "status": SignStatus.AWAITING_SIGNATURE,
        "verify_status": 0,
    }
    rejected = em_status(world["reject"])
    assert (rejected["status"], rejected["reason"]) == (SignStatus.REJECTED, REASON)
    assert os.path.getsize(SCREENSHOT_LIST) > 10_000 and os.path.getsize(SCREENSHOT_APPROVE) > 10_000


SCREENSHOT_PLACEMENTS = "/tmp/backoffice-placements.png"
SCREENSHOT_PREVIEW = "/tmp/backoffice-placement-preview.png"
RECORD_CSP = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', e => window.__csp.push(e.violatedDirective + ' ' + e.blockedURI));
"""


def test_staff_place_a_field_by_dragging_save_preview_and_enable(live_server, sync_playwright, world):  # noqa: F811
    """SPEC §9's placement page: add the missing 月工资 box, drag and resize it, save, preview, enable."""
    from django.contrib.auth.models import Permission

    from contracts.models import EnabledStatus, Placement
    from tests.factories import AdminUserFactory

    staff = AdminUserFactory(username="contracts-staff", name="模板管理员")
    staff.user_permissions.add(
        *Permission.objects.filter(
            content_type__app_label="contracts", codename__in=["view_contract", "change_contract"]
        )
    )
    contract = world["contract"]
    Placement.objects.filter(contract=contract, key="salary").delete()
    type(contract).objects.filter(pk=contract.pk).update(status=EnabledStatus.DISABLED)
    base = live_server.url
    placed = Placement.objects.filter(contract=contract).count()  # (no ORM inside Playwright's event loop)

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            context = browser.new_context(viewport={"width": 1400, "height": 1000}, locale="zh-CN")
            context.add_init_script(RECORD_CSP)
            page = context.new_page()
            page.goto(f"{base}/admin/login/?next=/admin/contracts/contract/{contract.pk}/placements/")
            page.fill("#id_username", "contracts-staff")
            page.fill("#id_password", "staff-pass-123")
            page.click("input[type=submit]")
            page.wait_for_selector(".sq-page img")
            # The page image is fetched after the page itself; wait until it is decoded (times out, and
            # fails, when it never loads).
            page.wait_for_function(
                "() => { const i = document.querySelector('.sq-page img'); "
                "return i && i.complete && i.naturalWidth > 0 }"
            )
            assert page.evaluate("document.querySelector('.sq-page img').naturalWidth") > 800
            assert page.locator(".sq-box").count() == placed
            assert "月工资（元）" in page.inner_text("#sq-placement-state")

            # Add the salary box (it appears at 72, 72 pt), drag it by (150, 300) px = (100, 200) pt …
            page.select_option("#sq-add-key", "salary")
            page.select_option("#sq-add-page", "1")
            page.click("#sq-add")
            box = page.locator(".sq-box[data-key=salary]")
            start = box.bounding_box()
            page.mouse.move(start["x"] + 30, start["y"] + 10)
            page.mouse.down()
            page.mouse.move(start["x"] + 30 + 150, start["y"] + 10 + 300, steps=12)
            page.mouse.up()
            assert (box.get_attribute("data-x"), box.get_attribute("data-y")) == ("172", "272")
            # … and resize it from its lower-right corner by (60, 15) px = (40, 10) pt.
            handle = box.locator(".sq-box-resize").bounding_box()
            page.mouse.move(handle["x"] + 5, handle["y"] + 5)
            page.mouse.down()
            page.mouse.move(handle["x"] + 5 + 60, handle["y"] + 5 + 15, steps=6)
            page.mouse.up()
            assert (box.get_attribute("data-width"), box.get_attribute("data-height")) == ("200", "28")
            assert "已全部放置" in page.inner_text("#sq-placement-state")
            page.screenshot(path=SCREENSHOT_PLACEMENTS, full_page=False)

            page.click("#sq-save")
            page.wait_for_selector(".messagelist .success")
            assert "已保存" in page.inner_text(".messagelist")
            assert page.evaluate("window.__csp") == []

            # 预览 opens in its own tab: the template filled with the sample worker.
            with context.expect_page() as opened:
                page.click("#sq-preview")
            preview = opened.value
            preview.wait_for_selector("#sq-preview-pages img")
            assert preview.evaluate("document.querySelector('#sq-preview-pages img').naturalWidth") > 500
            preview.screenshot(path=SCREENSHOT_PREVIEW, full_page=True)
            assert preview.evaluate("window.__csp") == []
            preview.close()

            # Enable the template on its change page: allowed now that every required value is placed.
            page.goto(f"{base}/admin/contracts/contract/{contract.pk}/change/")
            assert "必需字段已全部放置" in page.inner_text(".field-placements_state")
            page.select_option("#id_status", str(EnabledStatus.ENABLED))
            page.click("input[name=_save]")
            page.wait_for_selector(".messagelist .success")
        finally:
            browser.close()

    salary = Placement.objects.get(contract=contract, key="salary")
    assert (salary.page, salary.x, salary.y, salary.width, salary.height, salary.source) == (
        1,
        172.0,
        272.0,
        200.0,
        28.0,
        "manual",
    )
    contract.refresh_from_db()
    assert contract.status == EnabledStatus.ENABLED
    assert os.path.getsize(SCREENSHOT_PLACEMENTS) > 10_000 and os.path.getsize(SCREENSHOT_PREVIEW) > 10_000
