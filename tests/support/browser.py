"""
The back office in a real browser: Debian's Chromium (``/usr/bin/chromium``, never a downloaded
browser) driven by Playwright, and the world the browser tests act on. The fixtures skip with a
message where Chromium or the ``playwright`` package is missing. Used by
``tests/signing/test_admin_browser.py`` and ``tests/shanqian/test_csp_browser.py``.
"""

import os

import pytest

from signing.models import SignStatus
from tests.factories import (
    CompanyFactory,
    ContractFactory,
    HandlerFactory,
    PlatformFactory,
    WechatUserFactory,
    make_application,
)

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


@pytest.fixture
def sync_playwright():
    if not os.path.exists(CHROMIUM):
        pytest.skip(f"{CHROMIUM} is not installed (Debian package 'chromium'): browser test skipped")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        pytest.skip("the 'playwright' Python package is not installed: browser test skipped")
    return sync_playwright


@pytest.fixture
def world(settings):
    platform = PlatformFactory(code="demo")
    handler = HandlerFactory(username="hr-browser", name="王芳")
    stranger = HandlerFactory(username="hr-other", name="李强")
    company = CompanyFactory(company_name="闪签云演示科技有限公司")
    contract = ContractFactory(company=company, contract_name="劳动合同（固定期限）")

    def applicant(name, owner=handler, status=SignStatus.APPLIED):
        application = make_application(handler=owner, company=company, name=name, status=status)
        application.em.user.platform = platform
        application.em.user.save(update_fields=["platform"])
        return application

    to_approve = applicant("张三")
    to_reject = applicant("李四")
    applicant("王五", status=SignStatus.AWAITING_SIGNATURE)
    applicant("赵六", status=SignStatus.SIGNED)
    applicant("孙七", status=SignStatus.REJECTED)
    applicant("别人的申请", owner=stranger)
    WechatUserFactory(platform=platform)
    return {"handler": handler, "contract": contract, "approve": to_approve, "reject": to_reject}
