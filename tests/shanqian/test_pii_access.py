"""个人信息访问记录: what an access record holds, and who may read the list."""

from django.test import Client, RequestFactory

from shanqian.models import PersonalDataAccess
from shanqian.pii_access import access_record, export_record
from tests.factories import AdminUserFactory, HandlerFactory, PlatformFactory


def test_an_access_record_names_who_what_when_and_where_but_no_value(db):
    staff = HandlerFactory()
    target = PlatformFactory()
    request = RequestFactory().post(
        "/admin/x/1/reveal/?q=13800001111", HTTP_USER_AGENT="Firefox", REMOTE_ADDR="10.9.8.7"
    )
    request.user = staff

    record = access_record(request=request, obj=target, fields=["手机号", "身份证号"])

    record.refresh_from_db()
    assert record.staff == staff and record.action == "reveal"
    assert record.target_type == "shanqian.platform" and record.target_id == str(target.pk)
    assert record.fields == "手机号、身份证号"
    assert record.ip == "10.9.8.7" and record.user_agent == "Firefox"
    assert record.path == "/admin/x/1/reveal/"  # the query string (a search term) is not kept
    assert record.accessed_at is not None


def test_an_export_record_counts_rows(db):
    staff = AdminUserFactory(is_superuser=True)
    request = RequestFactory().get("/admin/signing/signapplication/export/")
    request.user = staff

    record = export_record(request=request, model=PersonalDataAccess, count=25, fields=["手机号"])

    assert record.rows == 25 and record.action == "export"


def test_only_superusers_see_the_access_records(db):
    superuser = AdminUserFactory(is_superuser=True)
    handler = HandlerFactory()
    url = "/admin/shanqian/personaldataaccess/"
    client = Client()

    client.force_login(handler)
    assert client.get(url).status_code == 403
    client.force_login(superuser)
    page = client.get(url)
    assert page.status_code == 200
    assert "个人信息访问记录" in page.content.decode()


def test_nobody_can_change_or_delete_an_access_record(db):
    superuser = AdminUserFactory(is_superuser=True)
    request = RequestFactory().get("/")
    request.user = superuser
    record = access_record(request=request, obj=superuser, fields=["手机号"])
    client = Client()
    client.force_login(superuser)

    assert client.post(f"/admin/shanqian/personaldataaccess/{record.pk}/delete/", {"post": "yes"}).status_code == 403
    assert PersonalDataAccess.objects.filter(pk=record.pk).exists()
