"""
HR notices (SPEC §11 "To HR"): what a handler is told, as an email and as a 企业微信 message.

The outbox row holds only ids and the notice's own values; the text is made at delivery from
the application (``render``), so no name or phone sits in the outbox. The email, which goes to
the handler alone, names the applicant; the group-robot message, which a whole chat reads, does
not — it carries the application number, company, position and a link into the back office.
"""

from __future__ import annotations

from dataclasses import dataclass

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.mail import send_mail
from django.urls import reverse
from django.utils import timezone

from shanqian.outbox import Delivered, Fail, Retry
from signing.models import SignApplication

from . import catalog, wecom
from .catalog import HrNotice
from .models import WecomRobot


@dataclass(frozen=True)
class Rendered:
    subject: str
    lines: list[str]  # for the handler's email (may name the applicant)
    public_lines: list[str]  # for a group chat (no personal data)
    link: str


def backoffice_link(application_id: int) -> str:
    path = reverse("admin:signing_signapplication_change", args=[application_id])
    return settings.BACKOFFICE_BASE_URL.rstrip("/") + path


def _application(application_id: int):
    return (
        SignApplication.objects.select_related("em", "company", "ad_user")
        .only(
            "pk",
            "work_pos",
            "apply_time",
            "entry_date",
            "em__real_name",
            "company__company_name",
            "ad_user__name",
            "ad_user__username",
            "ad_user__first_name",
            "ad_user__last_name",
        )
        .filter(pk=application_id)
        .first()
    )


def render(kind: str, application_id: int, values: dict) -> Rendered:
    application = _application(application_id)
    if application is None:
        raise Fail(f"签约申请 #{application_id} 已不存在")
    number = f"#{application.pk}"
    company = application.company.company_name
    facts = [f"用人单位：{company}", f"岗位：{application.work_pos}", f"处理人：{application.ad_user.display_name}"]
    titles = {
        HrNotice.ASSIGNED: "新的签约申请",
        HrNotice.REVIEWED: "您负责的签约申请已由他人处理",
        HrNotice.SIGNED: "劳动合同已签署",
        HrNotice.CONTRACT_EXPIRING: "劳动合同即将到期",
        HrNotice.PROBATION_ENDING: "试用期即将届满",
    }
    extra = []
    if kind == HrNotice.ASSIGNED:
        extra = [f"申请时间：{timezone.localtime(application.apply_time):%Y-%m-%d %H:%M}"]
    elif kind == HrNotice.REVIEWED:
        extra = [f"处理：{values.get('by', '')} {values.get('move', '')}".rstrip()]
    elif kind == HrNotice.SIGNED:
        extra = [f"签署时间：{catalog.format_time(values.get('event_time'))}"]
    elif kind == HrNotice.CONTRACT_EXPIRING:
        extra = [f"合同终止日期：{catalog.format_date(values.get('end_date'))}"]
    elif kind == HrNotice.PROBATION_ENDING:
        extra = [f"试用期届满：{catalog.format_date(values.get('probation_end'))}"]
    title = titles.get(kind, HrNotice(kind).label if kind in HrNotice.values else kind)
    return Rendered(
        subject=f"【闪签云】{title} {number}",
        lines=[f"签约人：{application.em.real_name}", *facts, *extra],
        public_lines=facts + extra,
        link=backoffice_link(application.pk),
    )


def deliver_email(message) -> Delivered:
    payload = message.payload
    handler = get_user_model().objects.filter(pk=payload["handler_id"]).only("email", "is_active").first()
    if handler is None or not handler.is_active:
        raise Fail("处理人已不存在或已停用")
    if not handler.email:
        raise Fail("处理人没有邮箱地址")
    rendered = render(payload["kind"], payload["application_id"], payload.get("values") or {})
    body = "\n".join([*rendered.lines, "", f"请登录秒云达后台处理：{rendered.link}", "", "（本邮件由闪签云自动发送）"])
    try:
        send_mail(rendered.subject, body, None, [handler.email], fail_silently=False)
    except Exception as exc:  # smtplib's errors are OSErrors; other email backends raise their own
        raise Retry(f"发送邮件失败（{type(exc).__name__}）") from None
    return Delivered()


def deliver_wecom(message) -> Delivered:
    payload = message.payload
    robot = WecomRobot.objects.filter(pk=payload["robot_id"]).first()
    if robot is None or not robot.enabled:
        raise Fail("企业微信群机器人已删除或已停用")
    rendered = render(payload["kind"], payload["application_id"], payload.get("values") or {})
    title, number = rendered.subject.removeprefix("【闪签云】").rsplit(" ", 1)
    content = "\n".join(
        [f"**{title}** {number}", *(f"> {line}" for line in rendered.public_lines), f"[在后台查看]({rendered.link})"]
    )
    code = wecom.send_markdown(robot_id=robot.pk, url=robot.url, content=content)
    return Delivered(response_code=code)
