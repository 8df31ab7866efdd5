"""Builders and independent judges for the PKI tests: pdfsig (poppler + NSS) and pyHanko's AdES engine."""

import asyncio
import datetime
import io
import re
import subprocess
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from django.conf import settings
from django.core.cache import caches
from django.db import connection
from django.utils import timezone
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager

from signing.evidence.trail import application_trail
from signing.models import SignStatus
from signing.pki.backends import get_ca_backend
from signing.pki.hierarchy import authority
from signing.pki.models import CertificateKind
from signing.sealing.pipeline import SealAuthorization, SigningFacts, seal_and_archive, sign_contract_document
from tests.factories import png_bytes
from tests.signing.sealing_helpers import contract_pdf


def authorization(**overrides) -> SealAuthorization:
    now = timezone.now()
    values = {
        "id": 7,
        "label": "印章授权 #7（王授权，2026-01-01 至 2027-12-31）",
        "valid_from": now - datetime.timedelta(days=1),
        "valid_until": now + datetime.timedelta(days=365),
    }
    values.update(overrides)
    return SealAuthorization(**values)


def issue_company_certificate(company, **kwargs):
    return get_ca_backend().issue_company_certificate(company=company, credit_code="91330100MA27XYZ12B", **kwargs)


def facts(**overrides) -> SigningFacts:
    values = {
        "signing_time": timezone.now(),
        "contract_sha256": "ab" * 32,
        "signature_image": png_bytes((300, 120), color=(20, 20, 120)),
        "intent_sent_at": timezone.now() - datetime.timedelta(minutes=2),
        "intent_phone": "13912345678",
        "ip": "203.0.113.9",
        "user_agent": "Mozilla/5.0 (iPhone) MicroMessenger/8.0",
        "city": "北京",
        "realname": "人工审核（后台：王审核，2026-12-01 09:00:00）",
    }
    values.update(overrides)
    return SigningFacts(**values)


def sign(application, *, document: bytes | None = None, auth: SealAuthorization | None = None, **fact_overrides):
    application = type(application).objects.select_related("em", "company", "contract").get(pk=application.pk)
    return sign_contract_document(
        application=application,
        document_pdf=document or contract_pdf(4),
        facts=facts(**fact_overrides),
        authorization=auth or authorization(),
    )


def archive(application):
    """Sign ``application`` by ``seal_and_archive`` with its contract file; mark it signed (as the flow does)."""
    application = type(application).objects.select_related("em", "company", "contract").get(pk=application.pk)
    with application.contract.file.open("rb") as handle:
        document = handle.read()
    seal_and_archive(
        application=application,
        document_pdf=document,
        facts=facts(trail=application_trail(application)),
        authorization=authorization(),
    )
    type(application).objects.filter(pk=application.pk).update(status=SignStatus.SIGNED)
    return type(application).objects.get(pk=application.pk)


def root_der() -> bytes:
    return authority(CertificateKind.ROOT).der


# --- poppler's pdfsig --------------------------------------------------------------------------------


def nss_database(
    folder: Path, *, trust_root: bytes | None = None, crls: list[bytes] = (), intermediates: list[bytes] = ()
) -> Path:
    """A fresh NSS database (certutil), with the project root trusted and CRLs imported (crlutil) when given."""
    folder.mkdir(parents=True, exist_ok=True)
    subprocess.run(["certutil", "-N", "-d", f"sql:{folder}", "--empty-password"], check=True, capture_output=True)
    if trust_root is not None:
        (folder / "root.der").write_bytes(trust_root)
        subprocess.run(
            [
                "certutil",
                "-A",
                "-d",
                f"sql:{folder}",
                "-n",
                "shanqian-root",
                "-t",
                "C,C,C",
                "-i",
                str(folder / "root.der"),
            ],
            check=True,
            capture_output=True,
        )
    for n, der in enumerate(intermediates):
        (folder / f"ca{n}.der").write_bytes(der)
        subprocess.run(
            ["certutil", "-A", "-d", f"sql:{folder}", "-n", f"ca{n}", "-t", ",,", "-i", str(folder / f"ca{n}.der")],
            check=True,
            capture_output=True,
        )
    for n, crl in enumerate(crls):
        path = folder / f"crl{n}.der"
        path.write_bytes(crl)
        subprocess.run(["crlutil", "-I", "-d", f"sql:{folder}", "-i", str(path)], check=True, capture_output=True)
    return folder


def pdfsig(pdf: bytes, folder: Path, *, nssdir: Path | None = None) -> tuple[list[dict], str]:
    """Run pdfsig on the bytes; each signature's lines as a dict (key → value), plus the raw output."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "checked.pdf"
    path.write_bytes(pdf)
    args = ["pdfsig"]
    if nssdir is None:
        nssdir = nss_database(folder / "empty-nss")
    args += ["-nssdir", f"sql:{nssdir}", str(path)]
    result = subprocess.run(args, capture_output=True, text=True, timeout=60)
    signatures: list[dict] = []
    for line in result.stdout.splitlines():
        if re.match(r"^Signature #\d+:", line):
            signatures.append({})
        elif line.startswith("  - ") and signatures:
            key, _, value = line[4:].partition(":")
            signatures[-1][key.strip()] = value.strip()
        elif line.strip() and signatures and ":" not in line:
            signatures[-1][line.strip()] = ""
    return signatures, result.stdout


# --- pyHanko, independently of signing.sealing.verification -------------------------------------------


def pyhanko_lta(pdf: bytes, *, root: bytes, known_crls=()):
    """pyHanko's AdES LTA validation of every /Sig, with the project root as the only anchor, offline."""
    from asn1crypto import x509 as asn1_x509
    from pyhanko.sign.validation.policy_decl import LocalKnowledge
    from pyhanko_certvalidator.revinfo.archival import CRLContainer

    anchor = asn1_x509.Certificate.load(root)
    spec = PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=CertValidationPolicySpec(
                trust_manager=SimpleTrustManager.build(trust_roots=[anchor]),
                revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
            ),
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
            local_knowledge=LocalKnowledge(known_crls=[CRLContainer(crl) for crl in known_crls]),
        )
    )
    reader = PdfFileReader(io.BytesIO(pdf), strict=False)
    results = {}
    for signature in reader.embedded_signatures:
        if signature.sig_object_type == "/Sig":
            results[signature.field_name] = asyncio.run(ades_lta_validation(signature, spec))
    return results


# Where a private key could have been left behind: every form of it, and the bytes of the database,
# the stored files and the caches to search for them.
def key_forms(key) -> list[bytes]:
    """Every way the private key could have been written down."""
    scalar = key.private_numbers().private_value.to_bytes(32, "big")
    pkcs8 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    sec1 = key.private_bytes(
        serialization.Encoding.DER, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
    )
    pem = key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
    body = b"".join(pem.splitlines()[1:-1])
    return [
        scalar,
        scalar.hex().encode(),
        scalar.hex().upper().encode(),
        pkcs8,
        sec1,
        body[:48],
        str(key.private_numbers().private_value).encode(),
    ]


def database_bytes() -> bytes:
    chunks = []
    with connection.cursor() as cursor:
        for table in connection.introspection.table_names(cursor):
            cursor.execute(f"SELECT * FROM {connection.ops.quote_name(table)}")  # noqa: S608 -- table names from introspection
            for row in cursor.fetchall():
                for value in row:
                    if isinstance(value, memoryview | bytes | bytearray):
                        chunks.append(bytes(value))
                    elif value is not None:
                        chunks.append(str(value).encode())
    return b"\n".join(chunks)


def storage_bytes() -> bytes:
    root = Path(settings.MEDIA_ROOT)
    return b"\n".join(p.read_bytes() for p in root.rglob("*") if p.is_file()) if root.exists() else b""


def cache_bytes() -> bytes:
    chunks = []
    for cache in caches.all():
        store = getattr(cache, "_cache", None)  # LocMemCache keeps pickled values here
        if store is not None:
            chunks.extend(v if isinstance(v, bytes) else str(v).encode() for v in store.values())
            chunks.extend(str(k).encode() for k in store)
    return b"\n".join(chunks)
