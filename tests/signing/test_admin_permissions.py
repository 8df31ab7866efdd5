"""
Who sees and does what in the back office. A superuser sees everything; a handler
(人事专员) sees and acts only on the applications assigned to them — in the list,
the pages, the actions, the per-object views, the export, the resumes, the events,
the documents and the real-name queue. Tampered URLs and forged POSTs for someone
else's rows change nothing.
"""

import io

import pytest
from django.contrib.auth.models import Group, Permission
from django.core.management import call_command
from openpyxl import load_workbook

from employees.models import RealnameVerification, VerifyStatus
from shanqian.roles import HANDLER_GROUP, HANDLER_PERMISSIONS, ensure_handler_group
from signing.models import SignApplication, SignEvent, SignStatus
from tests.factories import AdminUserFactory
from tests.support.admin import CHANGELIST, action_post, approve_data, client_for, messages_of, search, statuses

pytestmark = pytest.mark.django_db

NOT_FOUND = "不存在"


def snapshot(application):
    row = SignApplication.objects.filter(pk=application.pk).values("status", "reason", "contract_id", "salary").get()
    return row, SignEvent.objects.filter(application_id=application.pk).count()


# --- the role itself ------------------------------------------------------------------------------------


def test_the_handler_group_exists_after_migrate_with_its_permissions():
    group = Group.objects.get(name=HANDLER_GROUP)

    granted = {f"{p.content_type.app_label}.{p.codename}" for p in group.permissions.select_related("content_type")}
    assert granted >= set(HANDLER_PERMISSIONS)
    assert "employees.view_wechatuser" not in granted
    assert "signing.delete_signapplication" not in granted


def test_migrate_recreates_a_deleted_handler_group():
    Group.objects.filter(name=HANDLER_GROUP).delete()

    call_command("migrate", verbosity=0)

    assert set(Group.objects.get(name=HANDLER_GROUP).permissions.values_list("codename", flat=True)) == {
        name.split(".")[1] for name in HANDLER_PERMISSIONS
    }


def test_ensure_handler_group_stays_idempotent():
    first = ensure_handler_group()
    count = first.permissions.count()

    second = ensure_handler_group()

    assert second.pk == first.pk and second.permissions.count() == count


def test_a_handler_cannot_add_change_or_delete_applications(handler_client, application):
    assert handler_client.get(f"{CHANGELIST}add/").status_code == 403
    assert handler_client.get(f"{CHANGELIST}{application.pk}/delete/").status_code == 403
    assert handler_client.post(f"{CHANGELIST}{application.pk}/change/", {"status": 3}).status_code == 403
    assert statuses(application) == [SignStatus.APPLIED]


# --- lists ---------------------------------------------------------------------------------------------------


def test_a_handler_lists_only_their_applications(handler_client, application, others_application):
    page = handler_client.get(CHANGELIST).content.decode()

    assert "张三" in page
    assert "赵六" not in page


def test_a_superuser_lists_everybodys_applications(super_client, application, others_application):
    page = super_client.get(CHANGELIST).content.decode()

    assert "张三" in page and "赵六" in page


def test_a_staff_member_outside_the_group_with_view_permission_sees_only_assigned_rows(application, others_application):
    staff = AdminUserFactory(username="manager")
    staff.user_permissions.add(Permission.objects.get(codename="view_signapplication"))

    page = client_for(staff).get(CHANGELIST).content.decode()

    assert "张三" not in page and "赵六" not in page


def test_a_handler_searching_someone_elses_phone_finds_nothing(handler_client, others_application):
    page = search(handler_client, CHANGELIST, others_application.em.phone).content.decode()

    assert "赵六" not in page


# --- URL tampering: pages -------------------------------------------------------------------------------


@pytest.mark.parametrize("suffix", ["change/", "history/", "review/approve/", "review/reject/"])
def test_opening_someone_elses_application_by_url_says_it_does_not_exist(handler_client, others_application, suffix):
    response = handler_client.get(f"{CHANGELIST}{others_application.pk}/{suffix}")

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert any(NOT_FOUND in m for m in messages_of(handler_client.get("/admin/")))


def test_the_superuser_opens_any_application(super_client, others_application):
    assert super_client.get(f"{CHANGELIST}{others_application.pk}/change/").status_code == 200


@pytest.mark.parametrize(
    ("move", "data"),
    [("approve", None), ("reject", {"reason": "伪造"}), ("cancel", {"note": "伪造"})],
)
def test_posting_to_the_per_object_view_of_someone_elses_application_changes_nothing(
    handler_client, others_application, contract, move, data
):
    before = snapshot(others_application)

    response = handler_client.post(
        f"{CHANGELIST}{others_application.pk}/review/{move}/", data if data is not None else approve_data(contract)
    )

    assert response.status_code == 302
    assert response["Location"] == "/admin/"
    assert snapshot(others_application) == before


# --- URL tampering: forged action POSTs --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("action", "data"),
    [
        ("approve_selected", None),
        ("reject_selected", {"reason": "伪造"}),
        ("cancel_selected", {"note": ""}),
        ("sign_offline_selected", {"note": "伪造"}),
    ],
)
@pytest.mark.parametrize("confirm", [False, True])
def test_forging_an_action_post_with_someone_elses_ids_changes_nothing(
    handler_client, others_application, contract, action, data, confirm
):
    before = snapshot(others_application)
    payload = data if data is not None else approve_data(contract)

    response = action_post(handler_client, action, [others_application.pk], confirm=confirm, **payload)

    assert response.status_code == 302
    errors = messages_of(handler_client.get(response["Location"]), "error")
    assert any("不在您可处理的列表中" in m for m in errors), errors
    assert snapshot(others_application) == before


def test_a_forged_post_mixing_own_and_foreign_ids_processes_only_the_own_ones(
    handler_client, application, others_application
):
    before = snapshot(others_application)

    response = action_post(
        handler_client, "reject_selected", [application.pk, others_application.pk], confirm=True, reason="材料不全"
    )

    final = handler_client.get(response["Location"])
    assert any("所选的 1 条记录不在您可处理的列表中" in m for m in messages_of(final, "error"))
    assert statuses(application) == [SignStatus.REJECTED]
    assert snapshot(others_application) == before


def test_select_across_only_reaches_the_handlers_own_rows(handler_client, application, others_application):
    before = snapshot(others_application)

    first = handler_client.post(
        CHANGELIST,
        {"action": "cancel_selected", "select_across": "1", "index": "0", "_selected_action": [application.pk]},
    )
    page = first.content.decode()
    assert f'value="{application.pk}"' in page
    assert f'value="{others_application.pk}"' not in page

    handler_client.post(
        CHANGELIST,
        {"action": "cancel_selected", "select_across": "1", "post": "yes", "_selected_action": [application.pk]},
    )

    assert statuses(application) == [SignStatus.CANCELLED]
    assert snapshot(others_application) == before


def test_the_service_refuses_a_handler_even_if_the_admin_scope_were_bypassed(handler, others_application):
    from signing.errors import NotYourApplication
    from signing.services.applications import application_reject

    with pytest.raises(NotYourApplication):
        application_reject(application=others_application, staff=handler, reason="绕过")

    assert statuses(others_application) == [SignStatus.APPLIED]


# --- export -------------------------------------------------------------------------------------------------


def test_a_handlers_export_is_scoped_and_masked(handler_client, application, others_application):
    response = handler_client.get(f"{CHANGELIST}export/")

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    assert [row[1] for row in rows] == ["张三"]
    assert rows[0][3] == f"{application.em.phone[:3]}****{application.em.phone[-4:]}"
    assert rows[0][4] == f"{application.em.id_number[:6]}********{application.em.id_number[-4:]}"


def test_a_handler_exporting_someone_elses_ids_gets_only_their_own(handler_client, application, others_application):
    response = handler_client.post(
        CHANGELIST,
        {"action": "export_selected", "index": "0", "_selected_action": [application.pk, others_application.pk]},
    )

    sheet = load_workbook(io.BytesIO(b"".join(response.streaming_content))).active
    assert [row[1] for row in sheet.iter_rows(min_row=2, values_only=True)] == ["张三"]


# --- resumes, events, documents, real-name --------------------------------------------------------------


def test_a_handler_sees_only_resumes_of_their_applicants(handler_client, application, others_application):
    page = handler_client.get("/admin/employees/employee/").content.decode()

    assert "张三" in page and "赵六" not in page
    assert application.em.phone not in page  # masked
    assert handler_client.get(f"/admin/employees/employee/{application.em_id}/change/").status_code == 200
    response = handler_client.get(f"/admin/employees/employee/{others_application.em_id}/change/")
    assert response.status_code == 302 and response["Location"] == "/admin/"


def test_a_handler_sees_only_events_and_documents_of_their_applications(
    handler_client, application, others_application
):
    own = application.events.create(kind=SignEvent.Kind.NOTE, note="自己的")
    foreign = others_application.events.create(kind=SignEvent.Kind.NOTE, note="别人的")

    page = handler_client.get("/admin/signing/signevent/").content.decode()

    assert f"#{application.pk}" in page and f"#{others_application.pk}" not in page
    assert handler_client.get(f"/admin/signing/signevent/{own.pk}/change/").status_code == 200
    assert handler_client.get(f"/admin/signing/signevent/{foreign.pk}/change/").status_code == 302


def test_a_handler_sees_only_verifications_of_their_applicants(handler_client, application, others_application):
    mine = RealnameVerification.objects.create(
        user=application.em.user, real_name="张三", id_number=application.em.id_number, backend="manual"
    )
    theirs = RealnameVerification.objects.create(
        user=others_application.em.user, real_name="赵六", id_number=others_application.em.id_number, backend="manual"
    )

    page = handler_client.get("/admin/employees/realnameverification/").content.decode()

    assert "张三" in page and "赵六" not in page
    assert handler_client.get(f"/admin/employees/realnameverification/{mine.pk}/change/").status_code == 200
    response = handler_client.post(f"/admin/employees/realnameverification/{theirs.pk}/decide/pass/", {"post": "yes"})
    assert response.status_code == 302 and response["Location"] == "/admin/"
    assert RealnameVerification.objects.get(pk=theirs.pk).status == VerifyStatus.VERIFYING


def test_handlers_get_no_view_of_all_wechat_users_or_uploads(handler):
    assert not handler.has_perm("employees.view_wechatuser")
    assert not handler.has_perm("employees.view_upload")
    assert handler.has_perm("employees.view_employee")
    assert handler.has_perm("employees.change_realnameverification")


def test_a_handler_whose_application_moved_to_another_handler_loses_it(
    handler_client, handler, other_handler, application
):
    SignApplication.objects.filter(pk=application.pk).update(ad_user=other_handler)

    response = action_post(handler_client, "reject_selected", [application.pk], confirm=True, reason="迟到的操作")

    assert any("不在您可处理的列表中" in m for m in messages_of(handler_client.get(response["Location"]), "error"))
    assert statuses(application) == [SignStatus.APPLIED]


def test_masking_holds_for_superusers_too(application, make_handler_superuser):
    """A superuser (here also in the 人事专员 group) sees every row, but masked like everybody until a reveal."""
    page = make_handler_superuser.get(CHANGELIST).content.decode()

    assert application.em.real_name in page and application.em.phone not in page


@pytest.fixture
def make_handler_superuser(db):
    from tests.factories import HandlerFactory

    return client_for(HandlerFactory(username="bosshr", is_superuser=True))


def test_pages_need_a_staff_login(client, application):
    response = client.get(CHANGELIST)

    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    assert client.get(f"{CHANGELIST}export/").status_code == 302
    assert client.post(f"{CHANGELIST}{application.pk}/review/reject/", {"reason": "x"}).status_code == 302
    assert statuses(application) == [SignStatus.APPLIED]


def test_a_non_staff_account_cannot_use_the_admin(application):
    user = AdminUserFactory(username="nobody", is_staff=False)
    user.user_permissions.add(
        *Permission.objects.filter(codename__in=["view_signapplication", "change_signapplication"])
    )
    SignApplication.objects.filter(pk=application.pk).update(ad_user=user)

    response = client_for(user).post(f"{CHANGELIST}{application.pk}/review/reject/", {"reason": "x"})

    assert response.status_code == 302 and response["Location"].startswith("/admin/login/")
    assert statuses(application) == [SignStatus.APPLIED]


def test_unknown_and_malformed_ids_are_not_found(super_client):
    for object_id in ("999999", "abc", "1%20OR%201=1"):
        response = super_client.get(f"{CHANGELIST}{object_id}/review/approve/")
        assert response.status_code == 302, object_id
        assert response["Location"] == "/admin/"
