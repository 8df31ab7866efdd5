"""
The WeChat access token (stable_token, shared cache, lock, 40001) and subscribe messages
(employees.wechat_api), mocked at the HTTP layer with ``responses`` so the real request code runs.
"""

import json

import pytest
import responses
from django.core.cache import cache

from employees import wechat_api
from employees.wechat_api import (
    SubscribeMessage,
    SubscribeRefused,
    SubscribeRejected,
    WechatUnavailable,
    access_token,
    send_subscribe_message,
)
from tests.factories import PlatformFactory

pytestmark = pytest.mark.django_db

BASE = "https://api.weixin.qq.com"
TOKEN_URL = f"{BASE}/cgi-bin/stable_token"
SEND_URL = f"{BASE}/cgi-bin/message/subscribe/send"


@pytest.fixture
def platform(settings):
    settings.WECHAT_API_BASE = BASE
    settings.WECHAT_BACKEND = "wechat"
    return PlatformFactory(code="wxp", wechat_appid="wx-app-1", wechat_secret="s3cret-app")


MESSAGE = SubscribeMessage(
    openid="o-user-1",
    template_id="TPL-approved",
    page="pages/index/index",
    data={"thing1": "甲科技有限公司", "phrase2": "待签约"},
)


def token_answer(token="TOKEN-1", expires_in=7200):  # noqa: S107
    return {"access_token": token, "expires_in": expires_in}


@responses.activate
def test_the_token_comes_from_stable_token_and_is_cached_for_expires_in_minus_300(platform):
    responses.post(TOKEN_URL, json=token_answer())

    assert access_token(platform) == "TOKEN-1"
    assert access_token(platform) == "TOKEN-1"

    assert len(responses.calls) == 1
    sent = json.loads(responses.calls[0].request.body)
    assert sent == {
        "grant_type": "client_credential",
        "appid": "wx-app-1",
        "secret": "s3cret-app",
        "force_refresh": False,
    }
    ttl = cache.ttl("wechat:stable-token:wx-app-1") if hasattr(cache, "ttl") else None
    assert ttl is None or 6800 <= ttl <= 6900


@responses.activate
def test_a_subscribe_message_posts_the_documented_body_with_the_token_in_the_query(platform):
    responses.post(TOKEN_URL, json=token_answer())
    responses.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})

    send_subscribe_message(platform=platform, message=MESSAGE)

    request = responses.calls[1].request
    assert request.url == f"{SEND_URL}?access_token=TOKEN-1"
    assert json.loads(request.body) == {
        "touser": "o-user-1",
        "template_id": "TPL-approved",
        "page": "pages/index/index",
        "data": {"thing1": {"value": "甲科技有限公司"}, "phrase2": {"value": "待签约"}},
        "miniprogram_state": "formal",
        "lang": "zh_CN",
    }


@responses.activate
def test_40001_refreshes_the_token_once_and_retries(platform):
    cache.set("wechat:stable-token:wx-app-1", "STALE", 600)
    responses.post(TOKEN_URL, json=token_answer("FRESH"))
    responses.post(SEND_URL, json={"errcode": 40001, "errmsg": "invalid credential"})
    responses.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})

    send_subscribe_message(platform=platform, message=MESSAGE)

    urls = [call.request.url for call in responses.calls]
    assert urls == [f"{SEND_URL}?access_token=STALE", TOKEN_URL, f"{SEND_URL}?access_token=FRESH"]
    assert json.loads(responses.calls[1].request.body)["force_refresh"] is False
    assert cache.get("wechat:stable-token:wx-app-1") == "FRESH"


@responses.activate
def test_a_token_wechat_hands_back_after_refusing_it_is_force_refreshed(platform):
    cache.set("wechat:stable-token:wx-app-1", "SAME", 600)
    responses.post(TOKEN_URL, json=token_answer("SAME"))
    responses.post(TOKEN_URL, json=token_answer("NEW"))
    responses.post(SEND_URL, json={"errcode": 40001, "errmsg": "invalid credential"})
    responses.post(SEND_URL, json={"errcode": 0, "errmsg": "ok"})

    send_subscribe_message(platform=platform, message=MESSAGE)

    token_calls = [json.loads(c.request.body) for c in responses.calls if c.request.url == TOKEN_URL]
    assert [call["force_refresh"] for call in token_calls] == [False, True]
    assert responses.calls[-1].request.url == f"{SEND_URL}?access_token=NEW"


@responses.activate
def test_a_second_40001_is_a_temporary_failure(platform):
    responses.post(TOKEN_URL, json=token_answer("T1"))
    responses.post(TOKEN_URL, json=token_answer("T2"))
    responses.post(SEND_URL, json={"errcode": 40001, "errmsg": "invalid credential"})

    with pytest.raises(WechatUnavailable, match="40001"):
        send_subscribe_message(platform=platform, message=MESSAGE)


@pytest.mark.parametrize(
    ("errcode", "error", "text"),
    [
        (43101, SubscribeRefused, "43101"),
        (40003, SubscribeRejected, "openid 无效"),
        (40037, SubscribeRejected, "订阅模板 ID 无效"),
        (47003, SubscribeRejected, "模板参数不符合规则"),
        (41030, SubscribeRejected, "跳转页面 page 无效"),
        (-1, WechatUnavailable, "-1"),
        (45009, WechatUnavailable, "45009"),
        (99999, WechatUnavailable, "99999"),
    ],
)
@responses.activate
def test_every_subscribe_errcode_is_mapped(platform, errcode, error, text):
    responses.post(TOKEN_URL, json=token_answer())
    responses.post(SEND_URL, json={"errcode": errcode, "errmsg": "argument invalid! data.thing1.value"})

    with pytest.raises(error, match=text) as caught:
        send_subscribe_message(platform=platform, message=MESSAGE)
    assert caught.value.errcode == errcode
    if error is SubscribeRefused:
        assert isinstance(caught.value, SubscribeRejected)  # refused is permanent too


@pytest.mark.parametrize(
    ("errcode", "hint"),
    [(-1, "繁忙"), (40013, "AppID 无效"), (40125, "AppSecret 无效"), (40164, "IP 白名单"), (45009, "上限")],
)
@responses.activate
def test_stable_token_errors_are_temporary_with_a_hint(platform, errcode, hint):
    responses.post(TOKEN_URL, json={"errcode": errcode, "errmsg": "x"})

    with pytest.raises(WechatUnavailable, match=hint):
        access_token(platform)
    assert cache.get("wechat:stable-token:wx-app-1") is None


@responses.activate
def test_network_errors_and_garbage_are_temporary_and_never_show_the_token(platform, caplog):
    import requests

    cache.set("wechat:stable-token:wx-app-1", "SECRET-TOKEN", 600)
    responses.post(SEND_URL, body=requests.ConnectTimeout(f"{SEND_URL}?access_token=SECRET-TOKEN timed out"))
    with pytest.raises(WechatUnavailable, match="ConnectTimeout"):
        send_subscribe_message(platform=platform, message=MESSAGE)

    responses.replace(responses.POST, SEND_URL, body="<html>502</html>", status=502)
    with pytest.raises(WechatUnavailable, match="非 JSON"):
        send_subscribe_message(platform=platform, message=MESSAGE)
    assert "SECRET-TOKEN" not in caplog.text
    assert "s3cret-app" not in caplog.text


@responses.activate
def test_requests_use_the_configured_timeouts(platform, settings):
    settings.WECHAT_TIMEOUT = (1.5, 4.0)
    responses.post(TOKEN_URL, json=token_answer())
    responses.post(SEND_URL, json={"errcode": 0})

    send_subscribe_message(platform=platform, message=MESSAGE)

    assert all(call.request.req_kwargs["timeout"] == (1.5, 4.0) for call in responses.calls)


@responses.activate
def test_a_process_waiting_on_the_lock_takes_the_token_the_holder_fetched(platform, monkeypatch):
    cache.add("wechat:stable-token-lock:wx-app-1", "someone-else", 10)
    calls = {"n": 0}

    def holder_finishes(seconds):
        calls["n"] += 1
        cache.set("wechat:stable-token:wx-app-1", "FROM-HOLDER", 600)

    monkeypatch.setattr(wechat_api.time, "sleep", holder_finishes)

    assert access_token(platform) == "FROM-HOLDER"
    assert len(responses.calls) == 0  # WeChat was not asked twice
    assert calls["n"] == 1


@responses.activate
def test_a_lock_holder_that_never_answers_does_not_block_for_ever(platform, monkeypatch):
    cache.add("wechat:stable-token-lock:wx-app-1", "dead-process", 10)
    clock = {"t": 0.0}
    monkeypatch.setattr(wechat_api.time, "monotonic", lambda: clock["t"])
    monkeypatch.setattr(wechat_api.time, "sleep", lambda s: clock.__setitem__("t", clock["t"] + s))
    responses.post(TOKEN_URL, json=token_answer("MINE"))

    assert access_token(platform) == "MINE"
    assert cache.get("wechat:stable-token-lock:wx-app-1") == "dead-process"  # not ours to delete


def test_a_shared_cache_outage_is_a_temporary_failure(platform, monkeypatch):
    def down(*args, **kwargs):
        raise ConnectionError("Error 111 connecting to redis")

    monkeypatch.setattr(cache, "get", down)
    with pytest.raises(WechatUnavailable, match="共享缓存不可用"):
        access_token(platform)


def test_a_platform_without_credentials_is_a_clear_failure(settings):
    settings.WECHAT_BACKEND = "wechat"
    platform = PlatformFactory(code="nocreds", wechat_appid="wx-x", wechat_secret="")
    with pytest.raises(WechatUnavailable, match="未配置小程序 AppID/AppSecret"):
        access_token(platform)


@responses.activate
def test_the_fake_backend_sends_nothing(platform, settings):
    settings.WECHAT_BACKEND = "fake"
    settings.DEBUG = True

    send_subscribe_message(platform=platform, message=MESSAGE)

    assert len(responses.calls) == 0


def test_the_fake_backend_is_refused_in_production(platform, settings):
    settings.WECHAT_BACKEND = "fake"
    settings.DEBUG = False
    with pytest.raises(WechatUnavailable, match="调试模式"):
        send_subscribe_message(platform=platform, message=MESSAGE)
