"""
The back office for notifications: templates (mapping checked), webhooks (SSRF guard, write-only
secret, recent deliveries), 企业微信 robots (URL checked and write-only), and the outbox pages.
"""

import pytest

from shanqian import outbox
from shanqian.models import OutboxMessage
from signing.notifications.models import SubscribeTemplate, WebhookEndpoint, WecomRobot

pytestmark = pytest.mark.django_db

TEMPLATES = "/admin/signing/subscribetemplate/"
WEBHOOKS = "/admin/signing/webhookendpoint/"
ROBOTS = "/admin/signing/wecomrobot/"
OUTBOX = "/admin/shanqian/outboxmessage/"
ROBOT_URL = "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa-4bc4-97a0-0ec2sifa5aaa"


def form_errors(response) -> dict:
    assert response.status_code == 200, "the form should come back with its errors"
    return {name: list(errors) for name, errors in response.context["adminform"].form.errors.items()}


def template_form(platform, **overrides):
    return {
        "platform": platform.pk,
        "kind": "approved",
        "template_id": "TPL-approved",
        "title": "签约审核结果通知",
        "page": "pages/index/index",
        "mapping": "thing1=company_name\nphrase2=status_text\ntime3=event_time",
        "miniprogram_state": "formal",
        "enabled": "on",
        **overrides,
    }


def test_a_template_is_saved_with_its_mapping(super_client, platform):
    response = super_client.post(f"{TEMPLATES}add/", template_form(platform))

    assert response.status_code == 302
    template = SubscribeTemplate.objects.get()
    assert template.mapping == {"thing1": "company_name", "phrase2": "status_text", "time3": "event_time"}
    page = super_client.get(f"{TEMPLATES}{template.pk}/change/").content.decode()
    assert "thing1=company_name" in page


@pytest.mark.parametrize(
    ("mapping", "message"),
    [
        ("thing1=company_nmae", "「thing1」的取值「company_nmae」未知"),
        ("title=company_name", "「title」不是微信订阅消息的字段名"),
        ("thing1=reason", "不适用于「审核通过（请阅读并签署）」通知"),
        ("date1=company_name", "不能填入"),
        ("thing1 company_name", "应写成 模板字段=取值"),
        ("", "该字段是必填项"),
    ],
)
def test_a_bad_mapping_is_a_form_error_and_nothing_is_saved(super_client, platform, mapping, message):
    errors = form_errors(super_client.post(f"{TEMPLATES}add/", template_form(platform, mapping=mapping)))

    assert any(message in error for error in errors["mapping"]), errors
    assert len(errors["mapping"]) == 1, errors  # said once
    assert SubscribeTemplate.objects.count() == 0


@pytest.mark.parametrize("page", ["https://evil.example.com", "/pages/index", "pages/首页"])
def test_a_page_outside_the_mini_program_is_refused(super_client, platform, page):
    errors = form_errors(super_client.post(f"{TEMPLATES}add/", template_form(platform, page=page)))
    assert "page" in errors


def webhook_form(platform, **overrides):
    return {
        "platform": platform.pk,
        "name": "集团 HR 系统",
        "url": "https://8.8.8.8/hooks",
        "secret": "whsec-0123456789abcdef",
        "events": ["application.status_changed", "contract.signed"],
        "enabled": "on",
        **overrides,
    }


@pytest.mark.parametrize(
    ("url", "message"),
    [
        ("ftp://8.8.8.8/x", "只能以 http:// 或 https:// 开头"),
        ("http://127.0.0.1:9000/hook", "内网、本机或保留地址"),
        ("http://10.0.0.8/hook", "内网、本机或保留地址"),
        ("http://169.254.169.254/latest", "内网、本机或保留地址"),
        ("http://localhost/hook", "内网、本机或保留地址"),
    ],
)
def test_a_webhook_url_that_is_not_public_http_is_refused_in_production(super_client, platform, settings, url, message):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False

    errors = form_errors(super_client.post(f"{WEBHOOKS}add/", webhook_form(platform, url=url)))

    assert any(message in error for error in errors["url"]), errors
    assert WebhookEndpoint.objects.count() == 0


def test_a_local_webhook_url_is_allowed_for_local_testing(super_client, platform, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = True

    response = super_client.post(f"{WEBHOOKS}add/", webhook_form(platform, url="http://127.0.0.1:9000/hook"))

    assert response.status_code == 302
    assert WebhookEndpoint.objects.get().url == "http://127.0.0.1:9000/hook"


def test_the_webhook_secret_is_write_only(super_client, platform, settings):
    settings.WEBHOOK_ALLOW_PRIVATE_ADDRESSES = False
    super_client.post(f"{WEBHOOKS}add/", webhook_form(platform))
    endpoint = WebhookEndpoint.objects.get()

    page = super_client.get(f"{WEBHOOKS}{endpoint.pk}/change/").content.decode()
    assert "whsec-0123456789abcdef" not in page

    # Saving with the secret left blank keeps it; a new one replaces it.
    super_client.post(f"{WEBHOOKS}{endpoint.pk}/change/", webhook_form(platform, secret="", name="改名"))
    endpoint.refresh_from_db()
    assert (endpoint.name, endpoint.secret) == ("改名", "whsec-0123456789abcdef")


@pytest.mark.parametrize(("secret", "message"), [("", "请填写签名密钥"), ("short", "至少 16 个字符")])
def test_a_new_webhook_needs_a_real_secret(super_client, platform, secret, message):
    errors = form_errors(super_client.post(f"{WEBHOOKS}add/", webhook_form(platform, secret=secret)))
    assert any(message in error for error in errors["secret"])


def test_a_webhook_needs_at_least_one_event(super_client, platform):
    data = webhook_form(platform)
    data.pop("events")
    assert "events" in form_errors(super_client.post(f"{WEBHOOKS}add/", data))


def test_the_webhook_page_shows_its_recent_deliveries(
    super_client, endpoint, application, django_assert_max_num_queries
):
    from signing.notifications import services

    for _ in range(5):
        services.emit_webhook(platform_id=endpoint.platform_id, event="contract.signed", data={"application_id": 1})

    with django_assert_max_num_queries(12):
        page = super_client.get(f"{WEBHOOKS}{endpoint.pk}/change/").content.decode()

    assert page.count("合同已签署（Webhook #") == 5
    assert "全部投递记录" in page


@pytest.mark.parametrize(
    "url",
    [
        "https://evil.example.com/cgi-bin/webhook/send?key=693a91f6-7aaa",
        "http://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=693a91f6-7aaa",
        "https://qyapi.weixin.qq.com/cgi-bin/other?key=693a91f6-7aaa",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send",
        "https://qyapi.weixin.qq.com/cgi-bin/webhook/send?key=<script>",
    ],
)
def test_a_robot_url_must_be_a_wecom_robot_webhook(super_client, handler, url):
    response = super_client.post(f"{ROBOTS}add/", {"name": "群", "handler": handler.pk, "url": url, "enabled": "on"})

    assert "url" in form_errors(response)
    assert WecomRobot.objects.count() == 0


def test_a_robot_belongs_to_a_handler_or_a_company_not_both(super_client, handler, company):
    response = super_client.post(
        f"{ROBOTS}add/", {"name": "群", "handler": handler.pk, "company": company.pk, "url": ROBOT_URL}
    )
    assert "handler" in form_errors(response)
    response = super_client.post(f"{ROBOTS}add/", {"name": "群", "url": ROBOT_URL})
    assert "handler" in form_errors(response)
    assert WecomRobot.objects.count() == 0


def test_a_robot_url_is_write_only(super_client, handler):
    super_client.post(f"{ROBOTS}add/", {"name": "群", "handler": handler.pk, "url": ROBOT_URL, "enabled": "on"})
    robot = WecomRobot.objects.get()

    listing = super_client.get(ROBOTS).content.decode()
    page = super_client.get(f"{ROBOTS}{robot.pk}/change/").content.decode()
    assert "693a91f6-7aaa" not in listing and "693a91f6-7aaa" not in page
    assert "…?key=693a****" in listing


# --- the outbox -------------------------------------------------------------------------------------------


@pytest.fixture
def failed_rows(application, endpoint):
    from signing.notifications import services

    rows = []
    for _ in range(30):
        (row,) = services.emit_webhook(platform_id=endpoint.platform_id, event="contract.signed", data={})
        rows.append(row)
    OutboxMessage.objects.filter(pk__in=[r.pk for r in rows[:10]]).update(
        state=OutboxMessage.State.FAILED, attempts=100, last_error="HTTP 500：oops", last_response_code=500
    )
    return rows


def test_the_outbox_list_filters_by_state_and_channel_in_a_fixed_number_of_queries(
    super_client, failed_rows, django_assert_max_num_queries
):
    with django_assert_max_num_queries(8):
        response = super_client.get(OUTBOX, {"state": "failed", "channel": "webhook"})

    page = response.content.decode()
    assert response.status_code == 200
    assert page.count("HTTP 500：oops") == 10
    assert "Webhook" in page


def test_the_outbox_row_page_shows_its_attempts(super_client, application, endpoint, receiver):
    from signing.notifications import services

    (row,) = services.emit_webhook(platform_id=endpoint.platform_id, event="contract.signed", data={})
    receiver.answers = [503]
    outbox.deliver(row.pk)

    page = super_client.get(f"{OUTBOX}{row.pk}/change/").content.decode()

    assert "HTTP 503" in page and "失败，将重试" in page
    assert "whsec-" not in page  # the endpoint's secret is not in the row


def test_staff_retry_failed_rows_from_the_outbox(super_client, failed_rows):
    failed_ids = [str(r.pk) for r in failed_rows[:10]]
    response = super_client.post(
        OUTBOX, {"action": "retry_selected", "_selected_action": [*failed_ids, str(failed_rows[20].pk)]}, follow=True
    )

    assert "已重试 10 条" in response.content.decode()
    assert OutboxMessage.objects.filter(state=OutboxMessage.State.FAILED).count() == 0


def test_nobody_edits_or_deletes_an_outbox_row(super_client, failed_rows):
    row = failed_rows[0]
    assert super_client.post(f"{OUTBOX}{row.pk}/delete/", {"post": "yes"}).status_code == 403
    assert super_client.get(f"{OUTBOX}add/").status_code == 403
    assert OutboxMessage.objects.filter(pk=row.pk).exists()


def test_a_handler_cannot_see_the_outbox(handler, failed_rows):
    from django.test import Client

    client = Client()
    client.force_login(handler)
    assert client.get(OUTBOX).status_code == 403
