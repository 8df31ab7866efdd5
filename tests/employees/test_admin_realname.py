"""The real-name queue (实名审核) in the back office: 实名中 by default, 实名成功 / 实名失败 with a reason."""

import datetime
import re

import pytest
from django.utils import timezone

from employees.masking import mask_id_number
from employees.models import RealnameVerification, VerifyStatus, WechatUser
from employees.services.realname import realname_submit
from shanqian.storage import file_name_from_url
from tests.factories import make_application
from tests.support.admin import action_post, client_for, messages_of

pytestmark = pytest.mark.django_db

QUEUE = "/admin/employees/realnameverification/"


def submitted(application):
    return realname_submit(user=application.em.user)


def names_in_queue(response) -> list[str]:
    return re.findall(r'<th class="field-real_name"><a href="[^"]+">([^<]+)</a></th>', response.content.decode())


def state(verification):
    row = RealnameVerification.objects.values("status", "reason", "decided_by_id").get(pk=verification.pk)
    user = WechatUser.objects.values("verify_status", "verify_reason").get(pk=verification.user_id)
    return row, user


@pytest.fixture
def waiting(application):
    return submitted(application)


def test_the_queue_opens_on_verifying_rows_oldest_first(handler_client, handler, company):
    rows = []
    for n, name in enumerate(["新提交", "老提交", "已通过"]):
        verification = submitted(make_application(handler=handler, company=company, name=name))
        RealnameVerification.objects.filter(pk=verification.pk).update(
            submitted_at=timezone.now() - datetime.timedelta(hours=[1, 5, 9][n])
        )
        rows.append(verification)
    RealnameVerification.objects.filter(pk=rows[2].pk).update(status=VerifyStatus.VERIFIED)

    assert names_in_queue(handler_client.get(QUEUE)) == ["老提交", "新提交"]
    assert sorted(names_in_queue(handler_client.get(f"{QUEUE}?status=all"))) == sorted(["新提交", "老提交", "已通过"])
    assert names_in_queue(handler_client.get(f"{QUEUE}?status=2")) == ["已通过"]
    assert handler_client.get(f"{QUEUE}?status=9").status_code in (200, 302)


def test_the_queue_shows_masked_id_photos_and_time(handler_client, waiting):
    page = handler_client.get(QUEUE).content.decode()

    assert f"{waiting.id_number[:6]}********{waiting.id_number[-4:]}" in page
    assert waiting.id_number not in page
    photos = re.findall(r'<img src="([^"]+)" alt="身份证(?:正面|反面)"', page)
    assert [file_name_from_url(url) for url in photos] == [
        waiting.id_card_front.file.name,
        waiting.id_card_back.file.name,
    ]
    assert f"{timezone.localtime(waiting.submitted_at):%Y}" in page


def test_bulk_pass_asks_for_confirmation_then_decides(handler_client, handler, company, waiting):
    second = submitted(make_application(handler=handler, company=company, name="李四"))

    first = action_post(handler_client, "pass_selected", [waiting.pk, second.pk], url=QUEUE)
    assert first.status_code == 200
    assert "实名成功：2 条实名认证" in first.content.decode()
    assert state(waiting)[0]["status"] == VerifyStatus.VERIFYING

    response = action_post(handler_client, "pass_selected", [waiting.pk, second.pk], url=QUEUE, confirm=True)

    assert response.status_code == 302
    for verification in (waiting, second):
        row, user = state(verification)
        assert (row["status"], row["decided_by_id"]) == (VerifyStatus.VERIFIED, handler.pk)
        assert user["verify_status"] == VerifyStatus.VERIFIED


def test_bulk_fail_requires_a_reason(handler_client, waiting):
    before = state(waiting)

    response = action_post(handler_client, "fail_selected", [waiting.pk], url=QUEUE, confirm=True, reason=" ")
    assert response.status_code == 200
    assert "请填写实名失败原因。" in response.content.decode()
    assert state(waiting) == before

    action_post(handler_client, "fail_selected", [waiting.pk], url=QUEUE, confirm=True, reason="身份证照片模糊")

    row, user = state(waiting)
    assert (row["status"], row["reason"]) == (VerifyStatus.FAILED, "身份证照片模糊")
    assert (user["verify_status"], user["verify_reason"]) == (VerifyStatus.FAILED, "身份证照片模糊")


def test_bulk_decisions_report_already_decided_rows(handler_client, handler, company, waiting):
    done = submitted(make_application(handler=handler, company=company, name="王五"))
    action_post(handler_client, "pass_selected", [done.pk], url=QUEUE, confirm=True)

    response = action_post(
        handler_client, "fail_selected", [waiting.pk, done.pk], url=f"{QUEUE}?status=all", confirm=True, reason="不符"
    )

    final = handler_client.get(response["Location"])
    assert any(f"王五（#{done.pk}）：该实名认证已处理（实名成功）" in m for m in messages_of(final, "error"))
    assert state(waiting)[0]["status"] == VerifyStatus.FAILED
    assert state(done)[0]["status"] == VerifyStatus.VERIFIED


def test_per_object_buttons_and_views(handler_client, waiting):
    page = handler_client.get(f"{QUEUE}{waiting.pk}/change/").content.decode()
    assert f"{QUEUE}{waiting.pk}/decide/pass/" in page and f"{QUEUE}{waiting.pk}/decide/fail/" in page
    assert waiting.id_number not in page and mask_id_number(waiting.id_number) in page  # masked until revealed
    revealed = handler_client.post(f"{QUEUE}{waiting.pk}/reveal/").content.decode()
    assert waiting.id_number in revealed  # 显示完整信息: next to the photos

    form = handler_client.get(f"{QUEUE}{waiting.pk}/decide/fail/")
    assert form.status_code == 200 and "实名失败原因" in form.content.decode()
    assert handler_client.post(f"{QUEUE}{waiting.pk}/decide/fail/", {"reason": ""}).status_code == 200
    assert state(waiting)[0]["status"] == VerifyStatus.VERIFYING

    response = handler_client.post(f"{QUEUE}{waiting.pk}/decide/fail/", {"reason": "请上传清晰照片"})

    assert response.status_code == 302
    assert state(waiting)[0]["reason"] == "请上传清晰照片"
    page = handler_client.get(f"{QUEUE}{waiting.pk}/change/").content.decode()
    assert "/decide/" not in page
    again = handler_client.post(f"{QUEUE}{waiting.pk}/decide/pass/", {})
    assert again.status_code == 302
    assert state(waiting)[0]["status"] == VerifyStatus.FAILED


def test_per_object_pass(handler_client, waiting):
    response = handler_client.post(f"{QUEUE}{waiting.pk}/decide/pass/", {"post": "yes"})

    assert response.status_code == 302
    assert state(waiting)[1]["verify_status"] == VerifyStatus.VERIFIED
    assert handler_client.get(f"{QUEUE}{waiting.pk}/decide/maybe/").status_code == 404


def test_forged_decisions_on_someone_elses_applicants_change_nothing(handler_client, others_application):
    theirs = submitted(others_application)
    before = state(theirs)

    for confirm in (False, True):
        response = action_post(handler_client, "pass_selected", [theirs.pk], url=QUEUE, confirm=confirm)
        assert any("不在您可处理的列表中" in m for m in messages_of(handler_client.get(response["Location"]), "error"))
    response = handler_client.post(f"{QUEUE}{theirs.pk}/decide/fail/", {"reason": "伪造"})
    assert response.status_code == 302 and response["Location"] == "/admin/"

    assert state(theirs) == before


def test_verifications_are_read_only(super_client, waiting):
    assert super_client.get(f"{QUEUE}add/").status_code == 403
    assert super_client.post(f"{QUEUE}{waiting.pk}/change/", {"status": 2}).status_code == 403
    assert super_client.get(f"{QUEUE}{waiting.pk}/delete/").status_code == 403
    assert state(waiting)[0]["status"] == VerifyStatus.VERIFYING


def test_the_queue_query_count_does_not_grow(handler, company, django_assert_max_num_queries):
    for n in range(30):
        submitted(make_application(handler=handler, company=company, name=f"员工{n}"))
    client = client_for(handler)

    with django_assert_max_num_queries(8):
        response = client.get(QUEUE)

    assert len(names_in_queue(response)) == 30
