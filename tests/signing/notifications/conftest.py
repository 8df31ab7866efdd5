"""
Fixtures of the notification tests: an application with its worker (WeChat user, resume with a
phone), its handler (with an email), a company and a contract; a local webhook receiver.
"""

import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest
from django.test import Client

from signing.notifications.models import SubscribeTemplate, WebhookEndpoint
from tests.factories import (
    AdminUserFactory,
    CompanyFactory,
    ContractFactory,
    EmployeeFactory,
    HandlerFactory,
    PlatformFactory,
    SignApplicationFactory,
    WechatUserFactory,
)

SECRET = "whsec-0123456789abcdef"


@pytest.fixture(autouse=True)
def _file_sms_and_real_wechat(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.WECHAT_BACKEND = "wechat"
    settings.WECHAT_API_BASE = "https://api.weixin.qq.com"
    settings.NOTIFY_SMS_FALLBACK = True
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True  # the receiver is a local server
    settings.BACKOFFICE_BASE_URL = "https://admin.example.com"


@pytest.fixture
def platform(db):
    return PlatformFactory(code="demo", wechat_appid="wx-notify", wechat_secret="notify-secret")


@pytest.fixture
def handler(db):
    return HandlerFactory(username="hr-notify", name="王芳", email="wangfang@example.com")


@pytest.fixture
def company(db):
    return CompanyFactory(company_name="甲科技有限公司")


@pytest.fixture
def contract(company):
    return ContractFactory(company=company)


@pytest.fixture
def worker(platform):
    return WechatUserFactory(platform=platform, openid="o-worker-1")


@pytest.fixture
def employee(worker):
    return EmployeeFactory(user=worker, real_name="张三", phone="13900001111")


@pytest.fixture
def application(employee, handler, company, contract):
    return SignApplicationFactory(em=employee, ad_user=handler, company=company, work_pos="普工")


@pytest.fixture
def superuser(db):
    return AdminUserFactory(username="root", is_superuser=True)


@pytest.fixture
def super_client(superuser):
    client = Client()
    client.force_login(superuser)
    return client


@pytest.fixture
def approved_template(platform):
    return SubscribeTemplate.objects.create(
        platform=platform,
        kind="approved",
        template_id="TPL-approved",
        page="pages/index/index",
        mapping={"thing1": "company_name", "phrase2": "status_text", "time3": "event_time", "thing4": "tip"},
    )


class _Receiver(BaseHTTPRequestHandler):
    def do_POST(self):
        body = self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.server.received.append({"headers": {k.lower(): v for k, v in self.headers.items()}, "body": body})
        status = self.server.answers.pop(0) if self.server.answers else 204
        self.send_response(status)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def receiver():
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Receiver)
    server.received = []
    server.answers = []
    server.url = f"http://127.0.0.1:{server.server_address[1]}/hooks/shanqian"
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server
    server.shutdown()
    server.server_close()


@pytest.fixture
def endpoint(platform, receiver):
    return WebhookEndpoint.objects.create(
        platform=platform,
        name="集团 HR 系统",
        url=receiver.url,
        secret=SECRET,
        events=["application.status_changed", "contract.signed", "contract.ended"],
    )


def received_json(receiver) -> list[dict]:
    return [json.loads(item["body"]) for item in receiver.received]
