"""
The evidence package (出证包) of a signed application (SPEC §10).

``evidence_package(application, actor=..., client=..., via=...)`` returns a
zip of:

* ``report.pdf`` — the evidence report (``signing.evidence.report``);
* ``contract.pdf`` — the contract as the worker read it;
* ``signed.pdf`` — the sealed file exactly as archived;
* ``audit.json`` — every event, machine-readable;
* ``certs/`` — the event, company, TSA, issuing and root certificates and the current CRLs;
* ``manifest.json`` — the SHA-256 of each file above.

Each export is itself audited: an ``evidence`` event (who, when, from where,
the manifest's SHA-256) is written in the same transaction, so it appears in
every later export. ``EvidenceUnavailable`` (409) for an application that is
not signed or whose files are missing. Query count is constant (pinned by the
tests); ``evidence_packages`` runs it for many rows, collecting refusals.
"""

import hashlib
import io
import json
import zipfile
from dataclasses import dataclass

from django.conf import settings
from django.core.files.storage import default_storage
from django.db import transaction
from django.utils import timezone

from employees.masking import mask_id_number, mask_phone
from shanqian.errors import Conflict

from ..models import SignApplication, SignedDocument, SignEvent, SignStatus
from ..pki.crl import crl_current
from ..pki.hierarchy import Held, chain
from ..pki.models import CertificateKind, PkiCertificate
from ..sealing.certificate import format_time
from ..sealing.verification import verify_document
from .report import CertificateFact, EvidenceFacts, TimestampFact, render_report
from .trail import application_trail, approval_terms, realname_decision, realname_summary

INTENT_KINDS = {
    SignEvent.Kind.VIEWED,
    SignEvent.Kind.INTENT_SENT,
    SignEvent.Kind.INTENT_ACCEPTED,
    SignEvent.Kind.SIGNATURE,
    SignEvent.Kind.EVENT_CERT,
    "realname",
}
ROLE_LABELS = {
    CertificateKind.EVENT: "劳动者事件证书",
    CertificateKind.COMPANY: "用人单位证书",
    CertificateKind.TSA: "时间戳服务证书",
    CertificateKind.ISSUING: "签发 CA 证书",
    CertificateKind.ROOT: "根 CA 证书（信任锚）",
}
FILE_NAMES = {
    CertificateKind.EVENT: "certs/event.crt",
    CertificateKind.COMPANY: "certs/company.crt",
    CertificateKind.ISSUING: "certs/issuing.crt",
    CertificateKind.ROOT: "certs/root.crt",
}


class EvidenceUnavailable(Conflict):
    """No evidence package for this application: not signed, or its files are missing (409)."""


@dataclass(frozen=True)
class EvidencePackage:
    application_id: int
    filename: str
    content: bytes
    manifest: dict

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.content).hexdigest()


def _read(name: str) -> bytes:
    try:
        with default_storage.open(name, "rb") as handle:
            return handle.read()
    except (FileNotFoundError, OSError) as exc:
        raise EvidenceUnavailable("签署文件在存储中不存在，无法生成出证包，请联系管理员") from exc


def _contract_as_read(application) -> bytes:
    """The document the worker read (the personalised contract when it exists, else the template file)."""
    for attribute in ("contract_document", "personalised_document"):
        document = getattr(application, attribute, None)
        name = getattr(getattr(document, "file", None), "name", "") if document is not None else ""
        if name:
            return _read(name)
    if application.contract_id and application.contract.file:
        return _read(application.contract.file.name)
    raise EvidenceUnavailable("合同文件不存在，无法生成出证包")


def _revocation(record: PkiCertificate) -> str:
    if record.revoked_at is None:
        return "未吊销（截至出证时）"
    return f"已于 {format_time(record.revoked_at, with_zone=True)} 吊销（{record.get_revocation_reason_display()}）"


def _cert_fact(record: PkiCertificate, role: str) -> CertificateFact:
    return CertificateFact(
        role=role,
        subject=record.subject,
        serial=record.serial,
        fingerprint_sha256=record.fingerprint_sha256,
        not_before=record.not_before,
        not_after=record.not_after,
        revocation=_revocation(record),
    )


def _audit_json(rows) -> bytes:
    events = [
        {
            "time": row.time.isoformat(),
            "kind": row.kind,
            "action": row.action,
            "from": row.from_label,
            "to": row.to_label,
            "actor": row.actor,
            "ip": row.ip,
            "user_agent": row.user_agent,
            "city": row.city,
            "note": row.note,
            "data": row.data,
        }
        for row in rows
    ]
    return json.dumps({"events": events}, ensure_ascii=False, indent=2).encode()


def evidence_package(application: SignApplication, *, actor=None, client=None, via: str = "admin") -> EvidencePackage:
    """Build the package (see the module docstring) and record its export."""
    application = SignApplication.objects.select_related("em", "company", "contract").filter(pk=application.pk).first()
    if application is None or application.status != SignStatus.SIGNED:
        raise EvidenceUnavailable("该签约申请尚未签署，没有出证包")
    document = SignedDocument.objects.filter(application_id=application.pk).first()
    if document is None:
        raise EvidenceUnavailable("该签约申请没有存档的签署文件（可能为线下签约），无法生成出证包")
    signed = _read(document.file.name)
    contract = _contract_as_read(application)
    report = verify_document(signed)

    rows = application_trail(application)
    by_fingerprint = {s.fingerprint_sha256: s for s in report.signatures}
    records = list(PkiCertificate.objects.filter(fingerprint_sha256__in=list(by_fingerprint)).order_by("kind", "id"))
    issuing, root = chain()
    files: dict[str, bytes] = {"signed.pdf": signed, "contract.pdf": contract}
    certificates = []
    for record in [*records, issuing.record, root.record]:
        name = FILE_NAMES.get(record.kind) or f"certs/tsa-{record.serial[:16].lower()}.crt"
        if name in files:
            continue
        files[name] = bytes(record.der)
        certificates.append(_cert_fact(record, ROLE_LABELS.get(record.kind, record.get_kind_display())))
    files["certs/issuing.crl"] = bytes(crl_current(issuing).der)
    files["certs/root.crl"] = bytes(crl_current(root).der)
    files["audit.json"] = _audit_json(rows)

    employee = application.em
    decision = realname_decision(employee.user_id)
    facts = EvidenceFacts(
        application_id=application.pk,
        generated_at=timezone.now(),
        company_name=application.company.company_name,
        employee_name=employee.real_name,
        id_number_masked=mask_id_number(employee.id_number),
        phone_masked=mask_phone(employee.phone),
        contract_name=application.contract.contract_name if application.contract_id else "",
        terms=approval_terms(application),
        files=[
            ("signed.pdf（签署文件）", hashlib.sha256(signed).hexdigest()),
            ("contract.pdf（阅读的合同）", hashlib.sha256(contract).hexdigest()),
            ("签名图片", document.signature_sha256 or "—"),
        ],
        verification=report.message,
        level=report.level,
        realname=realname_summary(decision),
        intent=[row for row in rows if row.kind in INTENT_KINDS],
        events=rows,
        certificates=certificates,
        timestamps=[
            TimestampFact(
                what=signature.role_label,
                authority=signature.timestamp.authority,
                time=signature.timestamp.time,
                valid=signature.timestamp.valid and signature.timestamp.trusted,
            )
            for signature in report.signatures
            if signature.timestamp is not None
        ],
        root_fingerprint=Held.of(root.record).record.fingerprint_sha256,
        pki_url=settings.SIGNING_PKI_BASE_URL.rstrip("/"),
    )
    files = {"report.pdf": render_report(facts), **files}
    manifest = {
        "application_id": application.pk,
        "generated_at": facts.generated_at.isoformat(),
        "algorithm": "SHA-256",
        "files": {name: hashlib.sha256(data).hexdigest() for name, data in files.items()},
    }
    manifest_bytes = json.dumps(manifest, ensure_ascii=False, indent=2).encode()
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in [*files.items(), ("manifest.json", manifest_bytes)]:
            archive.writestr(name, data)
    package = EvidencePackage(
        application_id=application.pk,
        filename=f"evidence-{application.pk}.zip",
        content=buffer.getvalue(),
        manifest=manifest,
    )
    _record_export(application, package=package, manifest_bytes=manifest_bytes, actor=actor, client=client, via=via)
    return package


@transaction.atomic
def _record_export(application, *, package, manifest_bytes, actor, client, via) -> None:
    digest = hashlib.sha256(manifest_bytes).hexdigest()
    SignEvent.objects.create(
        application_id=application.pk,
        kind=SignEvent.Kind.EVIDENCE,
        actor_staff=actor,
        ip=(client.ip if client else None) or None,
        user_agent=(client.user_agent if client else "")[:512],
        city=((client.city if client else "") or "")[:64],
        note=f"导出出证包（{via}）；manifest SHA-256：{digest}",
        data={"via": via, "manifest_sha256": digest, "zip_sha256": package.sha256},
    )


@dataclass(frozen=True)
class BulkResult:
    packages: list[EvidencePackage]
    refused: list[tuple[int, str]]  # (application id, reason)


def evidence_packages(applications, *, actor=None, client=None, via: str = "admin") -> BulkResult:
    """Many packages; a row that cannot have one is reported, the others are still built."""
    packages, refused = [], []
    for application in applications:
        try:
            packages.append(evidence_package(application, actor=actor, client=client, via=via))
        except EvidenceUnavailable as exc:
            refused.append((application.pk, exc.msg))
    return BulkResult(packages=packages, refused=refused)


def bundle(result: BulkResult) -> bytes:
    """One zip holding each package as ``evidence-<id>.zip`` (the bulk admin action's download)."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for package in result.packages:
            archive.writestr(package.filename, package.content)
        if result.refused:
            lines = "\n".join(f"申请编号 {pk}：{reason}" for pk, reason in result.refused)
            archive.writestr("未导出.txt", lines.encode())
    return buffer.getvalue()
