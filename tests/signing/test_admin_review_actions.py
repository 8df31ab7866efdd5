"""
The review actions of the signing back office: 审核通过, 驳回, 取消, 线下签约 — in
bulk from the list (intermediate form, then a confirming POST) and one at a time
from an application's page. Every change goes through the services; bad input
changes nothing.
"""

import datetime
from decimal import Decimal

import pytest
from django.contrib.admin.models import LogEntry

from signing.models import SignApplication, SignEvent, SignStatus
from tests.factories import ContractFactory, make_application
from tests.support.admin import CHANGELIST, action_post, approve_data, messages_of, statuses

pytestmark = pytest.mark.django_db


def review_url(application, move):
    return f"{CHANGELIST}{application.pk}/review/{move}/"


def snapshot(*applications):
    return [
        SignApplication.objects.filter(pk=app.pk)
        .values("status", "contract_id", "entry_date", "salary", "reason")
        .get()
        for app in applications
    ] + [SignEvent.objects.count()]


# --- 审核通过 (bulk) ---------------------------------------------------------------------------------


def test_approve_action_first_post_renders_the_form_with_the_selected_ids(handler_client, application, contract):
    other = make_application(handler=application.ad_user, company=application.company, name="李四")

    response = action_post(handler_client, "approve_selected", [application.pk, other.pk])

    assert response.status_code == 200
    page = response.content.decode()
    assert "审核通过：2 条签约申请" in page
    assert f'name="_selected_action" value="{application.pk}"' in page
    assert f'name="_selected_action" value="{other.pk}"' in page
    assert 'name="action" value="approve_selected"' in page
    assert 'name="post" value="yes"' in page
    assert f'<option value="{contract.pk}"' in page
    assert statuses(application, other) == [SignStatus.APPLIED, SignStatus.APPLIED]


def test_approve_action_confirmed_approves_every_row_through_the_service(
    handler_client, handler, application, contract
):
    other = make_application(handler=handler, company=application.company, name="李四")
    entry = datetime.date.today() + datetime.timedelta(days=10)

    response = action_post(
        handler_client,
        "approve_selected",
        [application.pk, other.pk],
        confirm=True,
        **approve_data(contract, entry_date=entry.isoformat(), salary="9000.5"),
    )

    assert response.status_code == 302
    for app in (application, other):
        app.refresh_from_db()
        assert app.status == SignStatus.AWAITING_SIGNATURE
        assert (app.contract_id, app.entry_date, app.salary) == (contract.pk, entry, Decimal("9000.50"))
        event = app.events.get(to_status=SignStatus.AWAITING_SIGNATURE)
        assert (event.from_status, event.actor_staff_id, event.ip) == (SignStatus.APPLIED, handler.pk, "127.0.0.1")
    assert LogEntry.objects.filter(user=handler, change_message="审核通过").count() == 2
    final = handler_client.get(response["Location"])
    assert any("已审核通过 2 条" in m for m in messages_of(final, "success"))


def test_approve_action_reports_rows_not_in_status_1_by_name_and_processes_the_others(
    handler_client, handler, application, contract
):
    rejected = make_application(handler=handler, company=application.company, name="李四", status=SignStatus.REJECTED)
    signed = make_application(handler=handler, company=application.company, name="王五", status=SignStatus.SIGNED)

    response = action_post(
        handler_client,
        "approve_selected",
        [application.pk, rejected.pk, signed.pk],
        confirm=True,
        **approve_data(contract),
    )

    final = handler_client.get(response["Location"])
    errors = messages_of(final, "error")
    assert f"李四（#{rejected.pk}）：该申请当前为「已驳回」，不能审核通过" in errors
    assert f"王五（#{signed.pk}）：该申请当前为「已签约」，不能审核通过" in errors
    assert any("已审核通过 1 条：张三" in m for m in messages_of(final, "success"))
    assert statuses(application, rejected, signed) == [
        SignStatus.AWAITING_SIGNATURE,
        SignStatus.REJECTED,
        SignStatus.SIGNED,
    ]


def test_approve_action_on_rows_of_several_companies_is_refused_with_a_clear_message(
    handler_client, handler, application, other_company, other_contract
):
    elsewhere = make_application(handler=handler, company=other_company, name="李四")
    before = snapshot(application, elsewhere)

    response = action_post(handler_client, "approve_selected", [application.pk, elsewhere.pk])

    assert response.status_code == 302
    errors = messages_of(handler_client.get(response["Location"]), "error")
    assert any("所选申请属于多个用人单位" in m and "请先按用人单位筛选" in m for m in errors)
    assert snapshot(application, elsewhere) == before


def test_approve_form_offers_only_enabled_contracts_of_that_company(
    handler_client, application, contract, other_contract
):
    disabled = ContractFactory(company=application.company, contract_name="停用的合同", status=0)

    page = action_post(handler_client, "approve_selected", [application.pk]).content.decode()

    assert f'<option value="{contract.pk}"' in page
    assert f'<option value="{other_contract.pk}"' not in page
    assert f'<option value="{disabled.pk}"' not in page


@pytest.mark.parametrize(
    ("overrides", "message"),
    [
        ({"contract": ""}, "请选择合同模板。"),
        ({"salary": ""}, "请填写薪资。"),
        ({"salary": "-100"}, "薪资应大于 0。"),
        ({"salary": "0"}, "薪资应大于 0。"),
        ({"salary": "abc"}, "薪资应为数字。"),
        ({"salary": "NaN"}, "薪资应为数字。"),
        ({"salary": "100.123"}, "薪资最多保留两位小数。"),
        ({"salary": "1" + "0" * 20}, "薪资数字过长。"),
        ({"salary": "5000000"}, "薪资超出合理范围"),
        ({"entry_date": ""}, "请填写入职日期。"),
        ({"entry_date": "2024-02-30"}, "请填写有效的入职日期"),
        ({"entry_date": "not-a-date"}, "请填写有效的入职日期"),
        ({"entry_date": (datetime.date.today() - datetime.timedelta(days=400)).isoformat()}, "入职日期不能早于"),
        (
            {"entry_date": (datetime.date.today() + datetime.timedelta(days=800)).isoformat()},
            "入职日期不能晚于一年以后",
        ),
    ],
)
def test_approve_with_bad_input_shows_the_form_error_and_changes_nothing(
    handler_client, application, contract, overrides, message
):
    before = snapshot(application)

    response = action_post(
        handler_client, "approve_selected", [application.pk], confirm=True, **approve_data(contract, **overrides)
    )

    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot(application) == before


def test_approve_with_another_companys_contract_is_refused(handler_client, application, other_contract):
    before = snapshot(application)

    response = action_post(
        handler_client, "approve_selected", [application.pk], confirm=True, **approve_data(other_contract)
    )

    assert response.status_code == 200
    assert "请选择该用人单位启用中的合同模板。" in response.content.decode()
    assert snapshot(application) == before


def test_approve_per_object_with_another_companys_contract_is_refused(handler_client, application, other_contract):
    before = snapshot(application)

    response = handler_client.post(review_url(application, "approve"), approve_data(other_contract))

    assert response.status_code == 200
    assert "请选择该用人单位启用中的合同模板。" in response.content.decode()
    assert snapshot(application) == before


# --- 驳回, 取消, 线下签约 (bulk) -----------------------------------------------------------------------------


def test_reject_action_requires_a_reason(handler_client, application):
    before = snapshot(application)

    for reason in ("", "   "):
        response = action_post(handler_client, "reject_selected", [application.pk], confirm=True, reason=reason)
        assert response.status_code == 200
        assert "请填写驳回原因。" in response.content.decode()
    response = action_post(handler_client, "reject_selected", [application.pk], confirm=True, reason="x" * 257)
    assert "驳回原因不能超过 256 个字符。" in response.content.decode()
    response = action_post(handler_client, "reject_selected", [application.pk], confirm=True, reason="坏\x00字符")
    assert "包含无效字符" in response.content.decode()
    assert snapshot(application) == before


def test_reject_action_stores_the_reason_the_employee_sees(handler_client, handler, application):
    other = make_application(handler=handler, company=application.company, name="李四")

    response = action_post(
        handler_client, "reject_selected", [application.pk, other.pk], confirm=True, reason="  身份证照片不清晰  "
    )

    assert response.status_code == 302
    for app in (application, other):
        app.refresh_from_db()
        assert (app.status, app.reason) == (SignStatus.REJECTED, "身份证照片不清晰")
        assert app.events.get(to_status=SignStatus.REJECTED).note == "身份证照片不清晰"


def test_cancel_action_cancels_applied_and_awaiting_rows_and_reports_final_ones(handler_client, handler, application):
    awaiting = make_application(
        handler=handler, company=application.company, name="李四", status=SignStatus.AWAITING_SIGNATURE
    )
    cancelled = make_application(handler=handler, company=application.company, name="王五", status=SignStatus.CANCELLED)

    response = action_post(
        handler_client,
        "cancel_selected",
        [application.pk, awaiting.pk, cancelled.pk],
        confirm=True,
        note="员工电话告知不再入职",
    )

    final = handler_client.get(response["Location"])
    assert f"王五（#{cancelled.pk}）：该申请当前为「已取消」，不能取消" in messages_of(final, "error")
    assert statuses(application, awaiting, cancelled) == [SignStatus.CANCELLED] * 3
    assert awaiting.events.get(to_status=SignStatus.CANCELLED).note == "员工电话告知不再入职"


def test_cancel_needs_no_note(handler_client, application):
    response = action_post(handler_client, "cancel_selected", [application.pk], confirm=True, note="")

    assert response.status_code == 302
    assert statuses(application) == [SignStatus.CANCELLED]


def test_sign_offline_requires_a_note_and_only_moves_awaiting_rows(handler_client, handler, application):
    awaiting = make_application(
        handler=handler, company=application.company, name="李四", status=SignStatus.AWAITING_SIGNATURE
    )
    before = snapshot(application, awaiting)

    response = action_post(
        handler_client, "sign_offline_selected", [application.pk, awaiting.pk], confirm=True, note=""
    )
    assert response.status_code == 200
    assert "请填写线下签约说明。" in response.content.decode()
    assert snapshot(application, awaiting) == before

    response = action_post(
        handler_client,
        "sign_offline_selected",
        [application.pk, awaiting.pk],
        confirm=True,
        note="2025-03-01 于人事部当面签署纸质合同 No.123",
    )

    final = handler_client.get(response["Location"])
    assert f"张三（#{application.pk}）：该申请当前为「签约申请」，不能线下签约" in messages_of(final, "error")
    assert statuses(application, awaiting) == [SignStatus.APPLIED, SignStatus.SIGNED]
    event = awaiting.events.get(to_status=SignStatus.SIGNED)
    assert (event.from_status, event.note) == (
        SignStatus.AWAITING_SIGNATURE,
        "2025-03-01 于人事部当面签署纸质合同 No.123",
    )


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("approve_selected", None),
        ("reject_selected", {"reason": "不合格"}),
        ("cancel_selected", {"note": ""}),
        ("sign_offline_selected", {"note": "纸质合同"}),
    ],
)
@pytest.mark.parametrize("final_status", [SignStatus.SIGNED, SignStatus.REJECTED, SignStatus.CANCELLED])
def test_actions_on_rows_in_final_states_are_refused_and_change_nothing(
    handler_client, handler, company, contract, action, data, final_status
):
    final_row = make_application(handler=handler, company=company, name="终态", status=final_status)
    before = snapshot(final_row)

    payload = data if data is not None else approve_data(contract)

    for confirm in (False, True):
        response = action_post(handler_client, action, [final_row.pk], confirm=confirm, **payload)
        assert response.status_code == 302
        errors = messages_of(handler_client.get(response["Location"]), "error")
        assert any(f"终态（#{final_row.pk}）：该申请当前为「{final_status.label}」" in m for m in errors), errors
    assert snapshot(final_row) == before


def test_an_action_without_selection_changes_nothing(handler_client, application):
    response = handler_client.post(CHANGELIST, {"action": "reject_selected", "index": "0"}, follow=True)

    assert response.status_code == 200
    assert statuses(application) == [SignStatus.APPLIED]


@pytest.mark.parametrize("bad_id", ["abc", "1 OR 1=1", "9" * 40, "-1", "１"])
def test_hostile_selected_ids_are_refused_without_a_500(handler_client, application, bad_id):
    response = action_post(handler_client, "reject_selected", [application.pk, bad_id], confirm=True, reason="x")

    assert response.status_code == 302
    assert "所选记录的编号无效，未作任何修改。" in messages_of(handler_client.get(response["Location"]), "error")
    assert statuses(application) == [SignStatus.APPLIED]


# --- per-object review views ---------------------------------------------------------------------------------


def test_change_page_offers_the_buttons_of_the_allowed_moves(handler_client, handler, application, company):
    awaiting = make_application(handler=handler, company=company, status=SignStatus.AWAITING_SIGNATURE)
    rejected = make_application(handler=handler, company=company, status=SignStatus.REJECTED)

    applied_page = handler_client.get(f"{CHANGELIST}{application.pk}/change/").content.decode()
    awaiting_page = handler_client.get(f"{CHANGELIST}{awaiting.pk}/change/").content.decode()
    rejected_page = handler_client.get(f"{CHANGELIST}{rejected.pk}/change/").content.decode()

    for move in ("approve", "reject", "cancel"):
        assert review_url(application, move) in applied_page
    assert review_url(application, "sign_offline") not in applied_page
    assert review_url(awaiting, "sign_offline") in awaiting_page and review_url(awaiting, "cancel") in awaiting_page
    assert review_url(awaiting, "approve") not in awaiting_page
    assert "/review/" not in rejected_page


def test_per_object_approve_form_and_confirmation(handler_client, handler, application, contract):
    form = handler_client.get(review_url(application, "approve"))
    assert form.status_code == 200
    assert "审核通过：张三" in form.content.decode()
    assert statuses(application) == [SignStatus.APPLIED]

    response = handler_client.post(review_url(application, "approve"), approve_data(contract, salary="12000"))

    assert response.status_code == 302
    assert response["Location"].startswith(CHANGELIST)
    application.refresh_from_db()
    assert (application.status, application.salary) == (SignStatus.AWAITING_SIGNATURE, Decimal("12000.00"))
    assert "已审核通过：张三" in " ".join(messages_of(handler_client.get(response["Location"]), "success"))


def test_per_object_views_keep_the_list_filters(handler_client, application):
    url = review_url(application, "reject") + "?_changelist_filters=status__exact%3D1"

    response = handler_client.post(url, {"reason": "材料不全"})

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}?status__exact=1"


@pytest.mark.parametrize(
    ("move", "data", "message"),
    [
        ("approve", {"salary": "-1"}, "薪资应大于 0。"),
        ("reject", {"reason": ""}, "请填写驳回原因。"),
        ("cancel", {"note": "x" * 600}, "取消原因不能超过 512 个字符。"),
    ],
)
def test_per_object_bad_input_shows_the_error_and_changes_nothing(
    handler_client, application, contract, move, data, message
):
    before = snapshot(application)
    payload = {**approve_data(contract), **data} if move == "approve" else data

    response = handler_client.post(review_url(application, move), payload)

    assert response.status_code == 200
    assert message in response.content.decode()
    assert snapshot(application) == before


def test_per_object_move_not_allowed_redirects_with_the_reason(handler_client, handler, company):
    rejected = make_application(handler=handler, company=company, name="李四", status=SignStatus.REJECTED)
    before = snapshot(rejected)

    response = handler_client.post(review_url(rejected, "approve"), {})

    assert response.status_code == 302
    assert response["Location"] == f"{CHANGELIST}{rejected.pk}/change/"
    assert "该申请当前为「已驳回」，不能审核通过。" in messages_of(handler_client.get(response["Location"]), "error")
    assert snapshot(rejected) == before


def test_unknown_move_is_404(handler_client, application):
    assert handler_client.get(review_url(application, "sign")).status_code == 404
    assert handler_client.post(review_url(application, "delete"), {}).status_code == 404


def test_the_per_object_view_reports_a_move_lost_to_a_concurrent_one(
    handler_client, handler, application, contract, monkeypatch
):
    """The form was valid but, by the time the service locked the row, someone else had moved it."""
    from signing.services import applications as services

    real_approve = services.application_approve

    def approve_after_someone_rejected(**kwargs):
        services.application_reject(application=kwargs["application"], staff=handler, reason="抢先驳回")
        return real_approve(**kwargs)

    monkeypatch.setattr(services, "application_approve", approve_after_someone_rejected)

    response = handler_client.post(review_url(application, "approve"), approve_data(contract))

    assert response.status_code == 302
    errors = messages_of(handler_client.get(response["Location"]), "error")
    assert f"张三（#{application.pk}）：该申请当前为「已驳回」，不能审核通过" in errors
    application.refresh_from_db()
    assert (application.status, application.reason) == (SignStatus.REJECTED, "抢先驳回")


def test_a_view_only_staff_member_cannot_review(client_factory_view_only, application):
    client, user = client_factory_view_only
    application.ad_user = user
    application.save(update_fields=["ad_user"])

    assert client.get(f"{CHANGELIST}{application.pk}/change/").status_code == 200
    assert client.post(review_url(application, "reject"), {"reason": "x"}).status_code == 403
    response = action_post(client, "reject_selected", [application.pk], confirm=True, reason="x")
    assert statuses(application) == [SignStatus.APPLIED]
    assert response.status_code == 302  # no such action for them: "未选择动作"
    assert "reject_selected" not in client.get(CHANGELIST).content.decode()


@pytest.fixture
def client_factory_view_only(db):
    from django.contrib.auth.models import Permission

    from tests.factories import AdminUserFactory
    from tests.support.admin import client_for

    user = AdminUserFactory(username="viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_signapplication"))
    return client_for(user), user


def test_a_double_submitted_approve_form_approves_once_and_explains_the_second(handler_client, application, contract):
    data = approve_data(contract)

    first = handler_client.post(review_url(application, "approve"), data)
    second = action_post(handler_client, "approve_selected", [application.pk], confirm=True, **data)

    assert first.status_code == 302 and second.status_code == 302
    errors = messages_of(handler_client.get(second["Location"]), "error")
    assert any("该申请当前为「待签约」，不能审核通过" in m for m in errors), errors
    assert application.events.filter(to_status=SignStatus.AWAITING_SIGNATURE).count() == 1


# --- the terms in the approve forms (SPEC §9) ------------------------------------------------------------


def test_bulk_approve_stores_the_terms_on_every_row(handler_client, handler, application, contract):
    other = make_application(handler=handler, company=application.company, name="李四")

    response = action_post(
        handler_client,
        "approve_selected",
        [application.pk, other.pk],
        confirm=True,
        **approve_data(contract, probation_months="2", work_location="北京市海淀区", working_hours="flexible"),
    )

    assert response.status_code == 302
    for app in (application, other):
        app.refresh_from_db()
        assert (app.status, app.probation_months, app.work_location, app.working_hours) == (
            SignStatus.AWAITING_SIGNATURE,
            2,
            "北京市海淀区",
            "flexible",
        )


def test_bulk_approve_form_shows_the_terms_fields(handler_client, application, contract):
    page = action_post(handler_client, "approve_selected", [application.pk]).content.decode()

    for name in ("term_type", "end_date", "probation_months", "work_location", "working_hours"):
        assert f'name="{name}"' in page
    assert "标准工时制" in page and "留空即用人单位住所" in page


@pytest.mark.parametrize("bulk", [True, False])
def test_approve_with_probation_beyond_article_19_shows_the_error_and_changes_nothing(
    handler_client, application, contract, bulk
):
    data = approve_data(contract, term_type="task", probation_months="1")
    before = snapshot(application)

    if bulk:
        response = action_post(handler_client, "approve_selected", [application.pk], confirm=True, **data)
    else:
        response = handler_client.post(review_url(application, "approve"), data)

    assert response.status_code == 200
    assert "以完成一定工作任务为期限的劳动合同不得约定试用期" in response.content.decode()
    assert snapshot(application) == before
