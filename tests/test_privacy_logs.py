"""
SPEC §13: no phone, ID number, name, token or bearer link in any log line, the access log included.

One full flow — WeChat login, consent, ID photos, resume (SMS code), real name, the handler's
searches, real-name decision and approval in the back office, the contract read, signed and
downloaded, the export and a deletion request — runs with every logger at DEBUG into the project's
formatter (``settings.LOGGING``'s ``plain``: ``shanqian.log_redaction.RedactingFormatter``), and
every request it made is written through gunicorn's access-log class as production configures it
(``shanqian.gunicorn_conf``). Every captured line is then searched for every personal value and
secret the flow used.
"""

import datetime
import io
import logging
from types import SimpleNamespace

import pytest
import responses
from captcha.models import CaptchaStore
from django.conf import settings
from django.core.files.uploadedfile import SimpleUploadedFile
from django.core.signals import request_started
from gunicorn.config import Config
from rest_framework.test import APIClient

from employees.idcard import make_id_number
from employees.models import RealnameVerification, WechatUser
from employees.services.identity import captcha_create
from shanqian import gunicorn_conf
from shanqian.log_redaction import RedactingFormatter
from shanqian.logs import RequestIdFilter
from signing.models import SignApplication, SignStatus
from tests.envelope import assert_ok
from tests.factories import consent_through_api, make_world, png_bytes, resume_payload, signing_ready
from tests.support.admin import action_post, approve_data, client_for, search
from tests.support.sms import sent_sms

pytestmark = pytest.mark.django_db

CODE2SESSION = "https://api.weixin.qq.com/sns/jscode2session"
PHONE = "13566667777"
NAME = "欧阳诗涵"
CONTACT_NAME = "欧阳建国"
CONTACT_PHONE = "13988887777"


@pytest.fixture
def captured(settings):
    """Every record of every logger at DEBUG, formatted as production formats it; restored after."""
    settings.SMS_BACKEND = "file"
    settings.WECHAT_BACKEND = "wechat"
    settings.SMS_PHONE_INTERVAL = 0
    stream = io.StringIO()
    handler = logging.StreamHandler(stream)
    handler.setFormatter(RedactingFormatter(settings.LOGGING["formatters"]["plain"]["format"]))
    handler.addFilter(RequestIdFilter())
    handler.setLevel(logging.DEBUG)
    loggers = [logging.getLogger()] + [
        logger for logger in logging.root.manager.loggerDict.values() if isinstance(logger, logging.Logger)
    ]
    saved = [(logger, logger.level, logger.disabled) for logger in loggers]
    for logger in loggers:
        logger.setLevel(logging.DEBUG)
        logger.disabled = False
        if logger is logging.getLogger() or not logger.propagate:
            logger.addHandler(handler)
    environs = []

    def remember(sender, environ, **kwargs):
        environs.append(dict(environ))

    request_started.connect(remember)
    yield SimpleNamespace(stream=stream, environs=environs)
    request_started.disconnect(remember)
    for logger, level, disabled in saved:
        logger.setLevel(level)
        logger.disabled = disabled
        if handler in logger.handlers:
            logger.removeHandler(handler)


def access_lines(environs) -> str:
    """Each request as gunicorn's access log (``shanqian.gunicorn_conf``) writes it."""
    cfg = Config()
    cfg.set("accesslog", "-")
    cfg.set("access_log_format", gunicorn_conf.access_log_format)
    access = gunicorn_conf.RedactingLogger(cfg)
    stream = io.StringIO()
    access.access_log.handlers = [logging.StreamHandler(stream)]
    for environ in environs:
        query = environ.get("QUERY_STRING", "")
        environ = {
            "SERVER_PROTOCOL": "HTTP/1.1",
            **{k: v for k, v in environ.items() if isinstance(v, str)},
            "RAW_URI": environ["PATH_INFO"] + (f"?{query}" if query else ""),
        }
        headers = [(k[5:].replace("_", "-"), v) for k, v in environ.items() if k.startswith("HTTP_")]
        response = SimpleNamespace(status="200 OK", sent=100, headers=[("X-Request-ID", "rid-1")])
        access.access(response, SimpleNamespace(headers=headers), environ, datetime.timedelta(milliseconds=5))
    return stream.getvalue()


def sms_code(client, *, purpose: str, phone: str = PHONE) -> str:
    key = captcha_create()
    answer = CaptchaStore.objects.get(hashkey=key).response
    assert_ok(
        client.post(
            "/api/verifycode", {"phone": phone, "captcha_code": answer, "purpose": purpose}, HTTP_X_UNIQUE_KEY=key
        )
    )
    return sent_sms()[-1]["code"]


def upload(client, content: bytes) -> str:
    return assert_ok(
        client.post("/api/image", {"file": SimpleUploadedFile("x.png", content, "image/png")}, format="multipart")
    )["url"]


@responses.activate
def test_a_full_flow_leaves_no_personal_value_in_any_log_line(platform, captured):
    id_number = make_id_number(address="110105", birth=datetime.date(1991, 3, 9), sequence=457)
    world = make_world()
    signing_ready(world.company)
    responses.get(CODE2SESSION, json={"openid": "o-logs-person-0001", "session_key": "c2Vzc2lvbi1rZXktbG9ncw=="})
    anonymous = APIClient()
    anonymous.credentials(HTTP_X_PLATFORM_CODE=platform.code)

    login = assert_ok(anonymous.post("/api/weixin/login", {"code": "0a3LogsCode"}))
    token = login["session_token"]
    user = WechatUser.objects.get(openid="o-logs-person-0001")
    client = APIClient()
    client.credentials(HTTP_X_PLATFORM_CODE=platform.code, HTTP_X_AUTH_TOKEN=token)
    consent_through_api(client, platform)
    front = upload(client, png_bytes((80, 50), (10, 20, 30)))
    back = upload(client, png_bytes((80, 50), (30, 20, 10)))
    resume_code = sms_code(anonymous, purpose="resume")
    payload = resume_payload(
        world,
        user,
        phone=PHONE,
        with_code=False,
        real_name=NAME,
        id_number=id_number,
        em_contact_name=CONTACT_NAME,
        em_contact_phone=CONTACT_PHONE,
        id_card_front=front,
        id_card_back=back,
        sms_code=resume_code,
    )
    assert_ok(client.post("/api/employee", payload, format="json"))
    resume = assert_ok(client.get("/api/employee"))
    assert_ok(client.post("/api/realname"))

    # The handler searches by phone and by ID number, passes the real name and approves.
    staff = client_for(world.handler)
    for url in ("/admin/signing/signapplication/", "/admin/employees/employee/"):
        for term in (PHONE, id_number, NAME):
            assert search(staff, url, term).status_code == 200
    verification = RealnameVerification.objects.get(user=user)
    staff.post(f"/admin/employees/realnameverification/{verification.pk}/decide/pass/", {})
    application = SignApplication.objects.get(em__user=user)
    action_post(staff, "approve_selected", [application.pk], confirm=True, **approve_data(world.contract))
    application.refresh_from_db()
    assert application.status == SignStatus.AWAITING_SIGNATURE
    assert staff.get(f"/admin/signing/signapplication/{application.pk}/change/").status_code == 200

    # Read, sign, download.
    contract = assert_ok(client.get("/api/sign/contract"))
    b"".join(client.get(contract["file_url"]).streaming_content)
    signature = upload(client, png_bytes((300, 120), (0, 0, 80)))
    sign_code = sms_code(client, purpose="sign")
    assert_ok(client.post("/api/sign", {"sms_code": sign_code, "signature": signature}, format="json"))
    document = assert_ok(client.get("/api/sign/document"))
    b"".join(client.get(document["document_url"]).streaming_content)

    # The person's rights.
    export = assert_ok(client.get("/api/me/export"))
    assert export["resume"]["id_number"] == id_number
    assert_ok(client.post("/api/me/deletion", {"reason": f"{NAME}申请删除"}, format="json"))
    assert_ok(client.post("/api/weixin/logout"))

    app_log = captured.stream.getvalue()
    access_log = access_lines(captured.environs)
    assert "WeChat login: user" in app_log and "deletion request" in app_log  # the capture works
    assert '"GET /admin/signing/signapplication/ HTTP/1.1"' in access_log and "/files/" in access_log
    bearer_tokens = [
        url.split("/files/", 1)[1].strip("/")
        for url in (front, back, signature, contract["file_url"], document["document_url"], resume["id_card_front"])
    ]
    secrets = {
        "phone": PHONE,
        "ID number": id_number,
        "name": NAME,
        "contact name": CONTACT_NAME,
        "contact phone": CONTACT_PHONE,
        "session token": token,
        "openid": "o-logs-person-0001",
        **{f"bearer link {i}": value for i, value in enumerate(bearer_tokens)},
    }
    for line in (app_log + access_log).splitlines():
        for what, value in secrets.items():
            assert value not in line, f"{what} in a log line: {line[:200]}"
    assert len(app_log.splitlines()) > 20 and len(access_log.splitlines()) == len(captured.environs) >= 30
    assert settings.LOGGING["handlers"]["console"]["formatter"] == "plain"
