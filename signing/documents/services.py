"""
The personalised contract of an application: generated, stored, kept current, marked at signing.

* ``contract_document_generate(application)`` — at approval (inside the approve transaction): the
  template's bytes, its placements and ``values.contract_values`` drawn by ``render.fill_pdf``
  (no marks, no sign date), stored privately under a random name, its SHA-256 and the digest of its
  inputs recorded on the application. Nothing is stored if drawing fails: the approval rolls back.
* ``contract_document_current(application)`` — before the document is shown or signed: when the
  inputs changed (template replaced, placements moved, terms or employer particulars changed) the
  document is generated again; the new SHA-256 differs, so the worker's earlier VIEWED no longer
  counts and signing asks for a new reading (``ContractNotViewed``).
* ``signing_document(application, signature_image=…, signed_at=…)`` — at signing: the stored
  document with the signature in every ``employee_signature`` placement, ``sign_date``, the company
  seal in every ``company_seal`` placement and the 骑缝章 where placed. The sealing pipeline then
  appends the certificate page and signs: it only adds signatures to these bytes.
"""

from __future__ import annotations

import hashlib
import json
import logging
import secrets

from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.utils import timezone

from contracts.models import CompanySeal, Placement

from ..models import SignApplication
from ..sealing.pipeline import ContractFileInvalid
from .render import PageBox, fill_pdf
from .values import contract_values, format_date

logger = logging.getLogger("shanqian.signing")

DOCUMENTS_DIR = "documents"
TEMPLATE_MAX_BYTES = 20 * 1024 * 1024


def _boxes(contract_id: int) -> list[PageBox]:
    return [
        PageBox(key=row["key"], page=row["page"], x=row["x"], y=row["y"], width=row["width"], height=row["height"])
        for row in Placement.objects.filter(contract_id=contract_id).values("key", "page", "x", "y", "width", "height")
    ]


def _inputs_digest(contract, boxes: list[PageBox], values: dict[str, str]) -> str:
    payload = {
        "template": contract.sha256,
        "boxes": [[b.key, b.page, b.x, b.y, b.width, b.height] for b in boxes],
        "values": values,
    }
    return hashlib.sha256(json.dumps(payload, sort_keys=True, ensure_ascii=False).encode()).hexdigest()


def _template_bytes(contract) -> bytes:
    name = contract.file.name if contract.file else ""
    if not name:
        raise ContractFileInvalid("合同模板没有文件，请联系人事更换合同模板")
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read(TEMPLATE_MAX_BYTES + 1)
    except FileNotFoundError as exc:
        raise ContractFileInvalid("合同模板文件不存在，请联系人事更换合同模板") from exc
    if len(data) > TEMPLATE_MAX_BYTES:
        raise ContractFileInvalid("合同模板文件过大，请联系人事更换合同模板")
    if contract.sha256 and hashlib.sha256(data).hexdigest() != contract.sha256:
        raise ContractFileInvalid("合同模板文件与登记的文件不一致，请联系人事处理")
    return data


def render_contract(application) -> tuple[bytes, str]:
    """The personalised document's bytes and the digest of its inputs (nothing stored)."""
    contract = application.contract
    boxes = _boxes(contract.pk)
    values = contract_values(application)
    template = _template_bytes(contract)
    try:
        pdf = fill_pdf(template, boxes, texts=values)
    except ContractFileInvalid:
        raise
    except Exception as exc:  # pypdf/reportlab on a hostile template: the approval is refused, nothing stored
        logger.info("contract document: the template could not be filled (%s)", exc.__class__.__name__)
        raise ContractFileInvalid("合同模板无法生成个性化合同，请联系管理员检查模板文件") from exc
    return pdf, _inputs_digest(contract, boxes, values)


def _store(pdf: bytes) -> str:
    name = f"{DOCUMENTS_DIR}/{secrets.token_hex(1)}/{secrets.token_hex(16)}.pdf"
    return default_storage.save(name, ContentFile(pdf))


def _loaded(application):
    return SignApplication.objects.select_related("company", "contract", "em").get(pk=application.pk)


def contract_document_generate(application) -> str:
    """Generate, store and record the document (see the module docstring); returns its SHA-256."""
    full = _loaded(application)
    pdf, inputs = render_contract(full)
    sha256 = hashlib.sha256(pdf).hexdigest()
    name = _store(pdf)
    SignApplication.objects.filter(pk=full.pk).update(
        contract_document=name, contract_document_sha256=sha256, contract_document_inputs=inputs
    )
    for target in (application, full):
        target.contract_document, target.contract_document_sha256 = name, sha256
        target.contract_document_inputs = inputs
    return sha256


def contract_document_current(application) -> tuple[str, str]:
    """(storage name, SHA-256) of the application's document, generated again when its inputs changed."""
    full = _loaded(application)
    if full.contract_id is None:
        raise ContractFileInvalid("该签约申请没有关联合同，请联系人事专员")
    inputs = _inputs_digest(full.contract, _boxes(full.contract_id), contract_values(full))
    if full.contract_document and full.contract_document_inputs == inputs:
        return full.contract_document.name, full.contract_document_sha256
    sha256 = contract_document_generate(full)
    application.contract_document, application.contract_document_sha256 = full.contract_document, sha256
    return full.contract_document.name, sha256


def document_bytes(name: str, sha256: str) -> bytes:
    try:
        with default_storage.open(name, "rb") as handle:
            data = handle.read()
    except FileNotFoundError as exc:
        raise ContractFileInvalid("个性化合同文件不存在，请联系人事处理") from exc
    if hashlib.sha256(data).hexdigest() != sha256:
        raise ContractFileInvalid("个性化合同文件与登记的文件不一致，无法签署，请联系人事处理")
    return data


def signing_document(application, *, document: bytes, signature_image: bytes, signed_at) -> bytes:
    """The document with the signature, the sign date, the company seal and the seam seal drawn."""
    seal = CompanySeal.objects.filter(company_id=application.company_id).first()
    if seal is None:
        raise ContractFileInvalid("用人单位没有电子印章，无法签署，请联系人事处理")
    with seal.image.open("rb") as handle:
        seal_png = handle.read()
    if hashlib.sha256(seal_png).hexdigest() != seal.sha256:
        raise ContractFileInvalid("用人单位电子印章文件与登记的不一致，无法签署，请联系人事处理")
    boxes = [
        box
        for box in _boxes(application.contract_id)
        if box.key in {"employee_signature", "company_seal", "sign_date", "seam_seal"}
    ]
    try:
        return fill_pdf(
            document,
            boxes,
            texts={"sign_date": format_date(timezone.localtime(signed_at).date())},
            images={"employee_signature": signature_image, "company_seal": seal_png},
            seam=seal_png,
        )
    except Exception as exc:
        logger.info("contract document: the marks could not be drawn (%s)", exc.__class__.__name__)
        raise ContractFileInvalid("签名或印章无法写入合同，请重新签名后再试") from exc
