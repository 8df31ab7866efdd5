"""The local hierarchy: pki_init, the certificate profiles, keys at rest, CRLs and revocation."""

import datetime

import pytest
import time_machine
from cryptography import x509
from cryptography.hazmat.primitives import serialization
from cryptography.x509.oid import ExtendedKeyUsageOID, NameOID
from django.core.management import call_command
from django.utils import timezone

from shanqian.errors import Conflict
from signing.pki import keystore
from signing.pki.company import company_certificate_issue
from signing.pki.crl import AlreadyRevoked, certificate_revoke, crl_current
from signing.pki.hierarchy import Held, authority
from signing.pki.models import CertificateKind, PkiCertificate, RevocationList, RevocationReason
from signing.pki.setup import pki_init
from tests.factories import AdminUserFactory, CompanyFactory

from .conftest import TEST_PASSPHRASE


def _cert(kind) -> x509.Certificate:
    return authority(kind).certificate


def _crl(kind) -> x509.CertificateRevocationList:
    return x509.load_der_x509_crl(bytes(crl_current(authority(kind)).der))


def test_pki_init_creates_root_issuing_tsa_and_first_crls(pki):
    kinds = sorted(PkiCertificate.objects.values_list("kind", flat=True))
    assert kinds == sorted([CertificateKind.ROOT, CertificateKind.ISSUING, CertificateKind.TSA])
    assert RevocationList.objects.count() == 2

    root, issuing, tsa = (_cert(k) for k in (CertificateKind.ROOT, CertificateKind.ISSUING, CertificateKind.TSA))
    assert root.issuer == root.subject and issuing.issuer == root.subject and tsa.issuer == root.subject
    assert root.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 1
    assert issuing.extensions.get_extension_for_class(x509.BasicConstraints).value.path_length == 0
    issuing.verify_directly_issued_by(root)
    # The development TSA hangs off the root (see signing.pki.hierarchy: long-term validation).
    tsa.verify_directly_issued_by(root)
    # RFC 3161 §2.3: exactly the timeStamping EKU, critical.
    eku = tsa.extensions.get_extension_for_class(x509.ExtendedKeyUsage)
    assert eku.critical and list(eku.value) == [ExtendedKeyUsageOID.TIME_STAMPING]
    assert tsa.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "闪签云时间戳服务（开发）"
    dp = issuing.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value == "http://pki.test/pki/root.crl"
    dp = tsa.extensions.get_extension_for_class(x509.CRLDistributionPoints).value
    assert dp[0].full_name[0].value == "http://pki.test/pki/root.crl"


def test_pki_init_is_idempotent(pki):
    again = pki_init(dev_tsa=True)

    assert again.created == []
    assert {r.pk for r in again.kept} == {r.pk for r in pki.created}
    assert PkiCertificate.objects.count() == 3


def test_pki_init_completes_a_partial_hierarchy(pki_settings, db):
    pki_init(dev_tsa=False)
    assert not PkiCertificate.objects.filter(kind=CertificateKind.TSA).exists()

    report = pki_init(dev_tsa=True)

    assert [r.kind for r in report.created] == [CertificateKind.TSA]


def test_names_say_development_under_debug_only(pki_settings, db):
    pki_settings.DEBUG = True
    pki_init(dev_tsa=True)
    assert authority(CertificateKind.ROOT).record.common_name == "闪签云根CA（开发）"
    PkiCertificate.objects.update(revoked_at=timezone.now())  # retire it, then a production init
    RevocationList.objects.all().delete()
    pki_settings.DEBUG = False

    pki_init(dev_tsa=False)

    assert authority(CertificateKind.ROOT).record.common_name == "闪签云根CA"
    assert authority(CertificateKind.ISSUING).record.common_name == "闪签云签发CA"


def test_keys_are_stored_encrypted_under_the_passphrase(pki):
    for record in PkiCertificate.objects.all():
        pem = bytes(record.key_pem)
        assert pem.startswith(b"-----BEGIN ENCRYPTED PRIVATE KEY-----")
        with pytest.raises(TypeError):
            serialization.load_pem_private_key(pem, password=None)
        key = serialization.load_pem_private_key(pem, password=TEST_PASSPHRASE.encode())
        assert key.public_key() == Held.of(record).certificate.public_key()


def test_a_wrong_passphrase_is_a_clear_error_without_the_passphrase(pki, pki_settings):
    keystore.forget_keys()
    pki_settings.SIGNING_KEY_PASSPHRASE = "not-the-passphrase-of-pki-init"

    with pytest.raises(keystore.KeyUndecryptable) as raised:
        pki_init()

    assert "SIGNING_KEY_PASSPHRASE" in str(raised.value) and "根 CA" in str(raised.value)
    assert "not-the-passphrase" not in str(raised.value) and TEST_PASSPHRASE not in str(raised.value)


def test_pki_init_command_reports_and_refuses_a_wrong_passphrase(pki_settings, db, capsys):
    call_command("pki_init", "--dev-tsa")
    first = capsys.readouterr().out
    assert "已创建 根 CA" in first and "已创建 签发 CA" in first and "证书体系就绪" in first
    assert "PRIVATE KEY" not in first

    call_command("pki_init")
    assert "无需变更" in capsys.readouterr().out

    keystore.forget_keys()
    pki_settings.SIGNING_KEY_PASSPHRASE = "another-passphrase-entirely-000"
    from django.core.management.base import CommandError

    with pytest.raises(CommandError, match="无法用 SIGNING_KEY_PASSPHRASE 解密"):
        call_command("pki_init")


def test_company_certificate_profile(pki):
    company = CompanyFactory(company_name="闪签测试科技有限公司")

    record = company_certificate_issue(company=company, credit_code="91330100MA27XYZ12B")

    cert = Held.of(record).certificate
    assert record.kind == CertificateKind.COMPANY and record.company == company and record.has_key
    assert cert.subject.get_attributes_for_oid(NameOID.COMMON_NAME)[0].value == "闪签测试科技有限公司"
    assert cert.subject.get_attributes_for_oid(NameOID.ORGANIZATION_IDENTIFIER)[0].value == "NTRCN-91330100MA27XYZ12B"
    usage = cert.extensions.get_extension_for_class(x509.KeyUsage).value
    assert usage.digital_signature and usage.content_commitment and not usage.key_cert_sign
    assert not cert.extensions.get_extension_for_class(x509.BasicConstraints).value.ca
    aia = cert.extensions.get_extension_for_class(x509.AuthorityInformationAccess).value
    assert aia[0].access_location.value == "http://pki.test/pki/issuing.crt"
    assert cert.not_valid_after_utc - cert.not_valid_before_utc >= datetime.timedelta(days=729)


def test_reissuing_a_company_certificate_supersedes_the_old_one(pki):
    company = CompanyFactory()
    old = company_certificate_issue(company=company)

    new = company_certificate_issue(company=company)

    old.refresh_from_db()
    assert old.revoked_at is not None and old.revocation_reason == RevocationReason.SUPERSEDED
    assert new.revoked_at is None
    revoked = _crl(CertificateKind.ISSUING).get_revoked_certificate_by_serial_number(int(old.serial, 16))
    assert revoked is not None


def test_revocation_appears_in_the_issuing_crl_at_once(pki):
    company = CompanyFactory()
    record = company_certificate_issue(company=company)
    staff = AdminUserFactory()
    before = crl_current(authority(CertificateKind.ISSUING)).number

    certificate_revoke(certificate=record, reason=RevocationReason.KEY_COMPROMISE, note="私钥疑似泄露", actor=staff)

    crl = _crl(CertificateKind.ISSUING)
    entry = crl.get_revoked_certificate_by_serial_number(int(record.serial, 16))
    assert entry is not None
    assert entry.extensions.get_extension_for_class(x509.CRLReason).value.reason == x509.ReasonFlags.key_compromise
    assert crl.extensions.get_extension_for_class(x509.CRLNumber).value.crl_number == before + 1
    assert crl.is_signature_valid(authority(CertificateKind.ISSUING).certificate.public_key())
    record.refresh_from_db()
    assert record.revoked_by == staff and record.revocation_note == "私钥疑似泄露"


def test_revoking_twice_or_a_ca_is_refused(pki):
    record = company_certificate_issue(company=CompanyFactory())
    certificate_revoke(certificate=record)

    with pytest.raises(AlreadyRevoked):
        certificate_revoke(certificate=record)
    with pytest.raises(Conflict, match="CA 证书不能在后台吊销"):
        certificate_revoke(certificate=authority(CertificateKind.ISSUING).record)
    assert authority(CertificateKind.ISSUING).record.revoked_at is None


def test_the_crl_is_reissued_when_due_even_without_revocations(pki, pki_settings):
    pki_settings.SIGNING_CRL_REFRESH_HOURS = 24
    first = crl_current(authority(CertificateKind.ISSUING))
    assert crl_current(authority(CertificateKind.ISSUING)).pk == first.pk

    with time_machine.travel(timezone.now() + datetime.timedelta(hours=25)):
        later = crl_current(authority(CertificateKind.ISSUING))

    assert later.number == first.number + 1 and later.this_update > first.this_update
    assert later.next_update - later.this_update == datetime.timedelta(days=pki_settings.SIGNING_CRL_VALIDITY_DAYS)
