"""
吊销单位证书 from the back office (SPEC §10): the button and the bulk action, who may, the reason
and note recorded, the CRL at /pki/issuing.crl listing it at once (read back by openssl and by
NSS's crlutil), and verification reporting the revocation against the signature's timestamp.
"""

import re
import subprocess

import pytest
from django.contrib.admin.models import LogEntry
from django.contrib.auth.models import Permission
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from signing.pki.hierarchy import authority
from signing.pki.models import CertificateKind, PkiCertificate, RevocationReason
from signing.sealing.verification import verify_document
from tests.factories import AdminUserFactory
from tests.support.admin import action_post, client_for, messages_of

from .helpers import issue_company_certificate, sign

CERTIFICATES = "/admin/signing/pkicertificate/"


def revoke_url(record) -> str:
    return f"{CERTIFICATES}{record.pk}/review/revoke/"


@pytest.fixture
def signed(pki, world, signer):
    issue_company_certificate(world.company)
    return sign(signer.application)


@pytest.fixture
def viewer(db):
    """Staff who may look at certificates but not revoke them."""
    user = AdminUserFactory(username="pki-viewer")
    user.user_permissions.add(Permission.objects.get(codename="view_pkicertificate"))
    return user


@pytest.fixture
def revoker(db):
    user = AdminUserFactory(username="pki-officer", name="安全员")
    user.user_permissions.add(*Permission.objects.filter(codename__in=["view_pkicertificate", "change_pkicertificate"]))
    return user


def _openssl_crl_text(der: bytes, tmp_path) -> str:
    path = tmp_path / "issuing.crl"
    path.write_bytes(der)
    return subprocess.run(
        ["openssl", "crl", "-inform", "DER", "-in", str(path), "-noout", "-text"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout


def _crlutil_list(der: bytes, folder) -> str:
    """Import the CRL into a fresh NSS database (with its issuer) and list what NSS read from it."""
    folder.mkdir()
    nss = f"sql:{folder}"
    subprocess.run(["certutil", "-N", "-d", nss, "--empty-password"], check=True, capture_output=True)
    (folder / "issuing.der").write_bytes(authority(CertificateKind.ISSUING).der)
    (folder / "root.der").write_bytes(authority(CertificateKind.ROOT).der)
    for name, trust in (("root", "C,C,C"), ("issuing", ",,")):
        subprocess.run(
            ["certutil", "-A", "-d", nss, "-n", name, "-t", trust, "-i", str(folder / f"{name}.der")],
            check=True,
            capture_output=True,
        )
    (folder / "issuing.crl").write_bytes(der)
    subprocess.run(["crlutil", "-I", "-d", nss, "-i", str(folder / "issuing.crl")], check=True, capture_output=True)
    issuer = authority(CertificateKind.ISSUING).certificate.subject.rfc4514_string()
    listed = subprocess.run(["crlutil", "-L", "-d", nss, "-n", "issuing"], capture_output=True, text=True)
    return listed.stdout + listed.stderr + issuer


def test_the_button_revokes_with_a_reason_and_the_crl_lists_it_at_once(signed, revoker, tmp_path):
    record = signed.company_certificate
    officer = client_for(revoker)
    anonymous = Client()
    before = anonymous.get("/pki/issuing.crl")
    assert f"{int(record.serial, 16):X}" not in _openssl_crl_text(before.content, tmp_path).replace(":", "")

    page = officer.get(f"{CERTIFICATES}{record.pk}/change/")
    assert page.status_code == 200 and revoke_url(record) in page.content.decode()
    form = officer.get(revoke_url(record))
    assert form.status_code == 200 and "吊销原因" in form.content.decode()

    response = officer.post(revoke_url(record), {"reason": RevocationReason.KEY_COMPROMISE, "note": "私钥疑似泄露"})

    assert response.status_code == 302
    record.refresh_from_db()
    assert record.revoked_at is not None and record.revoked_by == revoker
    assert record.revocation_reason == RevocationReason.KEY_COMPROMISE and record.revocation_note == "私钥疑似泄露"
    assert LogEntry.objects.filter(object_id=str(record.pk), change_message="吊销证书").exists()

    # The CRL at /pki/issuing.crl is the new one at once, even to a cache holding the old ETag.
    after = anonymous.get("/pki/issuing.crl", HTTP_IF_NONE_MATCH=before["ETag"])
    assert after.status_code == 200 and after["ETag"] != before["ETag"]
    text = _openssl_crl_text(after.content, tmp_path)
    # openssl prints an even number of hex digits (a leading zero where the serial's top nibble is 0).
    listed_serials = {int(serial, 16) for serial in re.findall(r"Serial Number: ([0-9A-F]+)", text)}
    assert int(record.serial, 16) in listed_serials, text
    assert "Key Compromise" in text and "Revocation Date" in text
    listed = _crlutil_list(after.content, tmp_path / "nss")
    assert "CRL reason code" in listed and "Data: 1 (0x1)" in listed, listed  # keyCompromise (RFC 5280)
    assert record.serial.lower().lstrip("0") in "".join(listed.replace(":", "").split()).lower(), listed


def test_verification_reports_the_revocation_after_the_signature_timestamp(signed, revoker, superuser):
    record = signed.company_certificate
    reason = RevocationReason.CESSATION_OF_OPERATION
    client_for(revoker).post(revoke_url(record), {"reason": reason, "note": "单位注销"})

    report = verify_document(signed.pdf)
    employer = next(s for s in report.signatures if s.role == "employer")
    assert employer.revoked_at is not None and employer.revoked_at > employer.timestamp.time
    assert "晚于签名时间戳" in employer.revocation and "单位停止使用" in employer.revocation
    worker = next(s for s in report.signatures if s.role == "worker")
    assert worker.revocation == "未吊销"

    # The admin's JSON form of the same report.
    upload = SimpleUploadedFile("signed.pdf", signed.pdf, content_type="application/pdf")
    data = client_for(superuser).post("/admin/signing/signapplication/verify-document/?format=json", {"file": upload})
    signatures = {s["role"]: s for s in data.json()["signatures"]}
    assert "晚于签名时间戳" in signatures["employer"]["revocation"]
    assert signatures["employer"]["revoked_at"]


def test_without_the_change_permission_there_is_no_button_and_no_revocation(signed, viewer):
    record = signed.company_certificate
    client = client_for(viewer)

    page = client.get(f"{CERTIFICATES}{record.pk}/change/")
    assert page.status_code == 200 and revoke_url(record) not in page.content.decode()
    assert client.get(revoke_url(record)).status_code == 403
    assert client.post(revoke_url(record), {"reason": "unspecified", "note": "x"}).status_code == 403
    listing = client.get(CERTIFICATES)
    assert "revoke_selected" not in listing.content.decode()
    assert PkiCertificate.objects.get(pk=record.pk).revoked_at is None


def test_a_note_is_required_and_an_unknown_reason_is_refused(signed, revoker):
    record = signed.company_certificate
    client = client_for(revoker)

    missing = client.post(revoke_url(record), {"reason": "key_compromise", "note": ""})
    forged = client.post(revoke_url(record), {"reason": "superseded", "note": "手工填写"})

    assert missing.status_code == 200 and "该字段是必填项" in missing.content.decode()
    assert forged.status_code == 200 and "errornote" in forged.content.decode()
    assert PkiCertificate.objects.get(pk=record.pk).revoked_at is None


def test_ca_and_event_certificates_cannot_be_revoked_here(signed, revoker):
    client = client_for(revoker)
    issuing = authority(CertificateKind.ISSUING).record

    page = client.get(f"{CERTIFICATES}{issuing.pk}/change/")
    assert revoke_url(issuing) not in page.content.decode()
    response = client.post(revoke_url(issuing), {"reason": "unspecified", "note": "试试"}, follow=True)
    assert "只有单位证书可以在后台吊销" in " ".join(messages_of(response))
    event = signed.event_certificate
    client.post(revoke_url(event), {"reason": "unspecified", "note": "试试"})
    assert not PkiCertificate.objects.filter(pk__in=[issuing.pk, event.pk], revoked_at__isnull=False).exists()


def test_the_bulk_action_revokes_the_company_certificates_and_skips_the_rest(pki, revoker):
    from tests.factories import CompanyFactory

    first = issue_company_certificate(CompanyFactory(company_name="甲公司"))
    second = issue_company_certificate(CompanyFactory(company_name="乙公司"))
    issuing = authority(CertificateKind.ISSUING).record
    client = client_for(revoker)

    page = action_post(client, "revoke_selected", [first.pk, second.pk, issuing.pk], url=CERTIFICATES)
    assert page.status_code == 200 and "只有单位证书可以在后台吊销" in page.content.decode()
    done = action_post(
        client,
        "revoke_selected",
        [first.pk, second.pk, issuing.pk],
        url=CERTIFICATES,
        confirm=True,
        reason="affiliation_changed",
        note="单位合并",
    )

    assert done.status_code == 302
    rows = {r.pk: r for r in PkiCertificate.objects.filter(pk__in=[first.pk, second.pk, issuing.pk])}
    assert rows[first.pk].revoked_at and rows[second.pk].revoked_at and rows[issuing.pk].revoked_at is None
    assert rows[first.pk].revocation_reason == "affiliation_changed" and rows[first.pk].revoked_by == revoker
    from cryptography import x509

    crl = x509.load_der_x509_crl(Client().get("/pki/issuing.crl").content)
    for record in (first, second):
        assert crl.get_revoked_certificate_by_serial_number(int(record.serial, 16)) is not None
