"""
Signing one application's contract (SPEC §9–§10), from the drawn document to
the sealed B-LTA file: ``sign_contract_document``.

The caller (the sign flow, inside its locked transaction) passes the
personalised document with the worker's signature and the company seal drawn
in their placements, and the facts of the signing. In this order:

1. the company credential and the seal authorisation are checked first
   (409, before any key exists): a company without a usable certificate or an
   authorisation not valid at the signing time cannot seal;
2. the time source and the validation material are fetched (503 when the
   hierarchy or the TSA is not configured);
3. the worker's event certificate is issued (its key made in memory);
4. the certificate page is drawn — with the audit trail *including* the rows
   of this signing, all at ``signing_time`` — and appended, and the document
   information names the application and the contract as read;
5. ``seal_pades`` signs (worker, then employer), timestamps, adds the DSS
   and the document timestamp; the event key is dropped.

It returns the sealed bytes and the audit rows this signing adds (for the
caller to store as ``SignEvent`` rows in the same transaction). It stores
nothing but the event certificate row; if anything fails, the caller's
rollback takes that row with it.
"""

import datetime
import hashlib
import io
import logging
from dataclasses import dataclass, field

from django.core.exceptions import ImproperlyConfigured
from django.core.files.storage import default_storage
from pypdf import PdfReader, PdfWriter

from employees.masking import mask_id_number, mask_phone
from shanqian.errors import Conflict, UpstreamBusy

from ..models import SignedDocument, SignEvent
from ..pki.backends import get_ca_backend
from ..pki.credentials import company_credential, event_credential, event_request
from ..pki.hierarchy import describe
from ..pki.tsa import get_timestamper, tsa_trust_roots
from .certificate import AuditEventRow, CertificateData, format_time, render_certificate, trail_order
from .pades import SealOutcome, seal_pades
from .storage import store_sealed_pdf

logger = logging.getLogger(__name__)

META_APPLICATION_ID = "/ShanqianApplicationId"
META_CONTRACT_SHA256 = "/ShanqianContractSHA256"
META_SIGNATURE_SHA256 = "/ShanqianSignatureSHA256"

PKI_UNAVAILABLE = "电子签名服务暂时不可用，合同尚未签署，请稍后重试（短信验证码仍可使用）"


class ContractFileInvalid(Conflict):
    """The document cannot be signed (corrupt, encrypted, empty, or not the registered file) (409)."""


def document_pages(document_pdf: bytes) -> int:
    """
    The page count of a document fit to sign; ``ContractFileInvalid`` otherwise.
    pypdf's lenient mode rebuilds a truncated file from the objects it finds,
    which would sign a contract with pages missing: a file that lost its end
    marker is refused instead.
    """
    return len(document_reader(document_pdf).pages)


def document_reader(document_pdf: bytes) -> PdfReader:
    """The parsed document, checked as ``document_pages`` says (the signing path parses it once)."""
    if not document_pdf.lstrip()[:5].startswith(b"%PDF-") or b"%%EOF" not in document_pdf[-2048:]:
        raise ContractFileInvalid("合同模板文件损坏，无法签署，请联系人事更换合同模板")
    try:
        reader = PdfReader(io.BytesIO(document_pdf), strict=False)
        encrypted = reader.is_encrypted
        pages = 0
        if not encrypted:
            pages = len(reader.pages)
            for page in reader.pages:
                page.mediabox  # noqa: B018 -- walks the page tree; broken trees fail here, not mid-merge
    # pypdf raises a zoo of types on hostile or truncated files; all of them mean "cannot sign".
    except Exception as exc:
        logger.info("signing: document unreadable (%s)", exc.__class__.__name__)
        raise ContractFileInvalid("合同模板文件损坏，无法签署，请联系人事更换合同模板") from exc
    if encrypted:
        raise ContractFileInvalid("合同模板文件已加密，无法签署，请联系人事更换为未加密的 PDF")
    if pages == 0:
        raise ContractFileInvalid("合同模板文件没有任何页面，无法签署，请联系人事更换合同模板")
    return reader


class SealAuthorizationInvalid(Conflict):
    """The company's seal authorisation does not cover the signing time (409)."""


@dataclass(frozen=True)
class SealAuthorization:
    """The seal authorisation (印章授权) the employer's signature is made under (contracts' model, as values)."""

    id: int
    label: str  # e.g. "印章授权 #3（王授权，2026-01-01 至 2026-12-31）"
    valid_from: datetime.datetime | None = None
    valid_until: datetime.datetime | None = None
    revoked_at: datetime.datetime | None = None

    def refusal(self, at: datetime.datetime) -> str:
        if self.revoked_at is not None and self.revoked_at <= at:
            return "用人单位的印章授权已撤销，无法自动盖章，请联系人事处理"
        if self.valid_from is not None and at < self.valid_from:
            return f"用人单位的印章授权尚未生效（{format_time(self.valid_from)} 起），无法自动盖章，请联系人事处理"
        if self.valid_until is not None and at >= self.valid_until:
            return f"用人单位的印章授权已过期（有效期至 {format_time(self.valid_until)}），无法自动盖章，请联系人事处理"
        return ""


@dataclass(frozen=True)
class SigningFacts:
    """What happened before and at the signing, for the certificate page and the audit trail."""

    signing_time: datetime.datetime  # aware; the certificate page and both /M show it (whole seconds)
    contract_sha256: str  # the personalised document as the worker read it (their VIEWED event)
    signature_image: bytes
    intent_sent_at: datetime.datetime | None = None
    intent_phone: str = ""
    ip: str = ""
    user_agent: str = ""
    city: str = ""
    lng: object = None
    lat: object = None
    realname: str = ""  # summary of the real-name decision
    trail: list[AuditEventRow] = field(default_factory=list)  # the trail so far (application_trail)


@dataclass(frozen=True)
class SignedContract:
    pdf: bytes
    sha256: str
    size: int
    event_certificate: object  # PkiCertificate
    company_certificate: object  # PkiCertificate
    outcome: SealOutcome
    signing_rows: list[AuditEventRow]  # this signing's rows, up to the seal (shown on the certificate page)
    after_rows: list[AuditEventRow]  # the timestamps and the sealing (known only afterwards)


def _row(kind, action, at, *, facts: SigningFacts, actor="员工本人", note="", ip=None, data=None) -> AuditEventRow:
    return AuditEventRow(
        time=at,
        action=action,
        actor=actor,
        ip=facts.ip if ip is None else ip,
        city=facts.city,
        note=note,
        user_agent=facts.user_agent,
        kind=kind,
        data=data or {},
    )


def _merge(reader: PdfReader, certificate_pdf: bytes, *, application, facts: SigningFacts, signature_sha256) -> bytes:
    try:
        writer = PdfWriter(clone_from=reader)
        writer.append(PdfReader(io.BytesIO(certificate_pdf)))
        writer.add_metadata(
            {
                "/Title": f"{application.contract.contract_name}（已签署）"
                if application.contract_id
                else "劳动合同（已签署）",
                "/Author": "闪签云",
                "/Producer": "闪签云电子签约",
                META_APPLICATION_ID: str(application.pk),
                META_CONTRACT_SHA256: facts.contract_sha256,
                META_SIGNATURE_SHA256: signature_sha256,
            }
        )
        out = io.BytesIO()
        writer.write(out)
    # pypdf raises a zoo of types on hostile files; all of them mean "cannot sign this".
    except Exception as exc:
        logger.info("signing: the document could not be merged (%s)", exc.__class__.__name__)
        raise ContractFileInvalid("合同模板文件损坏，无法签署，请联系人事更换合同模板") from exc
    return out.getvalue()


def sign_contract_document(
    *, application, document_pdf: bytes, facts: SigningFacts, authorization: SealAuthorization
) -> SignedContract:
    """See the module docstring. ``application`` comes with ``em``, ``company`` and ``contract`` loaded."""
    # The audit rows keep the instant to the microsecond (so they sort after everything that came
    # before in the same second); the certificate page and both /M show it in whole seconds.
    at = facts.signing_time
    signing_time = at.replace(microsecond=0)
    reader = document_reader(document_pdf)
    pages = len(reader.pages)
    refusal = authorization.refusal(at)
    if refusal:
        raise SealAuthorizationInvalid(refusal)
    employer = company_credential(application.company)
    try:
        backend = get_ca_backend()
        timestamper = get_timestamper()
        material = backend.validation_material()
        trust_roots = tsa_trust_roots()
    except ImproperlyConfigured as exc:
        # Logged for the operator (the message names settings, never a secret); the user gets a 503.
        logger.error("signing: PKI or TSA not usable: %s", exc)
        raise UpstreamBusy(PKI_UNAVAILABLE) from exc

    employee = application.em
    signature_sha256 = hashlib.sha256(facts.signature_image).hexdigest()
    worker = event_credential(
        request=event_request(
            application_id=application.pk,
            real_name=employee.real_name,
            id_number=employee.id_number,
            realname_method=facts.realname,
            intent_phone_masked=mask_phone(facts.intent_phone or employee.phone),
            intent_accepted_at=at,
        )
    )
    try:
        event_record, company_record = worker.record, employer.record
        issuer = describe(employer.held.certificate.issuer)
        tsa_authority = _tsa_name(timestamper)
        signing_rows = [
            _row(
                SignEvent.Kind.INTENT_SENT,
                "发送签署验证码",
                facts.intent_sent_at or at,
                facts=facts,
                actor="系统",
                ip="",
                note=f"发送至 {mask_phone(facts.intent_phone or employee.phone)}",
                data={"phone": mask_phone(facts.intent_phone or employee.phone)},
            ),
            _row(
                SignEvent.Kind.INTENT_ACCEPTED,
                "签署验证码验证通过",
                at,
                facts=facts,
                note="劳动者以短信验证码确认签署意愿",
            ),
            _row(
                SignEvent.Kind.SIGNATURE,
                "提交手写签名",
                at,
                facts=facts,
                note=f"签名图片 SHA-256：{signature_sha256}",
                data={"signature_sha256": signature_sha256},
            ),
            _row(
                SignEvent.Kind.EVENT_CERT,
                "签发事件证书",
                at,
                facts=facts,
                actor="系统",
                ip="",
                note=f"序列号 {event_record.serial}（有效期至 {format_time(event_record.not_after)}）",
                data={"serial": event_record.serial, "fingerprint_sha256": event_record.fingerprint_sha256},
            ),
            _row(
                SignEvent.Kind.SEAL_APPLIED,
                "加盖单位印章",
                at,
                facts=facts,
                actor="系统",
                ip="",
                note=f"依据{authorization.label}；单位证书序列号 {company_record.serial}",
                data={
                    "authorization_id": authorization.id,
                    "serial": company_record.serial,
                    "fingerprint_sha256": company_record.fingerprint_sha256,
                },
            ),
        ]
        data = CertificateData(
            application_id=application.pk,
            employee_name=employee.real_name,
            id_number_masked=mask_id_number(employee.id_number),
            phone_masked=mask_phone(employee.phone),
            company_name=application.company.company_name,
            contract_name=application.contract.contract_name if application.contract_id else "",
            contract_body=application.contract.contract_body if application.contract_id else "",
            position=application.work_pos,
            entry_date=application.entry_date,
            salary=application.salary,
            sign_years=application.contract.sign_year if application.contract_id else 0,
            signed_at=signing_time,
            ip=facts.ip,
            lng=facts.lng,
            lat=facts.lat,
            city=facts.city,
            signature_image=facts.signature_image,
            events=trail_order([*facts.trail, *signing_rows]),
            contract_sha256=facts.contract_sha256,
            signature_sha256=signature_sha256,
            realname=facts.realname,
            event_certificate_serial=event_record.serial,
            event_certificate_subject=event_record.subject,
            company_certificate_serial=company_record.serial,
            company_certificate_subject=company_record.subject,
            certificate_issuer=issuer,
            seal_authorization=authorization.label,
            tsa_authority=tsa_authority,
        )
        merged = _merge(
            reader,
            render_certificate(data, contract_pages=pages),
            application=application,
            facts=facts,
            signature_sha256=signature_sha256,
        )
        statuses = [backend.signer_status(event_record), backend.signer_status(company_record)]
        outcome = seal_pades(
            merged,
            signer_statuses=statuses,
            worker=worker,
            employer=employer,
            signing_time=signing_time,
            timestamper=timestamper,
            material=material,
            worker_reason="劳动者签署劳动合同",
            employer_reason=f"用人单位盖章（{authorization.label}）",
            location=facts.city,
            tsa_trust_roots=trust_roots,
        )
    finally:
        worker.drop()
    after_rows = [
        _row(
            SignEvent.Kind.TIMESTAMP,
            "加盖可信时间戳",
            record.time,
            facts=facts,
            actor="系统",
            ip="",
            note=f"{_field_label(record.field)}：{record.authority}，{format_time(record.time, with_zone=True)}",
            data={
                "field": record.field,
                "authority": record.authority_subject,
                "time": record.time.isoformat(),
                "serial": str(record.serial),
                "policy": record.policy,
            },
        )
        for record in outcome.timestamps
    ]
    sealed_at = max([at, *(r.time for r in outcome.timestamps)])
    after_rows.append(
        _row(
            SignEvent.Kind.SEALED,
            "签署文件封存",
            sealed_at,
            facts=facts,
            actor="系统",
            ip="",
            note=f"签署文件 SHA-256：{outcome.sha256}（{outcome.level}）",
            data={"sha256": outcome.sha256, "level": outcome.level, "size": len(outcome.pdf)},
        )
    )
    return SignedContract(
        pdf=outcome.pdf,
        sha256=outcome.sha256,
        size=len(outcome.pdf),
        event_certificate=event_record,
        company_certificate=company_record,
        outcome=outcome,
        signing_rows=signing_rows,
        after_rows=after_rows,
    )


FIELD_LABELS = {"WorkerSignature": "劳动者签名", "EmployerSignature": "用人单位盖章", "DocumentTimestamp": "文档时间戳"}


def _field_label(name: str) -> str:
    return FIELD_LABELS.get(name, name)


def _tsa_name(timestamper) -> str:
    if timestamper is None:
        return ""
    tsa = getattr(timestamper, "tsa", None)
    if tsa is not None:
        return tsa.record.common_name
    return getattr(timestamper, "url", "") or ""


def store_rows(application, rows: list[AuditEventRow]) -> list[SignEvent]:
    """The signing's rows as ``SignEvent`` rows, each with the time it happened (one insert, one update per time)."""
    events = SignEvent.objects.bulk_create(
        [
            SignEvent(
                application_id=application.pk,
                kind=row.kind,
                # The worker's own acts (the code accepted, the signature submitted) name them as actor.
                actor_user_id=application.em.user_id if row.actor == "员工本人" else None,
                ip=row.ip or None,
                user_agent=row.user_agent[:512],
                city=row.city[:64],
                note=row.note[:512],
                data=row.data,
                document_sha256=row.data.get("sha256", "") if row.kind == SignEvent.Kind.SEALED else "",
            )
            for row in rows
        ]
    )
    # auto_now_add stamps "now"; the trail keeps when each fact happened (the code was sent earlier).
    by_time: dict[datetime.datetime, list[int]] = {}
    for event, row in zip(events, rows, strict=True):
        by_time.setdefault(row.time, []).append(event.pk)
    for at, ids in by_time.items():
        SignEvent.objects.filter(pk__in=ids).update(created_at=at)
    return events


def seal_and_archive(
    *,
    application,
    document_pdf: bytes,
    facts: SigningFacts,
    authorization: SealAuthorization,
    signature_upload=None,
    on_stored=None,
):
    """
    ``sign_contract_document``, then store the sealed file privately and write
    its ``SignedDocument`` and this signing's audit rows. Meant for the sign
    flow's locked transaction: on any error the caller rolls back, and the
    stored file is deleted here (and ``on_stored(name)`` lets the caller delete
    it when its transaction fails later) so no orphan is left.
    """
    signed = sign_contract_document(
        application=application, document_pdf=document_pdf, facts=facts, authorization=authorization
    )
    stored = store_sealed_pdf(signed.pdf)
    if on_stored is not None:
        # The caller deletes the file if its transaction rolls back after this returns.
        on_stored(stored.name)
    try:
        document = SignedDocument.objects.create(
            application=application,
            file=stored.name,
            sha256=stored.sha256,
            size=stored.size,
            contract_sha256=facts.contract_sha256,
            signature=signature_upload,
            signature_sha256=hashlib.sha256(facts.signature_image).hexdigest(),
        )
        store_rows(application, [*signed.signing_rows, *signed.after_rows])
    except BaseException:
        default_storage.delete(stored.name)
        raise
    return document, signed
