"""The back office's 验证签署文件 page."""

import hashlib

import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client
from django.urls import reverse

from signing.admin_verify import MAX_VERIFY_BYTES, VerifyDocumentForm
from signing.models import SignedDocument, SignStatus
from signing.sealing import store_sealed_pdf
from tests.factories import AdminUserFactory, SignApplicationFactory
from tests.signing.legacy_seal import seal_contract

from .sealing_helpers import certificate_data, contract_pdf

pytestmark = pytest.mark.django_db

URL = "/admin/signing/signapplication/verify-document/"


@pytest.fixture(autouse=True)
def _plain_static_storage(settings):
    # DEBUG-off settings use the manifest storage, which needs collectstatic; admin pages only need URLs.
    settings.STORAGES = {
        **settings.STORAGES,
        "staticfiles": {"BACKEND": "django.contrib.staticfiles.storage.StaticFilesStorage"},
    }


@pytest.fixture
def staff_client():
    client = Client()
    client.force_login(AdminUserFactory(is_superuser=True))
    return client


@pytest.fixture
def signed_application():
    """A signed application whose sealed PDF is archived as its SignedDocument."""
    application = SignApplicationFactory(status=SignStatus.SIGNED)
    contract = contract_pdf(2)
    pdf = seal_contract(contract_pdf=contract, data=certificate_data(application_id=application.pk))
    stored = store_sealed_pdf(pdf)
    SignedDocument.objects.create(
        application=application,
        file=stored.name,
        sha256=stored.sha256,
        size=stored.size,
        contract_sha256=hashlib.sha256(contract).hexdigest(),
    )
    return application, pdf


def upload(data: bytes, name: str = "签署文件.pdf"):
    return SimpleUploadedFile(name, data, content_type="application/pdf")


def test_the_page_is_reversible_in_the_admin_namespace():
    assert reverse("admin:signing_verify_document") == URL


def test_staff_sees_the_upload_form(staff_client):
    response = staff_client.get(URL)

    assert response.status_code == 200
    body = response.content.decode()
    assert "验证签署文件" in body and 'type="file"' in body and 'enctype="multipart/form-data"' in body
    assert 'id="verify-result"' not in body


def test_an_archived_intact_seal_is_confirmed_with_a_link_to_its_application(staff_client, signed_application):
    application, pdf = signed_application

    response = staff_client.post(URL, {"file": upload(pdf)})

    assert response.status_code == 200
    body = response.content.decode()
    result = response.context["result"]
    assert result.ok and result.application_id == application.pk
    assert response.context["archive"].matches
    assert "验证通过" in body and f"申请编号 {application.pk}" in body
    assert "与系统存档的已签署文件完全一致" in body
    change_url = reverse("admin:signing_signapplication_change", args=[application.pk])
    assert f'href="{change_url}"' in body
    assert hashlib.sha256(pdf).hexdigest() in body


def test_a_tampered_seal_is_reported_without_a_link(staff_client, signed_application):
    application, pdf = signed_application
    marker = f"/ShanqianApplicationId ({application.pk})".encode()
    head, _, tail = pdf.rpartition(marker)
    other_digit = str((application.pk + 1) % 10).encode()
    tampered = head + marker[:-2] + other_digit + b")" + tail
    assert len(tampered) == len(pdf) and tampered != pdf
    # One bit of the first page's content stream: inside the signed range, the file still parses.
    stream = pdf.index(b"stream", pdf.index(b"/Contents")) + 16
    flipped = bytearray(pdf)
    flipped[stream] ^= 0x01

    # The report names the application id the file claims: the tampered one claims another.
    claimed = int(str(application.pk)[:-1] + other_digit.decode())
    for data, shown_id in ((tampered, claimed), (bytes(flipped), application.pk)):
        response = staff_client.post(URL, {"file": upload(data)})

        assert response.status_code == 200
        result = response.context["result"]
        assert not result.intact
        assert result.message == (
            f"验证失败：该文件带有闪签云的签章（申请编号 {shown_id}），但签署后已被改动或签名已损坏，"
            "不能作为有效的签署文件。"
        )
        body = response.content.decode()
        assert "application-link" not in body
        assert result.message in body


def test_an_intact_seal_that_differs_from_the_archive_is_flagged(staff_client, signed_application):
    application, _ = signed_application
    # A second, genuine seal for the same application: intact, but not the archived file.
    other = seal_contract(contract_pdf=contract_pdf(1), data=certificate_data(application_id=application.pk))

    response = staff_client.post(URL, {"file": upload(other)})

    assert response.context["result"].ok
    assert not response.context["archive"].matches
    body = response.content.decode()
    assert "与系统存档的已签署文件不一致" in body and "application-link" not in body


def test_a_seal_for_an_unknown_application_says_so(staff_client):
    pdf = seal_contract(contract_pdf=contract_pdf(1), data=certificate_data(application_id=987654))

    response = staff_client.post(URL, {"file": upload(pdf)})

    assert response.context["result"].ok
    assert "系统中没有申请编号为 987654 的签约申请" in response.content.decode()


@pytest.mark.parametrize("data", [contract_pdf(1), b"GIF89a", b"\x00" * 10])
def test_files_we_did_not_seal_are_not_ours(staff_client, data):
    response = staff_client.post(URL, {"file": upload(data)})

    assert response.status_code == 200
    result = response.context["result"]
    assert not result.is_ours and not result.intact
    assert result.message in response.content.decode()


def test_a_missing_file_is_a_form_error(staff_client):
    response = staff_client.post(URL, {})

    assert response.status_code == 200
    assert response.context["form"].errors["file"]
    assert "result" not in response.context


def test_an_oversized_upload_is_refused_before_the_body_is_read(staff_client):
    response = staff_client.post(URL, {"file": upload(b"%PDF-" + b"0" * (MAX_VERIFY_BYTES + 70 * 1024))})

    assert response.status_code == 413
    assert "文件不能超过 20 MB" in response.content.decode()
    assert "result" not in response.context


def test_the_form_caps_the_file_size_itself():
    form = VerifyDocumentForm(data={}, files={"file": upload(b"x" * (MAX_VERIFY_BYTES + 1))})

    assert not form.is_valid()
    assert form.errors["file"] == ["文件不能超过 20 MB"]


def test_posting_without_a_csrf_token_is_refused(signed_application):
    client = Client(enforce_csrf_checks=True)
    client.force_login(AdminUserFactory(is_superuser=True))

    response = client.post(URL, {"file": upload(signed_application[1])})

    assert response.status_code == 403


def test_a_configuration_without_a_certificate_is_a_page_error_not_a_500(
    signed_application, staff_client, settings, tmp_path
):
    settings.SIGNING_CERT_PATH = str(tmp_path / "missing.pem")

    response = staff_client.post(URL, {"file": upload(signed_application[1])})

    assert response.status_code == 200
    assert "签章证书未配置或无法读取" in response.content.decode()
    # An unsigned file needs no certificate to be judged.
    plain = staff_client.post(URL, {"file": upload(contract_pdf(1))})
    assert plain.status_code == 200 and "不含数字签名" in plain.content.decode()


def test_non_staff_and_anonymous_users_are_sent_to_the_login_page(signed_application):
    login = reverse("admin:login")
    non_staff = Client()
    non_staff.force_login(AdminUserFactory(is_staff=False))

    for client in (non_staff, Client()):
        for response in (client.get(URL), client.post(URL, {"file": upload(signed_application[1])})):
            assert response.status_code == 302
            assert response["Location"].startswith(f"{login}?next=")


@pytest.mark.django_db
def test_verify_page_is_linked_from_the_application_list(client):
    from tests.factories import AdminUserFactory

    client.force_login(AdminUserFactory(is_superuser=True))

    page = client.get("/admin/signing/signapplication/")

    assert page.status_code == 200
    assert reverse("admin:signing_verify_document") in page.content.decode()
