"""
Two signatures and trusted time over one PDF (SPEC §10): PAdES B-LTA.

``seal_pades(pdf, worker=..., employer=..., ...)`` takes the finished
document (the personalised contract with its marks drawn and the certificate
page appended) and returns it with four incremental revisions on top:

1. the worker's signature — a *certification* signature (DocMDP P=2: form
   filling and signing allowed), made with the event credential, with an RFC
   3161 signature timestamp; the event key is dropped right after, whatever
   happens;
2. the employer's approval signature with the company credential, with its
   own signature timestamp — P=2 lets it follow the first without breaking it;
3. + 4. in one revision: a DSS holding every certificate (event, company, TSA,
   issuing CA, root), the current CRLs and the signers' OCSP
   responses made at signing (what lets a validator years later place the
   worker's signature inside its certificate's minutes), and a document timestamp
   (``/DocTimeStamp``) over all of it — which PAdES also allows after P=2.

Both signatures carry ``signing_time`` as ``/M`` (whole seconds): the time
the certificate page prints. Nothing here touches the database except what
the CA backend and the TSA look up; the caller stores the result.

Any failure of the time-stamping authority raises ``TimestampUnavailable``
(503); a document pyHanko cannot sign raises ``SealingFailed``.
"""

import asyncio
import datetime
import hashlib
import io
import logging
from dataclasses import dataclass, field

from asn1crypto import cms
from asn1crypto import crl as asn1_crl
from asn1crypto import ocsp as asn1_ocsp
from asn1crypto import x509 as asn1_x509
from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter
from pyhanko.sign import fields, signers
from pyhanko.sign.general import SigningError
from pyhanko.sign.signers import pdf_signer
from pyhanko.sign.timestamps import TimestampRequestError
from pyhanko.sign.timestamps.api import TimeStamper
from pyhanko.sign.validation import DocumentSecurityStore
from pyhanko_certvalidator import CertificateValidator, ValidationContext

from shanqian.errors import Conflict

from ..pki.backends import ValidationMaterial
from ..pki.credentials import SigningCredential
from ..pki.tsa import TimestampUnavailable

logger = logging.getLogger(__name__)

WORKER_FIELD = "WorkerSignature"
EMPLOYER_FIELD = "EmployerSignature"
TIMESTAMP_FIELD = "DocumentTimestamp"
# /Contents holes, in hex digits (twice the DER size). The development TSA's tokens are small
# and fixed in size; an external TSA may embed a longer chain.
RESERVE_LOCAL = 12 * 1024
RESERVE_EXTERNAL = 48 * 1024
# With the development TSA the holes are sized from what goes in them (certificates, a token of
# ~1.4 KB, attributes): every byte of a hole is written, hashed and parsed again by the next step.
LOCAL_TOKEN_BYTES = 2048
CMS_OVERHEAD_BYTES = 1024
TSA_UNAVAILABLE = "可信时间戳服务暂时不可用，合同尚未签署，请稍后重试（短信验证码仍可使用）"


class SealingFailed(Conflict):
    """The document could not be signed (409); nothing was produced."""


@dataclass(frozen=True)
class TimestampRecord:
    """What a timestamp token says: who (the TSA certificate's subject) and when."""

    field: str
    authority: str
    authority_subject: str
    time: datetime.datetime
    serial: int
    policy: str


@dataclass(frozen=True)
class SealOutcome:
    pdf: bytes
    sha256: str
    timestamps: list[TimestampRecord] = field(default_factory=list)
    level: str = ""  # what was built: B-LTA, or B-LT without a TSA


def _token_record(field_name: str, token: cms.ContentInfo) -> TimestampRecord:
    signed_data = token["content"]
    info = signed_data["encap_content_info"]["content"].parsed
    sid = signed_data["signer_infos"][0]["sid"].chosen
    tsa_cert = next(
        (
            c.chosen
            for c in signed_data["certificates"]
            if isinstance(sid, cms.IssuerAndSerialNumber)
            and c.chosen.serial_number == sid["serial_number"].native
            and c.chosen.issuer == sid["issuer"]
        ),
        None,
    )
    subject = tsa_cert.subject if tsa_cert is not None else None
    common_name = subject.native.get("common_name", "") if subject is not None else ""
    return TimestampRecord(
        field=field_name,
        authority=common_name or (subject.human_friendly if subject is not None else ""),
        authority_subject=subject.human_friendly if subject is not None else "",
        time=info["gen_time"].native,
        serial=info["serial_number"].native,
        policy=info["policy"].dotted,
    )


class _Recorder(TimeStamper):
    """
    Passes every request to the real timestamper and keeps the tokens, in
    order, so the outcome can name them without re-parsing the signed file.
    """

    def __init__(self, inner: TimeStamper):
        super().__init__(include_nonce=inner.include_nonce)
        self.inner = inner
        self.tokens: list[cms.ContentInfo] = []

    async def async_timestamp(self, message_digest, md_algorithm) -> cms.ContentInfo:
        token = await self.inner.async_timestamp(message_digest, md_algorithm)
        self.tokens.append(token)
        return token


def _tsa_certificates(token: cms.ContentInfo | None) -> list[asn1_x509.Certificate]:
    if token is None:
        return []
    return [c.chosen for c in token["content"]["certificates"] if c.name == "certificate"]


async def _sign(
    pdf: bytes,
    *,
    credential: SigningCredential,
    field_name: str,
    certify: bool,
    reason: str,
    location: str,
    signing_time: datetime.datetime,
    timestamper,
    reserve: int,
) -> bytes:
    writer = IncrementalPdfFileWriter(io.BytesIO(pdf))
    meta = signers.PdfSignatureMetadata(
        field_name=field_name,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        certify=certify,
        # P=2: later form filling and signing are allowed; DSS and document timestamps always are.
        docmdp_permissions=fields.MDPPerm.FILL_FORMS,
        reason=reason,
        location=location or None,
    )
    session = signers.PdfSigner(meta, signer=credential.signer, timestamper=timestamper).init_signing_session(writer)
    # pyHanko stamps /M with its own clock; the certificate page already printed this instant.
    session.system_time = signing_time
    tbs = session.prepare_tbs_document(validation_info=None, bytes_reserved=reserve)
    digest, output = tbs.digest_tbs_document()
    post = await tbs.perform_signature(
        document_digest=digest.document_digest,
        pdf_cms_signed_attrs=pdf_signer.PdfCMSSignedAttributes(signing_time=signing_time),
    )
    await post.post_signature_processing(output)
    return output.getvalue()


def _reserve(credential: SigningCredential, *, external: bool) -> int:
    """The /Contents hole (hex digits) for a signature by ``credential`` with its signature timestamp."""
    if external:
        return RESERVE_EXTERNAL
    signer = credential.signer
    try:
        certs = [signer.signing_cert, *(c for c in signer.cert_registry or () if c.self_signed == "no")]
        size = sum(len(c.dump()) for c in _unique(certs))
    except Exception:  # a remote signer without these attributes: the generous default
        return RESERVE_LOCAL
    return 2 * (size + LOCAL_TOKEN_BYTES + CMS_OVERHEAD_BYTES)


def _external_revinfo(tsa_certs: list[asn1_x509.Certificate], trust_roots) -> tuple[list, list]:
    """CRLs and OCSP responses for an external TSA's chain, fetched online (the TSA's own CA publishes them)."""
    leaves = [c for c in tsa_certs if not c.ca]
    if not leaves:
        return [], []
    context = ValidationContext(
        trust_roots=list(trust_roots) or None,
        other_certs=tsa_certs,
        allow_fetching=True,
        revocation_mode="soft-fail",
    )
    for leaf in leaves:
        validator = CertificateValidator(leaf, intermediate_certs=tsa_certs, validation_context=context)
        asyncio.run(validator.async_validate_usage(set(), {"time_stamping"}))
    return list(context.crls), list(context.ocsps)


def seal_pades(
    pdf: bytes,
    *,
    worker: SigningCredential,
    employer: SigningCredential,
    signing_time: datetime.datetime,
    timestamper,
    material: ValidationMaterial,
    worker_reason: str,
    employer_reason: str,
    location: str = "",
    tsa_trust_roots=(),
    signer_statuses: list[bytes] = (),
) -> SealOutcome:
    """See the module docstring. ``timestamper`` None (``SIGNING_TSA_URL=none``) gives B-B + DSS, no times."""
    signing_time = signing_time.replace(microsecond=0)
    external = timestamper is not None and not getattr(timestamper, "local", False)
    reserve = RESERVE_EXTERNAL if external else 2 * LOCAL_TOKEN_BYTES  # the document timestamp's hole
    recorder = _Recorder(timestamper) if timestamper is not None else None
    try:
        try:
            signed = asyncio.run(
                _sign(
                    pdf,
                    credential=worker,
                    field_name=WORKER_FIELD,
                    certify=True,
                    reason=worker_reason,
                    location=location,
                    signing_time=signing_time,
                    timestamper=recorder,
                    reserve=_reserve(worker, external=external),
                )
            )
        finally:
            worker.drop()
        signed = asyncio.run(
            _sign(
                signed,
                credential=employer,
                field_name=EMPLOYER_FIELD,
                certify=False,
                reason=employer_reason,
                location=location,
                signing_time=signing_time,
                timestamper=recorder,
                reserve=_reserve(employer, external=external),
            )
        )
        tokens = recorder.tokens if recorder is not None else []
        records = [
            _token_record(name, token) for name, token in zip((WORKER_FIELD, EMPLOYER_FIELD), tokens, strict=False)
        ]
        tsa_certs: list[asn1_x509.Certificate] = [c for token in tokens for c in _tsa_certificates(token)]

        final, level = _long_term(
            signed,
            signer_certs=[worker.held.asn1, employer.held.asn1],
            tsa_certs=tsa_certs,
            material=material,
            signer_statuses=signer_statuses,
            tsa_trust_roots=tsa_trust_roots,
            recorder=recorder,
            reserve=reserve,
        )
        if recorder is not None:
            if len(recorder.tokens) != 3:
                raise SigningError("unexpected number of timestamp tokens")
            records.append(_token_record(TIMESTAMP_FIELD, recorder.tokens[2]))
    except TimestampRequestError as exc:
        logger.warning("signing: the time-stamping authority failed (%s)", exc.__class__.__name__)
        raise TimestampUnavailable(TSA_UNAVAILABLE) from exc
    except SigningError as exc:
        if isinstance(exc.__cause__, TimestampRequestError | OSError):
            logger.warning("signing: the time-stamping authority failed (%s)", exc.__cause__.__class__.__name__)
            raise TimestampUnavailable(TSA_UNAVAILABLE) from exc
        logger.warning("signing: pyHanko refused the document (%s)", exc)
        raise SealingFailed("合同文件无法签署，请联系人事处理") from exc
    return SealOutcome(pdf=final, sha256=hashlib.sha256(final).hexdigest(), timestamps=records, level=level)


def _long_term(
    signed: bytes,
    *,
    signer_certs,
    tsa_certs,
    material: ValidationMaterial,
    signer_statuses,
    tsa_trust_roots,
    recorder,
    reserve: int,
) -> tuple[bytes, str]:
    """
    The last revision of every document we sign: the DSS (every certificate, the current CRLs, the
    signers' OCSP responses made at signing, an external TSA's revocation data) and, with a time
    source, the document timestamp over it. Returns the bytes and the level built.
    """
    crls = [asn1_crl.CertificateList.load(der) for der in material.crls]
    # The signers' OCSP "good" responses, issued after their signatures (CaBackend.signer_status).
    ocsps = [asn1_ocsp.OCSPResponse.load(der) for der in signer_statuses]
    ours = {c.subject.dump() for c in (*material.intermediates, *material.trust_roots)}
    if any(not c.ca and c.issuer.dump() not in ours for c in tsa_certs):
        extra_crls, extra_ocsps = _external_revinfo(tsa_certs, tsa_trust_roots)
        crls.extend(extra_crls)
        ocsps.extend(extra_ocsps)
    certs = _unique([*signer_certs, *tsa_certs, *material.intermediates, *material.trust_roots])
    writer = IncrementalPdfFileWriter(io.BytesIO(signed))
    DocumentSecurityStore.supply_dss_in_writer(writer, None, certs=certs, crls=crls, ocsps=ocsps)
    if recorder is None:
        output = io.BytesIO()
        writer.write(output)
        return output.getvalue(), "B-B"
    final = (
        signers.PdfTimeStamper(recorder, field_name=TIMESTAMP_FIELD)
        .timestamp_pdf(writer, "sha256", bytes_reserved=reserve)
        .getvalue()
    )
    return final, "B-LTA"


def _unique(certs):
    seen, out = set(), []
    for cert in certs:
        key = cert.issuer_serial
        if key not in seen:
            seen.add(key)
            out.append(cert)
    return out


def seal_employer_pades(
    pdf: bytes,
    *,
    employer: SigningCredential,
    signing_time: datetime.datetime,
    timestamper,
    material: ValidationMaterial,
    reason: str,
    location: str = "",
    tsa_trust_roots=(),
    signer_statuses: list[bytes] = (),
) -> SealOutcome:
    """
    A document only the employer signs (the proof of ending, 劳动合同法 art. 50): its certification
    signature with the company credential and an RFC 3161 signature timestamp, then the same last
    revision as a contract's (``_long_term``: the DSS with the CRLs and the company certificate's
    OCSP response made at signing, the document timestamp) — PAdES B-LTA that validates years later
    like a contract, verified the same way (``verify_document``).
    """
    signing_time = signing_time.replace(microsecond=0)
    external = timestamper is not None and not getattr(timestamper, "local", False)
    reserve = RESERVE_EXTERNAL if external else 2 * LOCAL_TOKEN_BYTES
    recorder = _Recorder(timestamper) if timestamper is not None else None
    try:
        signed = asyncio.run(
            _sign(
                pdf,
                credential=employer,
                field_name=EMPLOYER_FIELD,
                certify=True,
                reason=reason,
                location=location,
                signing_time=signing_time,
                timestamper=recorder,
                reserve=_reserve(employer, external=external),
            )
        )
        tokens = recorder.tokens if recorder is not None else []
        records = [_token_record(EMPLOYER_FIELD, token) for token in tokens[:1]]
        final, level = _long_term(
            signed,
            signer_certs=[employer.held.asn1],
            tsa_certs=[c for token in tokens for c in _tsa_certificates(token)],
            material=material,
            signer_statuses=signer_statuses,
            tsa_trust_roots=tsa_trust_roots,
            recorder=recorder,
            reserve=reserve,
        )
        if recorder is not None:
            records.append(_token_record(TIMESTAMP_FIELD, recorder.tokens[-1]))
    except TimestampRequestError as exc:
        logger.warning("signing: the time-stamping authority failed (%s)", exc.__class__.__name__)
        raise TimestampUnavailable("可信时间戳服务暂时不可用，请稍后重试") from exc
    except SigningError as exc:
        if isinstance(exc.__cause__, TimestampRequestError | OSError):
            raise TimestampUnavailable("可信时间戳服务暂时不可用，请稍后重试") from exc
        logger.warning("signing: pyHanko refused the document (%s)", exc)
        raise SealingFailed("文件无法签署，请联系管理员") from exc
    return SealOutcome(pdf=final, sha256=hashlib.sha256(final).hexdigest(), timestamps=records, level=level)
