"""
The employee reads and signs the contract (SPEC §4.15–4.19, §6).

The aim is a signature that stands as evidence under the PRC Electronic
Signature Law art. 13:

* **the signer is identified** — a session bound to their WeChat identity, a
  passed real-name check (``SIGN_REQUIRE_REALNAME``) and an SMS code sent to
  the resume phone for this very purpose (``SmsPurpose.SIGN``);
* **the signing data are under the signer's sole control** — the handwritten
  signature must be one of *their own* uploads, the code reaches only their
  phone, and only the employee may perform the ``sign`` move;
* **any later change is detectable** — the signed PDF (the contract's pages and
  a certificate page with the whole audit trail) carries the worker's signature
  with their own event certificate, the employer's under its seal
  authorisation, RFC 3161 timestamps, a DSS and a document timestamp (PAdES
  B-LTA, SPEC §10; ``sealing.pipeline``), and its SHA-256 is stored in
  ``SignedDocument``.

Reading is part of the evidence: ``contract_open`` records a VIEWED event whose
``document_sha256`` (and, for people reading the trail, its note) names the
SHA-256 of the contract file shown (at most once per ``VIEW_RECORD_INTERVAL``
for the same file). Signing is refused with
``ContractNotViewed`` (409) unless the employee opened *that* file: a template
replaced after they read it has to be read again.

``sign_submit`` refuses in this order, so no SMS try is burned on a request
that would fail anyway: no resume or application (404) → status (409) → real
name (409) → contract not viewed (409) → signature field (400) → SMS code
(42201, the wrong try counted) → the transition. What can change meanwhile is
checked again under the row lock.

``application_sign_with_seal`` performs 2 → 3 through
``services.application_sign`` (``_transition`` stays the only status writer).
File reads happen before the lock; inside it, after the SIGNED event is
written, the callback re-checks the registered contract digest and the
viewing, spends the SMS code and calls ``seal_and_archive`` (event
certificate, both signatures, timestamps, DSS, document timestamp, the stored
file, ``SignedDocument`` and the evidence rows). If anything fails the
transaction rolls back — the code stays usable, the status stays 2, the event
certificate row goes too — and the stored file is deleted, so no orphan is
left in storage. A time-stamping authority or CA that fails is 503/50300.
"""

from __future__ import annotations

import hashlib
import logging
from dataclasses import dataclass
from datetime import timedelta
from typing import TYPE_CHECKING

from django.conf import settings
from django.core.files.storage import default_storage
from django.utils import timezone

from contracts.models import Contract
from employees.masking import mask_phone
from employees.models import Employee, SmsCode, SmsPurpose, Upload, VerifyStatus, WechatUser
from employees.otp import sms_code_check, sms_code_consume
from employees.uploads import NotYourUpload, upload_from_url
from shanqian.errors import Conflict, Forbidden, InvalidInput, NotFound

from .. import selectors
from ..documents.services import contract_document_current, document_bytes, signing_document
from ..errors import ContractNotViewed, RealnameRequired, TransitionNotAllowed
from ..evidence.trail import application_trail, realname_decision, realname_summary
from ..models import SignApplication, SignedDocument, SignEvent, SignStatus
from ..sealing.authorization import seal_authorization_for
from ..sealing.pipeline import ContractFileInvalid, SigningFacts, seal_and_archive
from .applications import application_cancel, application_record_event, application_sign

if TYPE_CHECKING:
    from shanqian.client import ClientContext

logger = logging.getLogger("shanqian.signing")

CONTRACT_VISIBLE = frozenset({SignStatus.AWAITING_SIGNATURE, SignStatus.SIGNED})
# A page refresh or a re-fetched link within this window is the same reading, not a new fact.
VIEW_RECORD_INTERVAL = timedelta(minutes=10)
# contracts.services caps template uploads at 20 MB; a bigger file on disk is not one we accepted.
CONTRACT_MAX_BYTES = 20 * 1024 * 1024

RESUME_MISSING = "您还没有提交简历"
APPLICATION_MISSING = "您还没有签约申请"
SIGNATURE_INVALID = "签名图片无效，请重新签名并上传。"


@dataclass(frozen=True)
class ContractView:
    """What ``GET /api/sign/contract`` shows: the application, its contract and the file's SHA-256."""

    application: SignApplication
    contract: Contract
    sha256: str
    file_name: str = ""  # the storage name of the file shown: the personalised contract


# --- reads with the refusals the endpoints share ---------------------------------------------------


def application_of_user(*, user: WechatUser) -> SignApplication:
    """The user's latest application; ``NotFound`` naming what is missing (the resume, or any application)."""
    application = selectors.application_latest_of_user(user=user)
    if application is None:
        if not Employee.objects.filter(user_id=user.pk).exists():
            raise NotFound(RESUME_MISSING)
        raise NotFound(APPLICATION_MISSING)
    return application


def contract_file_read(contract: Contract) -> bytes:
    """The template's bytes from storage; ``ContractFileInvalid`` (409) when missing or oversized."""
    name = contract.file.name if contract.file else ""
    if not name:
        raise ContractFileInvalid("合同模板没有文件，无法签署，请联系人事更换合同模板")
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read(CONTRACT_MAX_BYTES + 1)
    except FileNotFoundError as exc:
        raise ContractFileInvalid("合同模板文件不存在，无法签署，请联系人事更换合同模板") from exc
    if len(data) > CONTRACT_MAX_BYTES:
        raise ContractFileInvalid("合同模板文件过大，无法签署，请联系人事更换合同模板")
    return data


def contract_sha256(contract: Contract) -> str:
    """The registered digest of the template, or the digest of its stored bytes when none is registered."""
    return contract.sha256 or hashlib.sha256(contract_file_read(contract)).hexdigest()


def viewed_note(sha256: str) -> str:
    """The note of a VIEWED event: which file the employee was shown."""
    return f"合同文件 SHA-256：{sha256}"


def _status_refusal(application: SignApplication, *, doing: str) -> str:
    status = application.status
    if status == SignStatus.APPLIED:
        return f"签约申请正在审核中，审核通过后才能{doing}"
    if status == SignStatus.SIGNED:
        return "合同已签署，请勿重复签署"
    label = SignStatus(status).label if status in SignStatus.values else "不可用"
    return f"签约申请{label}，不能{doing}"


# --- POST /api/verifycode with purpose=sign -------------------------------------------------------


def sign_code_recipient_check(*, user: WechatUser, phone: str) -> None:
    """
    ``purpose=sign`` codes confirm the intent to sign, so they go only to the
    logged-in user's resume phone, and only while a contract awaits their
    signature: 40300 without a resume, 40900 with nothing to sign, 40000 (on
    ``phone``) for any other number. Installed into ``employees.services.identity``
    (``sms_recipient_check_install``) by ``SigningConfig.ready``.
    """
    employee = Employee.objects.filter(user_id=user.pk).only("id", "phone").first()
    if employee is None:
        raise Forbidden("您还没有提交简历，无法获取签约验证码")
    latest = selectors.application_latest(employee_id=employee.pk)
    if latest is None or latest.status != SignStatus.AWAITING_SIGNATURE:
        raise Conflict("当前没有待签署的合同，无需获取签约验证码")
    if phone != employee.phone:
        raise InvalidInput(
            "签约验证码只能发送到简历登记的手机号",
            errors={"phone": [f"签约验证码只能发送到简历登记的手机号（{mask_phone(employee.phone)}）。"]},
        )


# --- GET /api/sign/contract ------------------------------------------------------------------------


def contract_open(*, user: WechatUser, client: ClientContext | None = None) -> ContractView:
    """
    The contract of the user's latest application in 2 待签约 or 3 已签约
    (409 otherwise, 404 without a resume or application). In status 2 the
    reading is recorded as a VIEWED event naming the file's SHA-256; in status 3
    the digest is the one the sealed document quotes.
    """
    application = application_of_user(user=user)
    if application.status not in CONTRACT_VISIBLE:
        raise Conflict(_status_refusal(application, doing="查看合同"))
    contract = application.contract
    if contract is None:
        raise Conflict("该签约申请没有关联合同，请联系人事专员")
    if application.status == SignStatus.SIGNED:
        signed = (
            SignedDocument.objects.filter(application_id=application.pk)
            .values_list("contract_sha256", flat=True)
            .first()
        )
        if application.contract_document:
            return ContractView(
                application=application,
                contract=contract,
                sha256=signed or application.contract_document_sha256,
                file_name=application.contract_document.name,
            )
        return ContractView(
            application=application,
            contract=contract,
            sha256=signed or contract_sha256(contract),
            file_name=contract.file.name,
        )
    name, sha256 = contract_document_current(application)
    _record_viewed(application=application, user=user, client=client, sha256=sha256)
    return ContractView(application=application, contract=contract, sha256=sha256, file_name=name)


def _record_viewed(*, application: SignApplication, user: WechatUser, client, sha256: str) -> None:
    recent = SignEvent.objects.filter(
        application_id=application.pk,
        kind=SignEvent.Kind.VIEWED,
        actor_user_id=user.pk,
        document_sha256=sha256,
        created_at__gte=timezone.now() - VIEW_RECORD_INTERVAL,
    )
    if not recent.exists():
        application_record_event(
            application=application,
            kind=SignEvent.Kind.VIEWED,
            actor_user=user,
            client=client,
            note=viewed_note(sha256),
            document_sha256=sha256,
        )


def _check_viewed(*, application_id: int, user: WechatUser, sha256: str) -> None:
    viewed = set(
        SignEvent.objects.filter(
            application_id=application_id, kind=SignEvent.Kind.VIEWED, actor_user_id=user.pk
        ).values_list("document_sha256", flat=True)
    )
    if sha256 in viewed:
        return
    if viewed:
        raise ContractNotViewed("合同文件已更新，请重新阅读合同后再签署")
    raise ContractNotViewed("请先阅读合同再签署")


# --- POST /api/sign -------------------------------------------------------------------------------


def sign_check(*, application: SignApplication, user: WechatUser) -> None:
    """The cheap refusals, before a signature or an SMS code is looked at: status, real name, viewing."""
    if application.status != SignStatus.AWAITING_SIGNATURE:
        raise TransitionNotAllowed(_status_refusal(application, doing="签署"))
    if settings.SIGN_REQUIRE_REALNAME and user.verify_status != VerifyStatus.VERIFIED:
        raise RealnameRequired("请先完成实名认证再签约")
    if application.contract is None:
        raise Conflict("该签约申请没有关联合同，请联系人事专员")
    _, sha256 = contract_document_current(application)
    _check_viewed(application_id=application.pk, user=user, sha256=sha256)


def signature_upload_clean(*, user: WechatUser, url, employee: Employee) -> Upload:
    """
    The handwritten signature: one of the user's own uploads, given by the URL
    ``POST /api/image`` returned — not someone else's, not a foreign or forged
    link, and not one of the ID card photos of the resume.
    """
    try:
        upload = upload_from_url(user=user, url=url)
    except NotYourUpload:
        raise InvalidInput(errors={"signature": [SIGNATURE_INVALID]}) from None
    if upload.pk in (employee.id_card_front_id, employee.id_card_back_id):
        raise InvalidInput(errors={"signature": ["这是身份证照片，请上传手写签名图片。"]})
    return upload


def sign_submit(
    *, user: WechatUser, sms_code: str, signature_url: str, client: ClientContext | None = None
) -> SignedDocument:
    """``POST /api/sign``: every refusal in the documented order, then ``application_sign_with_seal``."""
    application = application_of_user(user=user)
    sign_check(application=application, user=user)
    upload = signature_upload_clean(user=user, url=signature_url, employee=application.em)
    code_row = sms_code_check(phone=application.em.phone, purpose=SmsPurpose.SIGN, code=sms_code)
    return application_sign_with_seal(
        application=application, user=user, sms_code_row=code_row, signature_upload=upload, client=client
    )


def _signature_bytes(upload: Upload) -> bytes:
    """The stored signature image, refused unless it is still exactly the bytes recorded at upload."""
    try:
        with upload.file.storage.open(upload.file.name, "rb") as handle:  # decrypts (encrypted at rest)
            data = handle.read(settings.UPLOAD_MAX_BYTES + 1)
    except FileNotFoundError:
        data = b""
    if not data or hashlib.sha256(data).hexdigest() != upload.sha256:
        raise InvalidInput(errors={"signature": ["签名图片已损坏，请重新签名并上传。"]})
    return data


def _delete_quietly(name: str) -> None:
    try:
        default_storage.delete(name)
    except Exception:  # cleanup must not hide the error that made it necessary
        logger.exception("could not delete orphan sealed PDF %s", name)


def application_sign_with_seal(
    *,
    application: SignApplication,
    user: WechatUser,
    sms_code_row: SmsCode,
    signature_upload: Upload,
    client: ClientContext | None = None,
) -> SignedDocument:
    """
    2 → 3 with the sealed PDF (see the module docstring). ``sms_code_row`` is
    the row ``sms_code_check`` returned for the resume phone and purpose
    ``sign``; it is spent inside the transaction. Raises what the move raises
    (``TransitionNotAllowed``, ``RealnameRequired``, ``NotYourApplication``),
    ``ContractNotViewed``, ``ContractFileInvalid`` (corrupt template, or bytes
    that are not the registered file), ``SmsCodeInvalid`` (spent meanwhile) and
    ``InvalidInput`` (signature image); nothing is left behind when it does.
    """
    if signature_upload.owner_id != user.pk:
        raise InvalidInput(errors={"signature": [SIGNATURE_INVALID]})
    if application.contract_id is None:
        raise Conflict("该签约申请没有关联合同，请联系人事专员")
    # The intent code was checked by the caller: this is the instant of its acceptance, which the
    # event certificate, the audit rows (to the microsecond) and both signatures' /M (whole seconds) name.
    accepted_at = timezone.now()
    # File I/O before the row lock: the lock is held only for the checks, the seal and the writes.
    signature_image = _signature_bytes(signature_upload)
    signature_sha256 = hashlib.sha256(signature_image).hexdigest()
    contract = application.contract or Contract.objects.get(pk=application.contract_id)
    # The personalised contract as the worker read it (generated again first if its inputs changed).
    document_name, contract_digest = contract_document_current(application)
    contract_pdf = document_bytes(document_name, contract_digest)
    stored: list[str] = []
    documents: list[SignedDocument] = []

    def seal(locked: SignApplication) -> None:
        full = SignApplication.objects.select_related("em", "company", "contract").get(pk=locked.pk)
        if full.contract_id != contract.pk:
            raise Conflict("签约申请的合同已变更，请重新阅读合同后再签署")
        # Re-read under the lock: the template, its placements or the terms may have changed meanwhile.
        if contract_document_current(full)[1] != contract_digest:
            raise ContractNotViewed("合同文件已更新，请重新阅读合同后再签署")
        _check_viewed(application_id=locked.pk, user=user, sha256=contract_digest)
        sms_code_consume(sms_code_row)
        trail = application_trail(full)
        at = accepted_at
        decision = realname_decision(user.pk, before=at)
        facts = SigningFacts(
            signing_time=at,
            contract_sha256=contract_digest,
            signature_image=signature_image,
            intent_sent_at=sms_code_row.created_at,
            intent_phone=full.em.phone,
            ip=(client.ip if client else None) or "",
            user_agent=(client.user_agent if client else None) or "",
            city=(client.city if client else None) or "",
            lng=client.lng if client else None,
            lat=client.lat if client else None,
            realname=realname_summary(decision),
            trail=trail,
        )
        # The signature, the sign date, the company seal and the 骑缝章 drawn into the document read;
        # the pipeline appends the certificate page and only adds signatures to these bytes.
        marked = signing_document(full, document=contract_pdf, signature_image=signature_image, signed_at=at)
        document, _signed = seal_and_archive(
            application=full,
            document_pdf=marked,
            facts=facts,
            authorization=seal_authorization_for(full, at=at),
            signature_upload=signature_upload,
            on_stored=stored.append,
        )
        documents.append(document)

    try:
        application_sign(
            application=application,
            user=user,
            client=client,
            before_commit=seal,
            note=f"短信验证码确认签署意愿；签名图片 SHA-256：{signature_sha256}",
        )
    except BaseException:
        # The transaction rolled back (or failed to commit); the file it stored must not outlive it.
        for name in stored:
            _delete_quietly(name)
        raise
    return documents[0]


# --- POST /api/sign/cancel ---------------------------------------------------------------------------


def application_withdraw(*, user: WechatUser, reason: str = "", client: ClientContext | None = None):
    """The employee withdraws their latest application (1 or 2 → 5); 409 for a signed or final one."""
    application = application_of_user(user=user)
    return application_cancel(application=application, actor_user=user, client=client, note=reason)
