"""
The ledger in a real browser: a handler logs in, renews one contract from its page (续签: the
intermediate form with the new terms → an application in 待签约) and ends another (终止/解除 →
已解除 with its signed proof of ending), and the start page shows the ledger's charts.

Headless Chromium driven by Playwright, as ``tests/signing/test_admin_browser.py``; skipped with a
message where Chromium or Playwright is missing. Screenshots go to /tmp/ledger-*.png.
"""

import datetime
import os

import pytest
from django.utils import timezone

from signing.ledger.models import ContractStatus, EmploymentContract
from signing.models import SignApplication, SignStatus
from signing.pki.company import company_certificate_issue
from signing.sealing.verification import verify_document
from tests.factories import CompanyFactory, ContractFactory, HandlerFactory, make_contract
from tests.signing.pki.conftest import pki  # noqa: F401  (fixture; pki_settings is autouse)
from tests.support.browser import CHROMIUM, CHROMIUM_ARGS, sync_playwright  # noqa: F401

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

TODAY = timezone.localdate()


@pytest.fixture
def ledger(pki):  # noqa: F811
    handler = HandlerFactory(username="hr-ledger", name="王芳")
    company = CompanyFactory(company_name="闪签云演示科技有限公司")
    template = ContractFactory(company=company, contract_name="劳动合同（三年）", sign_year=3)
    company_certificate_issue(company=company)
    renew = make_contract(
        handler=handler,
        company=company,
        name="续签张三",
        start_date=TODAY - datetime.timedelta(days=1070),
        end_date=TODAY + datetime.timedelta(days=25),
    )
    SignApplication.objects.filter(pk=renew.application_id).update(contract=template)
    end = make_contract(
        handler=handler,
        company=company,
        name="解除李四",
        start_date=TODAY - datetime.timedelta(days=300),
        end_date=TODAY + datetime.timedelta(days=795),
    )
    return {"renew": renew, "end": end, "template": template}


def test_a_handler_renews_one_contract_and_ends_another(live_server, sync_playwright, ledger):  # noqa: F811
    base = live_server.url
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        try:
            page = browser.new_page(viewport={"width": 1600, "height": 1000}, locale="zh-CN")
            page.goto(f"{base}/admin/login/?next=/admin/")
            page.fill("#id_username", "hr-ledger")
            page.fill("#id_password", "staff-pass-123")
            page.click("input[type=submit]")
            page.wait_for_selector(".sq-ledger")
            assert page.locator(".sq-ledger svg.sq-chart").count() == 3
            assert "30 天内：1" in page.inner_text(".sq-panel-ending")
            page.screenshot(path="/tmp/ledger-start-page.png", full_page=True)

            # 续签 from the record's page: the form proposes the day after the term's end.
            page.click("a.sq-ending-30")
            page.wait_for_selector("#result_list")
            page.click("#result_list a:text-is('续签张三')")
            page.click("a.sq-review-renew")
            page.wait_for_selector("#id_contract")
            start = (ledger["renew"].end_date + datetime.timedelta(days=1)).isoformat()
            assert page.input_value("#id_entry_date") == start
            page.select_option("#id_contract", str(ledger["template"].pk))
            page.fill("#id_salary", "9600.00")
            page.screenshot(path="/tmp/ledger-renew-form.png", full_page=True)
            page.click("input[name=_confirm]")
            page.wait_for_selector(".messagelist .success")
            assert "已续签" in page.inner_text(".messagelist")

            # 终止/解除 of the other one (not ending soon: the whole ledger): ground, date, note.
            page.goto(f"{base}/admin/signing/employmentcontract/")
            page.click("#result_list a:text-is('解除李四')")
            page.click("a.sq-review-end")
            page.select_option("#id_ground", "art36")
            page.fill("#id_ended_on", TODAY.isoformat())
            page.fill("#id_note", "双方协商一致解除")
            page.click("input[name=_confirm]")
            page.wait_for_selector(".messagelist .success")
            assert "已终止/解除" in page.inner_text(".messagelist")
            page.goto(f"{base}/admin/signing/employmentcontract/{ledger['end'].pk}/change/")
            assert "下载证明书 PDF" in page.inner_text("#content")
            page.screenshot(path="/tmp/ledger-ended.png", full_page=True)
        finally:
            browser.close()

    renewed = EmploymentContract.objects.get(pk=ledger["renew"].pk)
    application = renewed.renewal_application
    assert application.status == SignStatus.AWAITING_SIGNATURE and str(application.salary) == "9600.00"
    assert application.entry_date == ledger["renew"].end_date + datetime.timedelta(days=1)
    ended = EmploymentContract.objects.get(pk=ledger["end"].pk)
    assert ended.status == ContractStatus.DISSOLVED and ended.end_note == "双方协商一致解除"
    from django.core.files.storage import default_storage

    assert verify_document(default_storage.open(ended.proof_file.name).read()).ok
    assert os.path.getsize("/tmp/ledger-start-page.png") > 10_000
