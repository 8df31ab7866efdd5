"""SMS gateways (employees.sms): signatures against the vendors' vectors, requests, reply mapping."""

import json
import logging
from datetime import UTC, datetime
from urllib.parse import parse_qsl

import pytest
import requests
import responses
from django.core.exceptions import ImproperlyConfigured

from employees import sms
from shanqian.errors import RateLimited, UpstreamFailed
from tests.support.sms import sent_sms

PHONE = "13800138000"
CODE = "604213"
TEXT = f"【闪签云】您的验证码是 {CODE}，用于提交简历，5 分钟内有效。"
ALIYUN_URL = "https://dysmsapi.aliyuncs.com/"
TENCENT_URL = "https://sms.tencentcloudapi.com/"
ALIYUN_SECRET = "aliyun-secret-do-not-log"
TENCENT_SECRET = "tencent-secret-do-not-log"


class TestSignatureVectors:
    def test_aliyun_rpc_vector_from_protocols_md(self):
        # The vector spells the timestamp key "TimeStamp", exactly as Aliyun's documented example does.
        params = {
            "TimeStamp": "2016-02-23T12:46:24Z",
            "Format": "XML",
            "AccessKeyId": "testid",
            "Action": "DescribeRegions",
            "SignatureMethod": "HMAC-SHA1",
            "SignatureNonce": "3ee8c1b8-83d3-44af-a94f-4e0ad82fd6cf",
            "Version": "2014-05-26",
            "SignatureVersion": "1.0",
        }
        assert sms.aliyun_rpc_signature(params, "testsecret", method="GET") == "CT9X0VtwR86fNWSnsc6v8YGOjuE="

    def test_aliyun_percent_encoding_is_rfc3986(self):
        assert sms.percent_encode("a b*~/:") == "a%20b%2A~%2F%3A"
        assert sms.percent_encode('{"code":"1"}') == "%7B%22code%22%3A%221%22%7D"
        assert sms.percent_encode("闪") == "%E9%97%AA"

    def test_tencent_tc3_vector_from_protocols_md(self):
        payload = '{"Limit": 1, "Filters": [{"Values": ["\\u672a\\u547d\\u540d"], "Name": "instance-name"}]}'

        signature = sms.tc3_signature(
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service="cvm",
            host="cvm.tencentcloudapi.com",
            timestamp=1551113065,
            payload=payload,
        )

        assert signature == "72e494ea809ad7a8c8f7a4507b9bddcbaa8e581f516e8da2f66e2c5a96525168"

    def test_tencent_authorization_header_shape(self):
        header = sms.tc3_authorization(
            "AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE",
            "Gu5t9xGARNpq86cd98joQYCN3EXAMPLE",
            service="cvm",
            host="cvm.tencentcloudapi.com",
            timestamp=1551113065,
            payload="{}",
        )
        assert header.startswith(
            "TC3-HMAC-SHA256 Credential=AKIDz8krbsJ5yKBZQpn74WFkmLPx3EXAMPLE/2019-02-25/cvm/tc3_request, "
            "SignedHeaders=content-type;host, Signature="
        )


@pytest.fixture
def aliyun(settings):
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_TIMEOUT = (2.0, 4.0)
    settings.SMS_ALIYUN = {
        "ACCESS_KEY_ID": "LTAI-test-id",
        "ACCESS_KEY_SECRET": ALIYUN_SECRET,
        "SIGN_NAME": "闪签云",
        "TEMPLATE_CODE": "SMS_123456",
        "ENDPOINT": ALIYUN_URL,
    }


@pytest.fixture
def tencent(settings):
    settings.SMS_BACKEND = "tencent"
    settings.SMS_TIMEOUT = (2.0, 4.0)
    settings.SMS_TENCENT = {
        "SECRET_ID": "AKID-test",
        "SECRET_KEY": TENCENT_SECRET,
        "SDK_APP_ID": "1400006666",
        "SIGN_NAME": "闪签云",
        "TEMPLATE_ID": "1110",
        "REGION": "ap-guangzhou",
        "ENDPOINT": TENCENT_URL,
    }


class TestAliyun:
    @responses.activate
    def test_sends_a_signed_sendsms_request(self, aliyun, caplog):
        responses.post(
            ALIYUN_URL,
            json={"Code": "OK", "Message": "OK", "BizId": "9006197469364984", "RequestId": "F655A8D5"},
            match=[responses.matchers.request_kwargs_matcher({"timeout": (2.0, 4.0)})],
        )

        with caplog.at_level(logging.DEBUG):
            sms.send_sms(PHONE, CODE, TEXT)

        request = responses.calls[0].request
        assert request.method == "POST"
        assert request.url == ALIYUN_URL
        params = dict(parse_qsl(request.body))
        assert {k: params[k] for k in ("Action", "Version", "Format", "AccessKeyId", "SignatureMethod")} == {
            "Action": "SendSms",
            "Version": "2017-05-25",
            "Format": "JSON",
            "AccessKeyId": "LTAI-test-id",
            "SignatureMethod": "HMAC-SHA1",
        }
        assert params["SignatureVersion"] == "1.0"
        assert params["PhoneNumbers"] == PHONE
        assert params["SignName"] == "闪签云"
        assert params["TemplateCode"] == "SMS_123456"
        assert json.loads(params["TemplateParam"]) == {"code": CODE}
        assert datetime.strptime(params["Timestamp"], "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
        assert params["SignatureNonce"]
        signature = params.pop("Signature")
        assert signature == sms.aliyun_rpc_signature(params, ALIYUN_SECRET, method="POST")
        assert ALIYUN_SECRET not in request.body
        assert ALIYUN_SECRET not in caplog.text
        assert CODE not in caplog.text

    @responses.activate
    def test_every_request_has_a_fresh_nonce(self, aliyun):
        responses.post(ALIYUN_URL, json={"Code": "OK"})
        sms.send_sms(PHONE, CODE, TEXT)
        sms.send_sms(PHONE, CODE, TEXT)
        nonces = {dict(parse_qsl(call.request.body))["SignatureNonce"] for call in responses.calls}
        assert len(nonces) == 2

    @pytest.mark.parametrize(
        ("reply", "error"),
        [
            ({"json": {"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控Permits:10"}}, RateLimited),
            ({"json": {"Code": "isv.MOBILE_NUMBER_ILLEGAL"}, "status": 400}, UpstreamFailed),
            ({"json": {"Code": "isv.AMOUNT_NOT_ENOUGH"}}, UpstreamFailed),
            ({"json": {"Code": "SignatureDoesNotMatch"}, "status": 400}, UpstreamFailed),
            ({"json": {"Message": "no code"}}, UpstreamFailed),
            ({"json": [1, 2]}, UpstreamFailed),
            ({"body": "<Error>xml</Error>", "status": 500}, UpstreamFailed),
            ({"body": requests.ConnectionError("boom")}, UpstreamFailed),
            ({"body": requests.ReadTimeout("slow")}, UpstreamFailed),
        ],
    )
    @responses.activate
    def test_replies_map_to_domain_errors(self, aliyun, reply, error, caplog):
        responses.post(ALIYUN_URL, **reply)

        with caplog.at_level(logging.DEBUG), pytest.raises(error) as raised:
            sms.send_sms(PHONE, CODE, TEXT)

        assert raised.value.code == (42900 if error is RateLimited else 50200)
        assert ALIYUN_SECRET not in caplog.text
        assert CODE not in caplog.text


class TestTencent:
    @responses.activate
    def test_sends_a_tc3_signed_json_request(self, tencent, caplog, monkeypatch):
        responses.post(
            TENCENT_URL,
            json={"Response": {"SendStatusSet": [{"Code": "Ok", "Message": "send success"}], "RequestId": "r"}},
            match=[responses.matchers.request_kwargs_matcher({"timeout": (2.0, 4.0)})],
        )

        with caplog.at_level(logging.DEBUG):
            sms.send_sms(PHONE, CODE, TEXT)

        request = responses.calls[0].request
        assert request.method == "POST"
        assert request.url == TENCENT_URL
        assert request.headers["Content-Type"] == "application/json; charset=utf-8"
        assert request.headers["Host"] == "sms.tencentcloudapi.com"
        assert request.headers["X-TC-Action"] == "SendSms"
        assert request.headers["X-TC-Version"] == "2021-01-11"
        assert request.headers["X-TC-Region"] == "ap-guangzhou"
        timestamp = int(request.headers["X-TC-Timestamp"])
        payload = request.body.decode()
        assert json.loads(payload) == {
            "PhoneNumberSet": ["+8613800138000"],
            "SmsSdkAppId": "1400006666",
            "SignName": "闪签云",
            "TemplateId": "1110",
            "TemplateParamSet": [CODE],
        }
        assert request.headers["Authorization"] == sms.tc3_authorization(
            "AKID-test",
            TENCENT_SECRET,
            service="sms",
            host="sms.tencentcloudapi.com",
            timestamp=timestamp,
            payload=payload,
        )
        date = datetime.fromtimestamp(timestamp, UTC).strftime("%Y-%m-%d")
        assert f"Credential=AKID-test/{date}/sms/tc3_request" in request.headers["Authorization"]
        assert TENCENT_SECRET not in request.headers["Authorization"]
        assert TENCENT_SECRET not in caplog.text
        assert CODE not in caplog.text

    @pytest.mark.parametrize(
        ("body", "error"),
        [
            ({"Response": {"Error": {"Code": "LimitExceeded.DeliveryFrequencyLimit", "Message": "m"}}}, RateLimited),
            ({"Response": {"Error": {"Code": "InvalidParameterValue.IncorrectPhoneNumber"}}}, UpstreamFailed),
            ({"Response": {"Error": {"Code": "AuthFailure.SignatureFailure"}}}, UpstreamFailed),
            ({"Response": {"SendStatusSet": [{"Code": "LimitExceeded.PhoneNumberDailyLimit"}]}}, RateLimited),
            (
                {"Response": {"SendStatusSet": [{"Code": "FailedOperation.InsufficientBalanceInSmsPackage"}]}},
                UpstreamFailed,
            ),
            ({"Response": {"SendStatusSet": []}}, UpstreamFailed),
            ({"Response": {"SendStatusSet": ["Ok"]}}, UpstreamFailed),
            ({"Response": "nope"}, UpstreamFailed),
            ({"nothing": True}, UpstreamFailed),
        ],
    )
    @responses.activate
    def test_replies_map_to_domain_errors(self, tencent, body, error, caplog):
        responses.post(TENCENT_URL, json=body)

        with caplog.at_level(logging.DEBUG), pytest.raises(error):
            sms.send_sms(PHONE, CODE, TEXT)

        assert TENCENT_SECRET not in caplog.text

    @responses.activate
    def test_network_failure_is_upstream_failed(self, tencent):
        responses.post(TENCENT_URL, body=requests.ConnectionError("refused"))
        with pytest.raises(UpstreamFailed):
            sms.send_sms(PHONE, CODE, TEXT)


class TestDevelopmentBackends:
    def test_file_backend_appends_one_json_line_per_message(self, settings, tmp_path):
        settings.SMS_BACKEND = "file"
        settings.SMS_FILE_PATH = str(tmp_path / "deep" / "dir" / "sms.jsonl")

        sms.send_sms(PHONE, CODE, TEXT)
        sms.send_sms("13900139000", "111111", "第二条")

        first, second = sent_sms()
        assert (first["phone"], first["code"], first["text"]) == (PHONE, CODE, TEXT)
        assert datetime.fromisoformat(first["sent_at"]).tzinfo is not None
        assert second["phone"] == "13900139000"

    def test_console_backend_shows_the_code_only_in_debug(self, settings, caplog):
        settings.SMS_BACKEND = "console"
        settings.DEBUG = True
        with caplog.at_level(logging.INFO, logger="employees.sms"):
            sms.send_sms(PHONE, CODE, TEXT)
        assert CODE in caplog.text
        assert "138****8000" in caplog.text and PHONE not in caplog.text

        caplog.clear()
        settings.DEBUG = False
        with caplog.at_level(logging.INFO, logger="employees.sms"):
            sms.send_sms(PHONE, CODE, TEXT)
        assert CODE not in caplog.text
        assert "******" in caplog.text

    def test_unknown_backend_is_a_configuration_error(self, settings):
        settings.SMS_BACKEND = "pigeon"
        with pytest.raises(ImproperlyConfigured, match="pigeon"):
            sms.send_sms(PHONE, CODE, TEXT)
