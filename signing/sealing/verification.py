"""
Verification of a signed contract (SPEC §10): ``verify_document(pdf)``.

The report answers, for any bytes, without raising on bad input:

* **every signature** — signer, issuer, serial, role (worker / employer /
  document timestamp), the time by its RFC 3161 token and the token's
  authority, what it covers (its revision of how many, the byte ranges),
  whether it is intact and trusted, its PAdES level (B-B, B-T, B-LT, B-LTA),
  and the revocation state of its certificate as our CA knows it now,
  relative to the signature's timestamp;
* **whether the file is ours and unaltered** — every signature chains to the
  project's root (the only trust anchor, plus ``SIGNING_TSA_TRUST_ROOTS`` for
  an external TSA's tokens), and the last signature covers the whole file:
  *any* revision appended after it — a page, a changed ``/Info`` — refuses the
  file, whatever a lenient validator thinks of it;
* **for which application** — read from the document information of the
  revision the worker signed, never from a later one, and checked against the
  application the CA wrote into the event certificate.

The PAdES level is established with pyHanko's AdES engine
(``ades_lta_validation``): validation with the project root as the only
anchor and revocation data taken *only* from the document (no fetching, no
local CRLs) — passing proves the DSS carries it (B-LT); a document timestamp
over the DSS makes it B-LTA.

``VerificationReport.as_dict()`` is the JSON form the back office shows.
"""

import asyncio
import datetime
import hashlib
import io
import logging
import re
from dataclasses import asdict, dataclass, field

from asn1crypto import crl as asn1_crl
from asn1crypto import parser as asn1_parser
from asn1crypto import x509 as asn1_x509
from django.core.exceptions import ImproperlyConfigured
from django.db import DatabaseError
from pyhanko.pdf_utils.reader import PdfFileReader
from pyhanko.sign.ades.report import AdESPassed
from pyhanko.sign.validation import async_validate_pdf_timestamp
from pyhanko.sign.validation.ades import ades_lta_validation
from pyhanko.sign.validation.policy_decl import (
    LocalKnowledge,
    PdfSignatureValidationSpec,
    RevinfoOnlineFetchingRule,
    RevocationInfoGatheringSpec,
    SignatureValidationSpec,
)
from pyhanko.sign.validation.status import SignatureCoverageLevel
from pyhanko_certvalidator import ValidationContext
from pyhanko_certvalidator.context import CertValidationPolicySpec
from pyhanko_certvalidator.policy_decl import REQUIRE_REVINFO, CertRevTrustPolicy
from pyhanko_certvalidator.registry import SimpleTrustManager
from pyhanko_certvalidator.revinfo.archival import CRLContainer

from ..pki.crl import crl_current
from ..pki.hierarchy import Held, describe_asn1
from ..pki.models import CA_KINDS, CertificateKind, PkiCertificate
from ..pki.tsa import tsa_trust_roots
from .certificate import SHANGHAI, format_time
from .verify import verify_sealed_pdf

logger = logging.getLogger(__name__)

META_APPLICATION_ID = "/ShanqianApplicationId"
META_CONTRACT_SHA256 = "/ShanqianContractSHA256"
# The proof of ending (signing.ledger.proof) is signed by the employer alone and names itself.
META_DOCUMENT_KIND = "/ShanqianDocumentKind"
PROOF_KIND = "proof"
EVENT_APPLICATION_LABEL = re.compile(r"闪签云签约申请 (\d{1,18})$")

ROLE_LABELS = {"worker": "劳动者签名", "employer": "用人单位盖章", "document_timestamp": "文档时间戳", "": "其他签名"}
COVERAGE_LABELS = {
    SignatureCoverageLevel.ENTIRE_FILE: "整个文件",
    SignatureCoverageLevel.ENTIRE_REVISION: "签名时的修订版本（其后另有修订）",
    SignatureCoverageLevel.CONTIGUOUS_BLOCK_FROM_START: "文件开头的一部分",
    SignatureCoverageLevel.UNCLEAR: "不明",
}


@dataclass(frozen=True)
class TimestampInfo:
    authority: str
    authority_subject: str
    time: datetime.datetime | None
    valid: bool
    trusted: bool

    @property
    def time_display(self) -> str:
        return format_time(self.time, with_zone=True) if self.time else ""


@dataclass(frozen=True)
class SignatureReport:
    field: str
    role: str
    signer: str
    signer_subject: str
    issuer: str
    serial: str
    fingerprint_sha256: str
    claimed_time: datetime.datetime | None  # /M
    timestamp: TimestampInfo | None
    revision: int  # 1-based
    revisions: int
    byte_range: list[int]
    coverage: str
    covers_whole_file: bool
    intact: bool
    trusted: bool  # chains to our root, valid at its proven time, revocation data in the document
    modification: str
    level: str
    revoked_at: datetime.datetime | None = None
    revocation: str = ""  # the sentence about it
    problems: list[str] = field(default_factory=list)

    @property
    def role_label(self) -> str:
        return ROLE_LABELS.get(self.role, ROLE_LABELS[""])

    @property
    def ok(self) -> bool:
        return self.intact and self.trusted and not self.problems


@dataclass(frozen=True)
class VerificationReport:
    sha256: str
    is_ours: bool
    intact: bool
    message: str
    signatures: list[SignatureReport] = field(default_factory=list)
    application_id: int | None = None
    document_kind: str = "contract"  # or "proof": a proof of ending, signed by the employer alone
    contract_sha256: str = ""
    revisions: int = 0
    problems: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.is_ours and self.intact and not self.problems and all(s.ok for s in self.signatures)

    @property
    def worker(self) -> SignatureReport | None:
        return next((s for s in self.signatures if s.role == "worker"), None)

    @property
    def signed_at(self) -> datetime.datetime | None:
        """The worker's signature time, by its timestamp when there is one."""
        worker = self.worker
        if worker is None:
            return None
        return worker.timestamp.time if worker.timestamp and worker.timestamp.time else worker.claimed_time

    @property
    def signed_at_display(self) -> str:
        return format_time(self.signed_at, with_zone=True) if self.signed_at else ""

    @property
    def signer_subject(self) -> str:
        return self.worker.signer_subject if self.worker else ""

    @property
    def level(self) -> str:
        """The weakest level among the signatures (the document's level)."""
        levels = [s.level for s in self.signatures if s.role in ("worker", "employer")]
        order = ["无效", "B-B", "B-T", "B-LT", "B-LTA"]
        return min(levels, key=lambda lv: order.index(lv) if lv in order else 0) if levels else ""

    def as_dict(self) -> dict:
        def plain(value):
            if isinstance(value, datetime.datetime):
                return value.astimezone(SHANGHAI).isoformat()
            if isinstance(value, dict):
                return {k: plain(v) for k, v in value.items()}
            if isinstance(value, list):
                return [plain(v) for v in value]
            return value

        data = plain(asdict(self))
        data["ok"] = self.ok
        data["level"] = self.level
        for sig, raw in zip(data["signatures"], self.signatures, strict=True):
            sig["role_label"] = raw.role_label
            sig["ok"] = raw.ok
        return data


def _unreadable(sha256: str, message: str) -> VerificationReport:
    return VerificationReport(sha256=sha256, is_ours=False, intact=False, message=message)


def _contents_canonical(pdf: bytes, signature) -> bool:
    """
    The ``/Contents`` hole is the one stretch a signature cannot cover; its zero
    padding (or a hex digit's case) could change without touching the CMS blob.
    Pin it: exactly the DER blob in hex, one letter case, zeros after.
    """
    try:
        _, signed_until, resumes_at, _ = (int(x) for x in signature.byte_range)
        raw = signature.pkcs7_content
        _, _, _, header, content, _ = asn1_parser.parse(raw, strict=False)
    except Exception:
        return False
    der = len(header) + len(content)
    padding = b"0" * (2 * (len(raw) - der))
    hole = pdf[signed_until:resumes_at]
    return hole in {
        b"<" + raw[:der].hex().upper().encode() + padding + b">",
        b"<" + raw[:der].hex().encode() + padding + b">",
    }


def _info_value(resolver, key: str) -> str:
    try:
        info = resolver.trailer_view.get("/Info")
        value = info.get_object().get(key) if info is not None else None
    except Exception:
        return ""
    return str(value) if value is not None else ""


def _application_id(raw: str) -> int | None:
    return int(raw) if raw.isdigit() and len(raw) < 19 else None


def _event_application_id(cert: asn1_x509.Certificate) -> int | None:
    units = cert.subject.native.get("organizational_unit_name") or []
    for unit in [units] if isinstance(units, str) else units:
        match = EVENT_APPLICATION_LABEL.match(str(unit))
        if match:
            return int(match.group(1))
    return None


def _common_name(name) -> str:
    return str(name.native.get("common_name", "")) if name is not None else ""


def _token_info(status) -> TimestampInfo | None:
    if status is None:
        return None
    cert = status.signing_cert
    return TimestampInfo(
        authority=_common_name(cert.subject) or cert.subject.human_friendly,
        authority_subject=describe_asn1(cert.subject),
        time=status.timestamp,
        valid=bool(status.intact and status.valid),
        trusted=bool(status.trusted),
    )


def _has_signing_certificate_v2(signature) -> bool:
    try:
        return any(
            attr["type"].native in ("signing_certificate_v2", "signing_certificate")
            for attr in signature.signer_info["signed_attrs"]
        )
    except Exception:
        return False


def _has_signature_timestamp(signature) -> bool:
    try:
        return any(
            attr["type"].native == "signature_time_stamp_token" for attr in signature.signer_info["unsigned_attrs"]
        )
    except Exception:
        return False


def _current_crls() -> list:
    """
    The current CRLs of our CAs that certify TSAs, as an online validator
    would fetch them from /pki/*.crl: the outermost document timestamp is
    judged *now*, and the CRLs
    in the DSS stop being current after SIGNING_CRL_VALIDITY_DAYS. Everything
    older is judged with what the DSS proved at the document timestamp's time.
    """
    lists = []
    # Only the CAs that certify time-stamping authorities: a current CRL of the signers' CA would
    # stop the time slide at "now", where the worker's event certificate has long expired.
    tsa_issuers = PkiCertificate.objects.filter(kind=CertificateKind.TSA).values("issuer_id")
    for record in PkiCertificate.objects.filter(kind__in=CA_KINDS, revoked_at__isnull=True, pk__in=tsa_issuers):
        try:
            lists.append(CRLContainer(asn1_crl.CertificateList.load(bytes(crl_current(Held.of(record)).der))))
        except Exception as exc:  # a CA whose key is unavailable here: judge with the DSS alone
            logger.info("verification: no current CRL for %s (%s)", record.serial, exc.__class__.__name__)
    return lists


def _dss_covers(reader, signature) -> bool:
    """PAdES B-LT: the DSS holds a CRL from the issuer of every certificate the signature and its timestamp rely on."""
    try:
        dss = reader.root["/DSS"]
        crl_issuers = set()
        for ref in dss.get("/CRLs", []):
            crl_issuers.add(asn1_crl.CertificateList.load(ref.get_object().data).issuer.dump())
        certs = [asn1_x509.Certificate.load(ref.get_object().data) for ref in dss.get("/Certs", [])]
    except Exception:
        return False
    by_subject = {c.subject.dump(): c for c in certs}

    def covered(cert) -> bool:
        seen = 0
        while cert is not None and not cert.self_signed and seen < 5:
            if cert.issuer.dump() not in crl_issuers:
                return False
            cert = by_subject.get(cert.issuer.dump())
            seen += 1
        return cert is not None

    leaves = [signature.signer_cert]
    for attr in signature.signer_info["unsigned_attrs"] or []:
        if attr["type"].native == "signature_time_stamp_token":
            token = attr["values"][0]["content"]
            sid = token["signer_infos"][0]["sid"].chosen
            leaves += [
                c.chosen
                for c in token["certificates"]
                if c.chosen.serial_number == sid["serial_number"].native and c.chosen.issuer == sid["issuer"]
            ]
    return all(covered(leaf) for leaf in leaves)


def _spec(roots, tsa_roots, crls=()) -> PdfSignatureValidationSpec:
    policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=roots),
        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
    )
    ts_policy = CertValidationPolicySpec(
        trust_manager=SimpleTrustManager.build(trust_roots=[*roots, *tsa_roots]),
        revinfo_policy=CertRevTrustPolicy(REQUIRE_REVINFO),
    )
    return PdfSignatureValidationSpec(
        SignatureValidationSpec(
            cert_validation_policy=policy,
            ts_cert_validation_policy=ts_policy,
            # No network: the document's DSS, plus our own current CRLs (see ``_current_crls``).
            revinfo_gathering_policy=RevocationInfoGatheringSpec(
                online_fetching_rule=RevinfoOnlineFetchingRule.LOCAL_ONLY
            ),
            local_knowledge=LocalKnowledge(known_crls=list(crls)),
        )
    )


def _revocation_sentence(revoked_at, reference, reason_label) -> str:
    if revoked_at is None:
        return "未吊销"
    when = format_time(revoked_at, with_zone=True)
    reason = f"（原因：{reason_label}）" if reason_label else ""
    if reference is None:
        return f"证书已于 {when} 吊销{reason}，签名没有可信时间，无法证明签署早于吊销"
    ref = format_time(reference, with_zone=True)
    if revoked_at > reference:
        return f"证书已于 {when} 吊销{reason}，晚于签名时间戳 {ref}：签署时证书有效，签名仍然有效"
    return f"证书已于 {when} 吊销{reason}，早于签名时间戳 {ref}：签署时证书已吊销，签名无效"


def _level(signature, status, lta, intact: bool, dss_complete: bool) -> str:
    if not intact:
        return "无效"
    if str(signature.sig_object.get("/SubFilter", "")) != "/ETSI.CAdES.detached" or not _has_signing_certificate_v2(
        signature
    ):
        return "非 PAdES"
    level = "B-B"
    ts = status.timestamp_validity if status is not None else None
    if ts is not None and ts.intact and ts.valid and ts.trusted:
        level = "B-T"
    if level == "B-T" and dss_complete and lta is not None and lta.ades_subindic == AdESPassed.OK:
        level = "B-LT"
        if lta.oldest_evidence_record_timestamp is not None:
            level = "B-LTA"
    return level


def verify_document(pdf: bytes) -> VerificationReport:
    """See the module docstring. Raises ``ImproperlyConfigured`` only when the hierarchy itself is missing."""
    sha256 = hashlib.sha256(pdf).hexdigest()
    try:
        reader = PdfFileReader(io.BytesIO(pdf), strict=False)
        signatures = list(reader.embedded_signatures)
        revisions = reader.xrefs.total_revisions
    # A tampered or foreign file may break the parser anywhere; that is an answer, not an error.
    except Exception as exc:
        logger.info("verification: unreadable PDF (%s)", exc.__class__.__name__)
        return _unreadable(sha256, "无法识别：该文件不是有效的 PDF，或已损坏。")
    if not signatures:
        return _unreadable(sha256, "该文件不含数字签名，不是闪签云签署的文件。")

    roots = [Held.of(r).asn1 for r in PkiCertificate.objects.filter(kind=CertificateKind.ROOT)]
    if not roots:
        raise ImproperlyConfigured("证书体系尚未初始化，无法核验：请先运行 manage.py pki_init。")
    tsa_roots = tsa_trust_roots()
    spec = _spec(roots, tsa_roots, _current_crls())

    fingerprints = {}
    for signature in signatures:
        try:
            fingerprints[signature.field_name] = hashlib.sha256(signature.signer_cert.dump()).hexdigest()
        except Exception:
            fingerprints[signature.field_name] = ""
    known = {
        r.fingerprint_sha256: r
        for r in PkiCertificate.objects.filter(fingerprint_sha256__in=[f for f in fingerprints.values() if f])
    }
    ts_context = ValidationContext(trust_roots=[*roots, *tsa_roots], allow_fetching=False, revocation_mode="soft-fail")

    reports: list[SignatureReport] = []
    last_end = max(int(s.byte_range[2]) + int(s.byte_range[3]) for s in signatures)
    for signature in signatures:
        reports.append(_verify_one(reader, signature, spec, ts_context, known, fingerprints, revisions))

    problems: list[str] = []
    last = max(signatures, key=lambda s: int(s.byte_range[2]) + int(s.byte_range[3]))
    tail_ok = last_end == len(pdf) and _contents_canonical(pdf, last)
    if not tail_ok:
        problems.append("文件在最后一个签名之后被追加或改动了内容（未签名的修订），不能作为有效的签署文件。")

    worker_sig = next((s for s, r in zip(signatures, reports, strict=True) if r.role == "worker"), None)
    employer = next((r for r in reports if r.role == "employer"), None)
    application_id = None
    contract_sha256 = ""
    if worker_sig is not None:
        signed = reader.get_historical_resolver(worker_sig.signed_revision)
        application_id = _application_id(_info_value(signed, META_APPLICATION_ID))
        contract_sha256 = _info_value(signed, META_CONTRACT_SHA256)
        certified = _event_application_id(worker_sig.signer_cert)
        if certified is not None and application_id != certified:
            problems.append(
                f"文件中签署版本记录的申请编号（{application_id or '无'}）"
                f"与劳动者事件证书中的申请编号（{certified}）不一致。"
            )
            application_id = certified
    # A document only the employer signs (the proof of ending, art. 50) says so in its signed revision.
    document_kind = ""
    employer_sig = next((s for s, r in zip(signatures, reports, strict=True) if r.role == "employer"), None)
    if worker_sig is None and employer_sig is not None:
        signed = reader.get_historical_resolver(employer_sig.signed_revision)
        if _info_value(signed, META_DOCUMENT_KIND) == PROOF_KIND:
            document_kind = PROOF_KIND
            application_id = _application_id(_info_value(signed, META_APPLICATION_ID))
    is_ours = (
        (worker_sig is not None or document_kind == PROOF_KIND)
        and employer is not None
        and all(fingerprints.get(r.field) in known for r in reports if r.role in ("worker", "employer"))
    )
    if worker_sig is None and document_kind != PROOF_KIND:
        problems.append("文件中没有劳动者的事件证书签名。")
    elif employer is None:
        problems.append("文件中没有用人单位的签名。")
    intact = all(r.intact for r in reports) and tail_ok
    failed = [r for r in reports if not r.ok]
    label = f"申请编号 {application_id}" if application_id is not None else "未记录申请编号"
    if document_kind == PROOF_KIND and is_ours and intact and not failed and not problems:
        message = (
            f"验证通过：该文件是闪签云出具的解除（终止）劳动合同证明书（{label}），用人单位的签名有效"
            f"（PAdES {_doc_level(reports)}），签署后未被改动。"
        )
    elif is_ours and intact and not failed and not problems:
        message = (
            f"验证通过：该文件由闪签云签署（{label}），劳动者与用人单位的签名均有效（PAdES {_doc_level(reports)}），"
            "签署后未被改动。"
        )
    elif is_ours:
        message = (
            f"验证失败：该文件带有闪签云的签名（{label}），但签署后已被改动、签名无效或证书已吊销，"
            "不能作为有效的签署文件。"
        )
    else:
        message = "验证失败：该文件的签名不是由闪签云的证书体系签发的证书所签，不是本系统签署的文件。"
    return VerificationReport(
        sha256=sha256,
        is_ours=is_ours,
        intact=intact,
        message=message,
        signatures=reports,
        application_id=application_id,
        document_kind=document_kind or "contract",
        contract_sha256=contract_sha256,
        revisions=revisions,
        problems=problems,
    )


def _doc_level(reports) -> str:
    order = ["无效", "非 PAdES", "B-B", "B-T", "B-LT", "B-LTA"]
    levels = [r.level for r in reports if r.role in ("worker", "employer")]
    return min(levels, key=order.index) if levels else ""


def _verify_one(reader, signature, spec, ts_context, known, fingerprints, revisions) -> SignatureReport:
    field_name = signature.field_name
    is_timestamp = signature.sig_object_type == "/DocTimeStamp"
    record = known.get(fingerprints.get(field_name, ""))
    role = "document_timestamp" if is_timestamp else ""
    if record is not None and record.kind == CertificateKind.EVENT:
        role = "worker"
    elif record is not None and record.kind == CertificateKind.COMPANY:
        role = "employer"
    problems: list[str] = []
    try:
        cert = signature.signer_cert
        signer, signer_subject = _common_name(cert.subject), describe_asn1(cert.subject)
        issuer, serial = describe_asn1(cert.issuer), format(cert.serial_number, "X")
    except Exception:
        signer = signer_subject = issuer = serial = ""
        problems.append("签名数据无法解析。")
    byte_range = [int(x) for x in signature.byte_range]
    revision = signature.signed_revision + 1
    timestamp = None
    status = lta = None
    try:
        if is_timestamp:
            status = asyncio.run(_validate_timestamp(signature, ts_context))
            timestamp = _token_info(status)
            trusted = bool(status.trusted)
        else:
            lta = asyncio.run(ades_lta_validation(signature, spec))
            status = lta.api_status
            timestamp = _token_info(status.timestamp_validity if status is not None else None)
            trusted = lta.ades_subindic == AdESPassed.OK
            if not trusted:
                problems.append(f"签名未通过长期验证（{lta.ades_subindic}）。")
    except Exception as exc:
        logger.info("verification: %s failed to validate (%s)", field_name, exc.__class__.__name__)
        trusted = False
        problems.append("签名无法验证。")
    intact = bool(status is not None and status.intact and status.valid)
    if status is not None and not intact:
        problems.append("签名所覆盖的内容已被改动，或签名值无效。")
    coverage = status.coverage if status is not None else None
    if status is not None and getattr(status, "docmdp_ok", True) is False:
        problems.append("签名之后的修订超出了文档修改权限（DocMDP）允许的范围。")
    modification = ""
    if status is not None and status.modification_level is not None:
        modification = status.modification_level.name
    claimed = signature.self_reported_timestamp
    revoked_at = record.revoked_at if record is not None else None
    reference = timestamp.time if timestamp and timestamp.valid else None
    revocation = ""
    if not is_timestamp:
        revocation = _revocation_sentence(
            revoked_at, reference, record.get_revocation_reason_display() if record and revoked_at else ""
        )
        if revoked_at is not None and (reference is None or revoked_at <= reference):
            problems.append(revocation)
    return SignatureReport(
        field=field_name,
        role=role,
        signer=signer,
        signer_subject=signer_subject,
        issuer=issuer,
        serial=serial,
        fingerprint_sha256=fingerprints.get(field_name, ""),
        claimed_time=claimed.astimezone(SHANGHAI) if claimed else None,
        timestamp=timestamp,
        revision=revision,
        revisions=revisions,
        byte_range=byte_range,
        coverage=COVERAGE_LABELS.get(coverage, "不明"),
        covers_whole_file=coverage == SignatureCoverageLevel.ENTIRE_FILE,
        intact=intact,
        trusted=trusted,
        modification=modification,
        level="文档时间戳" if is_timestamp else _level(signature, status, lta, intact, _dss_covers(reader, signature)),
        revoked_at=revoked_at,
        revocation=revocation,
        problems=problems,
    )


async def _validate_timestamp(signature, context):
    return await async_validate_pdf_timestamp(signature, validation_context=context)


def verify_any(pdf: bytes):
    """
    The report for a file of either generation: ``verify_document`` for files
    signed through the PKI (two signatures and trusted time), the legacy
    ``verify_sealed_pdf`` for files sealed before it by the single platform
    certificate — so files already issued keep verifying.
    """
    try:
        report = verify_document(pdf)
    except (ImproperlyConfigured, DatabaseError):  # no PKI (or no tables) here: only legacy seals can exist
        return verify_sealed_pdf(pdf)
    if report.is_ours or not report.signatures:
        return report
    legacy = verify_sealed_pdf(pdf)
    return legacy if legacy.is_ours else report
