"""The signing state machine (SPEC §6) through ``signing.services.applications``."""

import datetime
from decimal import Decimal

import pytest

from shanqian.errors import InvalidInput, NotFound
from signing.errors import NotYourApplication, RealnameRequired, TransitionNotAllowed
from signing.models import SignApplication, SignEvent, SignStatus
from signing.services import applications as services
from signing.signals import application_status_changed
from tests.factories import (
    CLIENT,
    TODAY,
    AdminUserFactory,
    ContractFactory,
    EmployeeFactory,
    HandlerFactory,
    SignApplicationFactory,
    WechatUserFactory,
    disable,
    perform_move,
)

pytestmark = pytest.mark.django_db

S = SignStatus


@pytest.fixture
def app(world):
    employee = EmployeeFactory(user=WechatUserFactory(verify_status=2))
    return SignApplicationFactory(em=employee, company=world.company, ad_user=world.handler, work_pos="前台")


def at(application, status):
    SignApplication.objects.filter(pk=application.pk).update(status=status)
    application.refresh_from_db()
    return application


EXPECTED = {
    ("approve", S.APPLIED): S.AWAITING_SIGNATURE,
    ("reject", S.APPLIED): S.REJECTED,
    ("cancel", S.APPLIED): S.CANCELLED,
    ("cancel", S.AWAITING_SIGNATURE): S.CANCELLED,
    ("sign", S.AWAITING_SIGNATURE): S.SIGNED,
    ("sign_offline", S.AWAITING_SIGNATURE): S.SIGNED,
}


def test_the_moves_table_is_the_spec():
    allowed, final = services.ALLOWED, services.FINAL_STATUSES

    assert allowed == {
        S.APPLIED: {S.AWAITING_SIGNATURE, S.REJECTED, S.CANCELLED},
        S.AWAITING_SIGNATURE: {S.SIGNED, S.CANCELLED},
        S.SIGNED: set(),
        S.REJECTED: set(),
        S.CANCELLED: set(),
    }
    assert final == {S.SIGNED, S.REJECTED, S.CANCELLED}


@pytest.mark.parametrize(("move", "source", "target"), [(m, s, t) for (m, s), t in EXPECTED.items()])
def test_an_allowed_move_changes_the_status_and_writes_one_audit_event(app, world, move, source, target):
    at(app, source)

    result = perform_move(move, app, world)

    app.refresh_from_db()
    assert result.status == app.status == target
    event = SignEvent.objects.get(application=app)
    assert (event.kind, event.from_status, event.to_status) == ("transition", source, target)
    assert (event.ip, event.user_agent, event.city) == ("203.0.113.9", "MiniProgram/8.0", "北京")
    assert (event.lng, event.lat) == (Decimal("116.397128"), Decimal("39.916527"))
    if move in ("approve", "reject", "sign_offline"):
        assert (event.actor_staff, event.actor_user) == (world.handler, None)
    else:
        assert (event.actor_user, event.actor_staff) == (app.em.user, None)


@pytest.mark.parametrize(
    ("move", "source"),
    # Moves of an existing application (``renew`` creates one from a ledger record: test_renewal.py).
    [(m, s) for m in services.MOVES if services.MOVES[m].sources for s in SignStatus if (m, s) not in EXPECTED],
)
def test_a_forbidden_move_is_refused_and_changes_nothing(app, world, move, source):
    at(app, source)

    with pytest.raises(TransitionNotAllowed) as caught:
        perform_move(move, app, world)

    assert caught.value.status_code == 409 and caught.value.code == 40900
    assert SignStatus(source).label in caught.value.msg
    app.refresh_from_db()
    assert app.status == source
    assert not SignEvent.objects.exists()


def test_approve_saves_contract_entry_date_and_salary(app, world):
    perform_move("approve", app, world)

    app.refresh_from_db()
    assert app.contract == world.contract
    assert app.entry_date == TODAY + datetime.timedelta(days=7)
    assert app.salary == Decimal("6500.00")


@pytest.mark.parametrize(
    ("salary", "ok"),
    [
        ("0.01", True),
        (8000, True),
        ("9999999999999.99", True),
        ("12.500", True),
        ("0", False),
        ("-1", False),
        ("12.345", False),
        ("10000000000000", False),
        ("abc", False),
        ("NaN", False),
        ("Infinity", False),
        ("1e30", False),
        (None, False),
        (True, False),
    ],
)
def test_approve_salary_rules(app, world, salary, ok):
    call = lambda: services.application_approve(  # noqa: E731
        application=app, staff=world.handler, contract=world.contract, entry_date=TODAY, salary=salary
    )
    if ok:
        assert call().status == S.AWAITING_SIGNATURE
        return
    with pytest.raises(InvalidInput) as caught:
        call()
    assert set(caught.value.data["errors"]) == {"salary"}
    app.refresh_from_db()
    assert app.status == S.APPLIED


@pytest.mark.parametrize(
    ("days", "ok"),
    [(-30, True), (0, True), (365, True), (-31, False), (366, False)],
)
def test_approve_entry_date_window(app, world, days, ok):
    call = lambda: services.application_approve(  # noqa: E731
        application=app,
        staff=world.handler,
        contract=world.contract,
        entry_date=TODAY + datetime.timedelta(days=days),
        salary="5000",
    )
    if ok:
        assert call().entry_date == TODAY + datetime.timedelta(days=days)
    else:
        with pytest.raises(InvalidInput) as caught:
            call()
        assert set(caught.value.data["errors"]) == {"entry_date"}


def test_approve_refuses_a_contract_of_another_company_or_disabled(app, world):
    for contract in (world.contract2, disable(ContractFactory(company=world.company)), None):
        with pytest.raises(InvalidInput) as caught:
            services.application_approve(
                application=app, staff=world.handler, contract=contract, entry_date=TODAY, salary="5000"
            )
        assert set(caught.value.data["errors"]) == {"contract"}
    app.refresh_from_db()
    assert (app.status, app.contract) == (S.APPLIED, None)


def test_approve_refuses_a_template_whose_placements_were_removed(app, world):
    from contracts.models import Placement

    Placement.objects.filter(contract=world.contract, key__in=["employee_signature", "salary"]).delete()

    with pytest.raises(InvalidInput) as caught:
        services.application_approve(
            application=app, staff=world.handler, contract=world.contract, entry_date=TODAY, salary="5000"
        )

    assert caught.value.data["errors"]["contract"] == [
        "合同模板缺少必需的字段位置：乙方签名（手写签名图片）、月工资（元）。请先在合同模板的「字段位置」中放置。"
    ]
    app.refresh_from_db()
    assert (app.status, app.contract, app.contract_document.name or "") == (S.APPLIED, None, "")


def test_approve_reports_every_bad_field_at_once(app, world):
    with pytest.raises(InvalidInput) as caught:
        services.application_approve(
            application=app, staff=world.handler, contract=world.contract2, entry_date="2020-01-01", salary="-5"
        )

    assert set(caught.value.data["errors"]) == {"contract", "entry_date", "salary"}


@pytest.mark.parametrize("reason", ["", "   ", None, "x" * 257, "坏\x00字符", "坏\u202e字符", 42])
def test_reject_needs_a_reasonable_reason(app, world, reason):
    with pytest.raises(InvalidInput) as caught:
        services.application_reject(application=app, staff=world.handler, reason=reason)

    assert set(caught.value.data["errors"]) == {"reason"}
    assert not SignEvent.objects.exists()


def test_reject_stores_the_reason_on_the_application_and_the_event(app, world):
    services.application_reject(application=app, staff=world.handler, reason="  身份证照片不清晰  ")

    app.refresh_from_db()
    assert app.reason == "身份证照片不清晰"
    assert SignEvent.objects.get().note == "身份证照片不清晰"


def test_offline_sign_needs_a_note(app, world):
    at(app, S.AWAITING_SIGNATURE)

    with pytest.raises(InvalidInput):
        services.application_sign_offline(application=app, staff=world.handler, note="")

    assert app.status == S.AWAITING_SIGNATURE


# --- who may act ---------------------------------------------------------------------------------------


def test_another_handler_may_not_act(app, world):
    with pytest.raises(NotYourApplication) as caught:
        services.application_reject(application=app, staff=world.handler2, reason="不是我的")

    assert caught.value.status_code == 403
    app.refresh_from_db()
    assert app.status == S.APPLIED


def test_a_superuser_may_act_on_any_application(app):
    boss = AdminUserFactory(is_superuser=True)

    assert services.application_reject(application=app, staff=boss, reason="超级管理员驳回").status == S.REJECTED


def test_an_inactive_handler_may_not_act(app, world):
    world.handler.is_active = False
    world.handler.save()

    with pytest.raises(NotYourApplication):
        services.application_reject(application=app, staff=world.handler, reason="离职了")


def test_the_handler_is_judged_on_the_locked_row_not_the_stale_instance(app, world):
    stale = SignApplication.objects.get(pk=app.pk)
    SignApplication.objects.filter(pk=app.pk).update(ad_user=world.handler2)

    with pytest.raises(NotYourApplication):
        services.application_reject(application=stale, staff=world.handler, reason="已转给别人")
    assert services.application_reject(application=stale, staff=world.handler2, reason="新处理人").status == S.REJECTED


def test_an_employee_may_cancel_only_their_own_application(app):
    stranger = WechatUserFactory()

    with pytest.raises(NotYourApplication):
        services.application_cancel(application=app, actor_user=stranger)
    assert (
        services.application_cancel(application=app, actor_user=app.em.user, note="找到别的工作").status == S.CANCELLED
    )
    assert SignEvent.objects.get().note == "找到别的工作"


def test_staff_may_cancel(app, world):
    at(app, S.AWAITING_SIGNATURE)

    assert services.application_cancel(application=app, actor_staff=world.handler).status == S.CANCELLED


def test_exactly_one_actor_is_required(app, world):
    with pytest.raises(ValueError):
        services.application_cancel(application=app)
    with pytest.raises(ValueError):
        services.application_cancel(application=app, actor_user=app.em.user, actor_staff=world.handler)


def test_a_missing_application_is_not_found(app, world):
    app_id = app.pk
    SignApplication.objects.filter(pk=app_id).delete()

    with pytest.raises(NotFound):
        services.application_reject(application=app, staff=world.handler, reason="已删除")


# --- sign ----------------------------------------------------------------------------------------------


def test_sign_requires_a_verified_real_name(app, world, settings):
    settings.SIGN_REQUIRE_REALNAME = True
    at(app, S.AWAITING_SIGNATURE)
    type(app.em.user).objects.filter(pk=app.em.user_id).update(verify_status=1)

    with pytest.raises(RealnameRequired) as caught:
        services.application_sign(application=app, user=app.em.user)
    assert caught.value.status_code == 409

    settings.SIGN_REQUIRE_REALNAME = False
    assert services.application_sign(application=app, user=app.em.user).status == S.SIGNED


def test_sign_runs_before_commit_inside_the_lock_after_the_event(app, world):
    at(app, S.AWAITING_SIGNATURE)
    seen = {}

    def seal(locked):
        seen["status"] = locked.status
        seen["events"] = list(SignEvent.objects.filter(application=locked).values_list("to_status", flat=True))
        seen["entry_date"] = SignApplication.objects.get(pk=locked.pk).entry_date

    services.application_sign(application=app, user=app.em.user, extra_update={"entry_date": TODAY}, before_commit=seal)

    assert seen == {"status": S.SIGNED, "events": [S.SIGNED], "entry_date": TODAY}


def test_a_failing_before_commit_rolls_the_whole_move_back(app, world):
    at(app, S.AWAITING_SIGNATURE)

    def broken_seal(locked):
        raise RuntimeError("PDF sealing failed")

    with pytest.raises(RuntimeError):
        services.application_sign(application=app, user=app.em.user, before_commit=broken_seal)

    app.refresh_from_db()
    assert app.status == S.AWAITING_SIGNATURE
    assert not SignEvent.objects.exists()


# --- side effects, events, create, pending updates -------------------------------------------------------


def test_status_changed_signal_is_sent_only_after_commit(app, world, django_capture_on_commit_callbacks):
    received = []

    def receiver(sender, **kwargs):
        received.append((kwargs["application_id"], kwargs["from_status"], kwargs["to_status"]))

    application_status_changed.connect(receiver)
    try:
        with django_capture_on_commit_callbacks(execute=False) as callbacks:
            perform_move("reject", app, world)
        assert received == []
        for callback in callbacks:
            callback()
    finally:
        application_status_changed.disconnect(receiver)

    assert received == [(app.pk, S.APPLIED, S.REJECTED)]


def test_no_signal_for_a_refused_move(app, world, django_capture_on_commit_callbacks):
    at(app, S.SIGNED)

    with django_capture_on_commit_callbacks() as callbacks, pytest.raises(TransitionNotAllowed):
        perform_move("cancel", app, world)

    assert callbacks == []


@pytest.mark.parametrize("kind", [SignEvent.Kind.VIEWED, SignEvent.Kind.NOTE])
def test_record_event_writes_a_fact_without_touching_the_status(app, kind):
    event = services.application_record_event(
        application=app, kind=kind, actor_user=app.em.user, client=CLIENT, note="打开了合同"
    )

    assert (event.kind, event.from_status, event.to_status, event.ip) == (kind, None, None, "203.0.113.9")
    app.refresh_from_db()
    assert app.status == S.APPLIED


def test_record_event_refuses_a_transition_kind(app):
    with pytest.raises(ValueError):
        services.application_record_event(application=app, kind=SignEvent.Kind.TRANSITION)


def test_create_opens_a_status_1_application_with_its_event(world):
    employee = EmployeeFactory()
    choice = services.application_choice_clean(
        company_id=world.company.pk, work_pos="前台", ad_user_id=world.handler.pk
    )

    application = services.application_create(employee=employee, choice=choice, actor_user=employee.user, client=CLIENT)

    assert application.status == S.APPLIED
    event = SignEvent.objects.get(application=application)
    assert (event.from_status, event.to_status, event.actor_user) == (None, S.APPLIED, employee.user)


@pytest.mark.parametrize("open_status", [S.APPLIED, S.AWAITING_SIGNATURE])
def test_create_is_refused_while_an_application_is_open(app, world, open_status):
    at(app, open_status)
    choice = services.application_choice_clean(
        company_id=world.company.pk, work_pos="前台", ad_user_id=world.handler.pk
    )

    with pytest.raises(TransitionNotAllowed):
        services.application_create(employee=app.em, choice=choice, actor_user=app.em.user)
    assert SignApplication.objects.count() == 1


def test_choice_clean_reports_each_bad_pick(world):
    with pytest.raises(InvalidInput) as caught:
        services.application_choice_clean(
            company_id=world.company.pk, work_pos="司机", ad_user_id=HandlerFactory(is_staff=False).pk
        )

    assert set(caught.value.data["errors"]) == {"work_pos", "ad_user_id"}


@pytest.mark.parametrize("status", [S.AWAITING_SIGNATURE, S.SIGNED, S.REJECTED, S.CANCELLED])
def test_update_pending_only_while_status_1(app, world, status):
    at(app, status)
    choice = services.application_choice_clean(
        company_id=world.company2.pk, work_pos="司机", ad_user_id=world.handler2.pk
    )

    with pytest.raises(TransitionNotAllowed):
        services.application_update_pending(application=app, choice=choice, actor_user=app.em.user)
    app.refresh_from_db()
    assert app.company == world.company


def test_transition_not_allowed_travels_as_409_in_the_envelope():
    error = TransitionNotAllowed("该申请当前为「已签约」，不能取消")

    assert (error.status_code, int(error.code), error.msg) == (409, 40900, "该申请当前为「已签约」，不能取消")


def test_can_move_and_staff_may_act_predicates(app, world):
    assert services.can_move(app, "approve") and not services.can_move(app, "sign")
    assert services.staff_may_act(app, world.handler) and not services.staff_may_act(app, world.handler2)


# --- the terms of 审核通过 (SPEC §9, contracts.terms) ----------------------------------------------------


def test_approve_stores_the_terms_and_records_them_on_the_event(app, world):
    entry = TODAY + datetime.timedelta(days=7)

    services.application_approve(
        application=app,
        staff=world.handler,
        contract=world.contract,
        entry_date=entry,
        salary="8000",
        probation_months="2",
        working_hours="comprehensive",
        client=CLIENT,
    )

    app.refresh_from_db()
    assert (app.term_type, app.end_date) == ("fixed", entry.replace(year=entry.year + 3) - datetime.timedelta(days=1))
    assert app.probation_months == 2 and app.probation_end > entry
    assert (app.working_hours, app.work_location) == ("comprehensive", world.company.company_address)
    note = app.events.get(to_status=S.AWAITING_SIGNATURE).note
    assert "试用期：2 个月" in note and "综合计算工时制" in note and "固定期限（至" in note


def test_approve_refuses_probation_beyond_article_19_and_changes_nothing(app, world):
    with pytest.raises(InvalidInput) as caught:
        services.application_approve(
            application=app,
            staff=world.handler,
            contract=world.contract,
            entry_date=TODAY,
            end_date=TODAY + datetime.timedelta(days=200),
            salary="8000",
            probation_months=2,
        )

    assert "试用期不得超过一个月" in caught.value.data["errors"]["probation_months"][0]
    app.refresh_from_db()
    assert (app.status, app.probation_months, app.term_type) == (S.APPLIED, 0, "")
    assert not SignEvent.objects.exists()


def test_approve_refuses_a_second_probation_with_the_same_employer(app, world):
    earlier = SignApplicationFactory(
        em=app.em, company=world.company, ad_user=world.handler, status=S.SIGNED, probation_months=1
    )
    assert earlier.pk != app.pk

    with pytest.raises(InvalidInput) as caught:
        services.application_approve(
            application=app,
            staff=world.handler,
            contract=world.contract,
            entry_date=TODAY,
            salary="8000",
            probation_months=1,
        )

    assert "只能约定一次试用期" in caught.value.data["errors"]["probation_months"][0]


def test_approve_takes_a_work_location_other_than_the_company_address(app, world):
    approved = services.application_approve(
        application=app,
        staff=world.handler,
        contract=world.contract,
        entry_date=TODAY,
        salary="8000",
        work_location="  上海市浦东新区  ",
    )

    assert approved.work_location == "上海市浦东新区"


@pytest.mark.parametrize(
    ("blank", "message"),
    [
        ({"credit_code": ""}, "缺少统一社会信用代码"),
        ({"company_address": "", "legal_representative": ""}, "缺少住所、法定代表人或主要负责人"),
    ],
)
def test_approve_refuses_a_company_without_its_particulars(app, world, blank, message):
    type(world.company).objects.filter(pk=world.company.pk).update(**blank)

    with pytest.raises(InvalidInput) as caught:
        services.application_approve(
            application=app, staff=world.handler, contract=world.contract, entry_date=TODAY, salary="8000"
        )

    assert message in caught.value.data["errors"]["company"][0]
    app.refresh_from_db()
    assert app.status == S.APPLIED


def test_approve_with_an_open_ended_template(app, world):
    open_ended = ContractFactory(company=world.company, sign_year=0)

    approved = services.application_approve(
        application=app, staff=world.handler, contract=open_ended, entry_date=TODAY, salary="8000", probation_months=6
    )

    assert (approved.term_type, approved.end_date, approved.probation_months) == ("open_ended", None, 6)
