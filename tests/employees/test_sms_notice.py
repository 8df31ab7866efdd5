"""SMS notices (employees.sms.send_notice): the file backend's empty code, the vendors' notice templates."""

import json
import logging
from urllib.parse import parse_qsl

import pytest
import responses

from employees import sms
from shanqian.errors import RateLimited

PHONE = "13800138000"
TEXT = "【闪签云】您在甲科技有限公司的签约申请已审核通过，请进入小程序阅读并签署劳动合同。"
PARAMS = {"company": "甲科技有限公司"}


def test_the_file_backend_writes_a_notice_with_an_empty_code(settings, tmp_path):
    settings.SMS_BACKEND = "file"
    settings.SMS_FILE_PATH = str(tmp_path / "sms.jsonl")

    sms.send_notice(PHONE, kind="approved", text=TEXT, params=PARAMS)

    line = json.loads((tmp_path / "sms.jsonl").read_text().strip())
    assert (line["phone"], line["code"], line["text"]) == (PHONE, "", TEXT)
    assert line["sent_at"]


def test_the_console_backend_shows_the_text_only_to_a_developer(settings, caplog):
    settings.SMS_BACKEND = "console"
    caplog.set_level(logging.INFO, logger="employees.sms")

    settings.DEBUG = True
    sms.send_notice(PHONE, kind="rejected", text="原因：照片模糊", params={})
    settings.DEBUG = False
    sms.send_notice(PHONE, kind="rejected", text="原因：照片模糊", params={})

    debug_line, production_line = [r.getMessage() for r in caplog.records]
    assert "原因：照片模糊" in debug_line and "138****8000" in debug_line
    assert "原因" not in production_line and "rejected" in production_line
    assert PHONE not in caplog.text


@responses.activate
def test_aliyun_sends_the_kinds_template_with_named_params(settings):
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_NOTICE_TEMPLATES = {"approved": "SMS_NOTICE_1"}
    settings.SMS_ALIYUN = {
        "ACCESS_KEY_ID": "id",
        "ACCESS_KEY_SECRET": "secret",
        "SIGN_NAME": "闪签云",
        "TEMPLATE_CODE": "SMS_CODE",
        "ENDPOINT": "https://dysmsapi.aliyuncs.com/",
    }
    responses.post("https://dysmsapi.aliyuncs.com/", json={"Code": "OK", "Message": "OK"})

    sms.send_notice(PHONE, kind="approved", text=TEXT, params=PARAMS)

    form = dict(parse_qsl(responses.calls[0].request.body))
    assert form["TemplateCode"] == "SMS_NOTICE_1"
    assert json.loads(form["TemplateParam"]) == PARAMS
    assert form["PhoneNumbers"] == PHONE
    assert form["Signature"]


@responses.activate
def test_tencent_sends_the_kinds_template_with_the_params_in_order(settings):
    settings.SMS_BACKEND = "tencent"
    settings.SMS_NOTICE_TEMPLATES = {"rejected": "2200"}
    settings.SMS_TENCENT = {
        "SECRET_ID": "id",
        "SECRET_KEY": "key",
        "SDK_APP_ID": "1400006666",
        "SIGN_NAME": "闪签云",
        "TEMPLATE_ID": "1110",
        "REGION": "ap-guangzhou",
        "ENDPOINT": "https://sms.tencentcloudapi.com/",
    }
    responses.post("https://sms.tencentcloudapi.com/", json={"Response": {"SendStatusSet": [{"Code": "Ok"}]}})

    sms.send_notice(PHONE, kind="rejected", text="x", params={"company": "甲公司", "reason": "照片模糊"})

    body = json.loads(responses.calls[0].request.body)
    assert body["TemplateId"] == "2200"
    assert body["TemplateParamSet"] == ["甲公司", "照片模糊"]


@responses.activate
def test_the_vendors_flow_control_is_a_rate_limit(settings):
    settings.SMS_BACKEND = "aliyun"
    settings.SMS_NOTICE_TEMPLATES = {"approved": "SMS_NOTICE_1"}
    responses.post(
        settings.SMS_ALIYUN["ENDPOINT"], json={"Code": "isv.BUSINESS_LIMIT_CONTROL", "Message": "触发天级流控"}
    )

    with pytest.raises(RateLimited):
        sms.send_notice(PHONE, kind="approved", text=TEXT, params=PARAMS)


@pytest.mark.parametrize("backend", ["aliyun", "tencent"])
def test_a_kind_without_a_template_is_not_configured(settings, backend):
    settings.SMS_BACKEND = backend
    settings.SMS_NOTICE_TEMPLATES = {}

    with pytest.raises(sms.NoticeNotConfigured, match="approved"):
        sms.send_notice(PHONE, kind="approved", text=TEXT, params=PARAMS)
