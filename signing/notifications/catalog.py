"""
What can be told, to whom (SPEC §11): the kinds of worker notices, HR notices and webhook events,
the values a worker notice carries (the vocabulary of subscribe-template mappings), and the SMS
text and template parameters of each worker notice.

Adding a kind is adding a row here (and, for an HR notice, its renderer in ``hr.py``); the
channels and the back office pick it up.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.db import models
from django.utils import timezone


class WorkerNotice(models.TextChoices):
    APPROVED = "approved", "审核通过（请阅读并签署）"
    REJECTED = "rejected", "申请被驳回"
    CANCELLED = "cancelled", "申请被取消"
    SIGNED = "signed", "签署完成（如何下载）"
    CONTRACT_EXPIRING = "contract_expiring", "合同即将到期"
    CONTRACT_ENDED = "contract_ended", "合同已终止/解除"
    # The outcome of a request to delete one's personal information (SPEC §13, signing.privacy).
    DELETION_DONE = "deletion_done", "个人信息已删除"
    DELETION_PARTIAL = "deletion_partial", "个人信息已删除（依法保留部分）"
    DELETION_REFUSED = "deletion_refused", "个人信息删除申请被拒绝"


# Notices about the person rather than one application: they name no employer.
PERSON_NOTICES = (WorkerNotice.DELETION_DONE, WorkerNotice.DELETION_PARTIAL, WorkerNotice.DELETION_REFUSED)


class HrNotice(models.TextChoices):
    ASSIGNED = "application_assigned", "新的签约申请"
    # Another staff member (a supervisor) moved an application assigned to this handler.
    REVIEWED = "application_reviewed", "申请已由他人处理"
    SIGNED = "contract_signed", "合同已签署"
    CONTRACT_EXPIRING = "contract_expiring", "合同即将到期"
    PROBATION_ENDING = "probation_ending", "试用期即将届满"


class WebhookEvent(models.TextChoices):
    STATUS_CHANGED = "application.status_changed", "签约申请状态变更"
    CONTRACT_SIGNED = "contract.signed", "合同已签署"
    CONTRACT_ENDED = "contract.ended", "合同已终止/解除"


# --- the values of a worker notice --------------------------------------------------------------------

TEXT, DATE, TIME, ID = "text", "date", "time", "id"


@dataclass(frozen=True)
class Value:
    label: str
    type: str


VALUES: dict[str, Value] = {
    "company_name": Value("用人单位", TEXT),
    "work_pos": Value("岗位", TEXT),
    "status_text": Value("申请状态", TEXT),
    "reason": Value("驳回原因", TEXT),
    "tip": Value("温馨提示", TEXT),
    "ground": Value("终止/解除事由", TEXT),
    "entry_date": Value("入职日期", DATE),
    "end_date": Value("合同终止日期", DATE),
    "event_time": Value("通知时间", TIME),
    "application_id": Value("申请编号", ID),
}

_COMMON = ("company_name", "work_pos", "status_text", "tip", "event_time", "application_id")
KIND_VALUES: dict[str, tuple[str, ...]] = {
    WorkerNotice.APPROVED: (*_COMMON, "entry_date"),
    WorkerNotice.REJECTED: (*_COMMON, "reason"),
    WorkerNotice.CANCELLED: _COMMON,
    WorkerNotice.SIGNED: (*_COMMON, "entry_date"),
    WorkerNotice.CONTRACT_EXPIRING: (*_COMMON, "end_date"),
    WorkerNotice.CONTRACT_ENDED: (*_COMMON, "end_date", "ground"),
    WorkerNotice.DELETION_DONE: ("status_text", "tip", "event_time"),
    WorkerNotice.DELETION_PARTIAL: ("status_text", "tip", "event_time", "end_date"),
    WorkerNotice.DELETION_REFUSED: ("status_text", "tip", "event_time", "reason"),
}

TIPS = {
    WorkerNotice.APPROVED: "请进入小程序阅读并签署合同",
    WorkerNotice.REJECTED: "可修改简历后重新提交",
    WorkerNotice.CANCELLED: "如有疑问请联系人事专员",
    WorkerNotice.SIGNED: "可在小程序签约记录中下载合同",
    WorkerNotice.CONTRACT_EXPIRING: "请留意续签安排",
    WorkerNotice.CONTRACT_ENDED: "可在小程序中查看证明书",
    WorkerNotice.DELETION_DONE: "您的个人信息已删除",
    WorkerNotice.DELETION_PARTIAL: "劳动合同及其证据依法保留",
    WorkerNotice.DELETION_REFUSED: "如有疑问请联系人事专员",
}

# The SMS fallback: the text (what the console and file backends show) and the vendor template's
# parameters, by name (Aliyun) and in this order (Tencent). Operators create one template per kind
# with these variables and list them in SMS_NOTICE_TEMPLATES.
SMS_TEXTS = {
    WorkerNotice.APPROVED: "【闪签云】您在{company}的签约申请已审核通过，请进入小程序阅读并签署劳动合同。",
    WorkerNotice.REJECTED: (
        "【闪签云】您在{company}的签约申请未通过审核，原因：{reason}。可在小程序中修改简历后重新提交。"
    ),
    WorkerNotice.CANCELLED: "【闪签云】您在{company}的签约申请已被取消，如有疑问请联系人事专员。",
    WorkerNotice.SIGNED: "【闪签云】您与{company}的劳动合同已签署完成，可在小程序「签约记录」中查看和下载合同文件。",
    WorkerNotice.CONTRACT_EXPIRING: "【闪签云】您与{company}的劳动合同将于{end_date}到期，请留意续签安排。",
    WorkerNotice.CONTRACT_ENDED: (
        "【闪签云】您与{company}的劳动合同已于{end_date}终止，解除（终止）劳动合同证明书可在小程序中查看。"
    ),
    WorkerNotice.DELETION_DONE: "【闪签云】您的个人信息删除申请已办理完毕，您的个人信息已删除。",
    WorkerNotice.DELETION_PARTIAL: (
        "【闪签云】您的个人信息删除申请已办理：可删除的信息已删除；劳动合同及其证据依法保留，"
        "保留期满后删除。详情可在小程序中查看。"
    ),
    WorkerNotice.DELETION_REFUSED: "【闪签云】您的个人信息删除申请未获同意，原因：{reason}。如有疑问请联系人事专员。",
}
SMS_PARAMS = {
    WorkerNotice.APPROVED: ("company",),
    WorkerNotice.REJECTED: ("company", "reason"),
    WorkerNotice.CANCELLED: ("company",),
    WorkerNotice.SIGNED: ("company",),
    WorkerNotice.CONTRACT_EXPIRING: ("company", "end_date"),
    WorkerNotice.CONTRACT_ENDED: ("company", "end_date"),
    WorkerNotice.DELETION_DONE: (),
    WorkerNotice.DELETION_PARTIAL: (),
    WorkerNotice.DELETION_REFUSED: ("reason",),
}
SMS_PARAM_MAX_LENGTH = 20  # vendors cap template variables (Aliyun: 35 characters; keep them short)
SMS_PARAM_SOURCES = {"company": "company_name", "reason": "reason", "end_date": "end_date"}


def format_date(value) -> str:
    if isinstance(value, datetime.datetime):
        value = timezone.localtime(value).date()
    if isinstance(value, datetime.date):
        return f"{value.year}年{value.month}月{value.day}日"
    return str(value or "")


def format_time(value) -> str:
    if isinstance(value, datetime.datetime):
        local = timezone.localtime(value)
        return f"{local.year}年{local.month}月{local.day}日 {local:%H:%M}"
    return format_date(value)


def as_text(key: str, value) -> str:
    """A value of the vocabulary as the text a message shows."""
    kind = VALUES[key].type if key in VALUES else TEXT
    if kind == DATE:
        return format_date(value)
    if kind == TIME:
        return format_time(value)
    return "" if value is None else str(value)


def clip(text: str, limit: int) -> str:
    text = " ".join(str(text).split())
    return text if len(text) <= limit else text[: limit - 1] + "…"


def sms_key(kind: str, values: dict) -> tuple:
    """What the SMS of ``kind`` depends on (equal keys, equal texts): a batch renders each once."""
    return (kind, *(values.get(SMS_PARAM_SOURCES[name]) for name in SMS_PARAMS[kind]))


def sms_text_and_params(kind: str, values: dict) -> tuple[str, dict[str, str]]:
    params = {
        name: clip(as_text(SMS_PARAM_SOURCES[name], values.get(SMS_PARAM_SOURCES[name])), SMS_PARAM_MAX_LENGTH)
        for name in SMS_PARAMS[kind]
    }
    full = {name: as_text(SMS_PARAM_SOURCES[name], values.get(SMS_PARAM_SOURCES[name])) for name in SMS_PARAMS[kind]}
    return SMS_TEXTS[kind].format(**full), params
