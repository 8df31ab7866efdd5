"""
Contract templates, company seals and seal authorisations: every file goes through the storage API
and its SHA-256 is recorded.

``contract_save_file`` is the one way a template gets its file (admin form, seed_demo):
it checks the content is a real, readable PDF (``contract_pdf_check``), stores it
under a random name and records the digest the signing evidence refers to. A
replaced file is not deleted: signed documents quote the digest of the file they used.

``company_seal_save`` / ``company_seal_generate`` give a company its seal image (checked by
``contracts.seals``); ``seal_authorisation_create`` / ``seal_authorisation_revoke`` record who
authorised automatic sealing and until when (SPEC §9). ``company_ready_for_contracts`` is what
approval asks of the employer: particulars complete, a seal, an authorisation in force.
"""

import datetime
import hashlib
from dataclasses import dataclass

from django.core.files import File
from django.core.files.base import ContentFile
from django.db import transaction
from django.utils import timezone
from PIL import Image, UnidentifiedImageError
from pypdf import PdfReader

from shanqian.errors import InvalidInput
from shanqian.text import clean_text

from .models import Company, CompanySeal, Contract, EnabledStatus, Placement, SealAuthorisation
from .placements import (
    MAX_PLACEMENTS,
    VOCABULARY,
    Box,
    box_problem,
    clip_box,
    detect_placements,
    keyword_box,
    page_sizes,
    placements_missing,
)
from .seals import round_seal_png, seal_image_clean

CONTRACT_MAX_BYTES = 20 * 1024 * 1024
CONTRACT_MAX_PAGES = 200


def file_sha256(file: File) -> str:
    digest = hashlib.sha256()
    file.seek(0)
    for chunk in file.chunks():
        digest.update(chunk)
    file.seek(0)
    return digest.hexdigest()


def contract_pdf_check(file: File) -> int:
    """The page count of ``file``; ``InvalidInput`` unless it is a readable, unencrypted PDF."""
    size = file.size
    if size is not None and size > CONTRACT_MAX_BYTES:
        raise InvalidInput(f"合同文件不能超过 {CONTRACT_MAX_BYTES // (1024 * 1024)} MB。")
    file.seek(0)
    if b"%PDF-" not in file.read(1024):
        file.seek(0)
        raise InvalidInput("合同文件必须是 PDF。")
    file.seek(0)
    try:
        reader = PdfReader(file)
        if reader.is_encrypted:
            raise InvalidInput("合同文件不能加密或设置打开密码。")
        pages = len(reader.pages)
        for page in reader.pages:
            page.mediabox  # noqa: B018 -- touching each page makes a broken page tree fail here
    except InvalidInput:
        raise
    except Exception as exc:
        # pypdf raises many types on hostile input; any of them means "not a usable PDF".
        raise InvalidInput("合同文件已损坏或不是有效的 PDF。") from exc
    finally:
        file.seek(0)
    if pages < 1:
        raise InvalidInput("合同文件没有页面。")
    if pages > CONTRACT_MAX_PAGES:
        raise InvalidInput(f"合同文件不能超过 {CONTRACT_MAX_PAGES} 页。")
    return pages


def unembedded_fonts(file: File) -> list[str]:
    """The base names of the fonts a PDF uses without embedding them (pdffonts' ``emb no``)."""
    file.seek(0)
    reader = PdfReader(file, strict=False)
    missing: set[str] = set()
    seen: set[int] = set()

    def check_font(font) -> None:
        font = font.get_object()
        if font.get("/Subtype") == "/Type3":
            return  # drawn with the document's own glyph procedures
        descendants = font.get("/DescendantFonts")
        target = descendants[0].get_object() if descendants else font
        descriptor = target.get("/FontDescriptor")
        descriptor = descriptor.get_object() if descriptor is not None else {}
        if not any(key in descriptor for key in ("/FontFile", "/FontFile2", "/FontFile3")):
            missing.add(str(font.get("/BaseFont", "?")).lstrip("/"))

    def walk(resources) -> None:
        if resources is None:
            return
        resources = resources.get_object()
        for font in (resources.get("/Font") or {}).values():
            check_font(font)
        for xobject in (resources.get("/XObject") or {}).values():
            ref = getattr(xobject, "idnum", None)
            if ref in seen:
                continue
            seen.add(ref)
            xobject = xobject.get_object()
            if xobject.get("/Subtype") == "/Form":
                walk(xobject.get("/Resources"))

    for page in reader.pages:
        walk(page.get("/Resources"))
    file.seek(0)
    return sorted(missing)


def template_pdf_check(file: File) -> int:
    """``contract_pdf_check`` plus what a personalised contract needs: embedded fonts, upright pages."""
    pages = contract_pdf_check(file)

    try:
        missing = unembedded_fonts(file)
        file.seek(0)
        rotated = any((page.get("/Rotate") or 0) % 360 for page in PdfReader(file, strict=False).pages)
    except Exception as exc:  # hostile structure inside a file that opened
        raise InvalidInput("合同文件已损坏或不是有效的 PDF。") from exc
    finally:
        file.seek(0)
    if missing:
        raise InvalidInput(
            f"合同文件使用了未嵌入的字体（{'、'.join(missing[:5])}），在没有这些字体的设备上会显示为方框。"
            "请在导出 PDF 时选择「嵌入所有字体」后重新上传。"
        )
    if rotated:
        raise InvalidInput("合同文件含有旋转的页面，请导出为不旋转的纵向页面后重新上传。")
    return pages


def template_upload_check(file: File) -> list[Box]:
    """
    What an upload must pass before anything is stored: ``template_pdf_check`` and the detected
    placements each inside its page (``box_problem``). Returns the detected boxes.
    """
    template_pdf_check(file)
    file.seek(0)
    data = file.read()
    file.seek(0)
    try:
        boxes = detect_placements(data)
        sizes = page_sizes(data)
    except Exception as exc:  # pypdf/pypdfium2 on a hostile structure inside a file that opened
        raise InvalidInput("合同文件已损坏或不是有效的 PDF。") from exc
    placements_check(boxes, sizes)
    return boxes


@transaction.atomic
def contract_save_file(
    *, contract: Contract, file: File | bytes, name: str = "contract.pdf", detect: bool = True
) -> Contract:
    """
    Check (``template_pdf_check``), store and fingerprint ``file`` as the template's PDF, save
    ``contract`` and, with ``detect``, replace its placements by those found in the file (AcroForm
    fields, keyword anchors: ``contracts.placements.detect_placements``). A template that ends up
    missing a required placement is saved disabled (``contract_placements_missing`` says which).

    Everything that can refuse the file (the PDF, the detected boxes, the model's fields) is judged
    before the file is stored; if saving fails after that, the stored file is deleted again — a
    refused upload leaves no row and no orphan file.
    """
    if isinstance(file, bytes):
        file = ContentFile(file, name=name)
    boxes = template_upload_check(file) if detect else None
    if not detect:
        template_pdf_check(file)
    file.seek(0)
    data = file.read()
    file.seek(0)
    sizes = page_sizes(data)
    if boxes is not None and placements_missing(box.key for box in boxes):
        contract.status = EnabledStatus.DISABLED
    contract.sha256 = hashlib.sha256(data).hexdigest()
    contract.full_clean(exclude=["file"])
    contract.file.save(name, file, save=False)
    stored = contract.file.name
    try:
        contract.save()
        if boxes is not None:
            placements_replace(contract=contract, boxes=boxes, sizes=sizes)
    except BaseException:
        contract.file.storage.delete(stored)
        raise
    return contract


def placements_check(boxes, sizes: list[tuple[float, float]]) -> None:
    """``InvalidInput`` naming each bad box (``box_problem``) and a count over ``MAX_PLACEMENTS``."""
    problems = [problem for box in boxes if (problem := box_problem(box, sizes))]
    if len(boxes) > MAX_PLACEMENTS:
        problems.append(f"字段位置不能超过 {MAX_PLACEMENTS} 个")
    if problems:
        raise InvalidInput("；".join(problems), errors={"placements": problems})


def placements_replace(*, contract: Contract, boxes, sizes: list[tuple[float, float]]) -> list[Placement]:
    """Replace every placement of ``contract``; ``InvalidInput`` naming each bad box (nothing changes then)."""
    placements_check(boxes, sizes)
    with transaction.atomic():
        Placement.objects.filter(contract=contract).delete()
        return Placement.objects.bulk_create(
            Placement(
                contract=contract,
                key=box.key,
                page=box.page,
                x=round(box.x, 2),
                y=round(box.y, 2),
                width=round(box.width, 2),
                height=round(box.height, 2),
                source=box.source,
                anchor=box.anchor[:32],
            )
            for box in boxes
        )


def contract_template_bytes(contract: Contract) -> bytes:
    """The template's stored PDF, its digest checked; ``InvalidInput`` when missing or changed."""
    if not contract.file:
        raise InvalidInput("合同模板还没有上传文件。")
    try:
        with contract.file.storage.open(contract.file.name, "rb") as handle:
            data = handle.read(CONTRACT_MAX_BYTES + 1)
    except FileNotFoundError as exc:
        raise InvalidInput("合同模板文件不存在，请重新上传。") from exc
    if contract.sha256 and hashlib.sha256(data).hexdigest() != contract.sha256:
        raise InvalidInput("合同模板文件与登记的 SHA-256 不一致，请重新上传。")
    return data


def enable_refusal(missing: list[str]) -> str:
    return f"合同模板缺少必需的字段位置：{'、'.join(missing)}，不能启用。请先在「字段位置」页面放置后再启用。"


@dataclass(frozen=True)
class PlacementsSaved:
    placements: list[Placement]
    missing: list[str]  # the enable rule's missing values (Chinese), empty when complete
    disabled: bool  # the template was enabled and is now disabled: a required placement was removed


@transaction.atomic
def contract_placements_save(*, contract: Contract, boxes, keyword: dict | None = None) -> PlacementsSaved:
    """
    Replace the template's placements by ``boxes`` (the placement page), plus, with ``keyword``
    (``key``, ``text``, ``dx``, ``dy``, ``width``, ``height``), the boxes at that text in the PDF.
    On the locked template row; every box is checked against its page (``box_problem``) and nothing
    changes when one is refused. An enabled template left without a required placement is disabled.
    """
    locked = Contract.objects.select_for_update().get(pk=contract.pk)
    data = contract_template_bytes(locked)
    sizes = page_sizes(data)
    boxes = list(boxes)
    if keyword is not None:
        boxes += contract_keyword_boxes(data, sizes=sizes, **keyword)
    rows = placements_replace(contract=locked, boxes=boxes, sizes=sizes)
    missing = placements_missing(box.key for box in boxes)
    disabled = bool(missing) and locked.status == EnabledStatus.ENABLED
    if disabled:
        locked.status = EnabledStatus.DISABLED
        locked.save(update_fields=["status", "updated_at"])
        contract.status = locked.status
    return PlacementsSaved(placements=rows, missing=missing, disabled=disabled)


def contract_keyword_boxes(
    data: bytes, *, sizes, key: str, text: str, dx: float = 14.0, dy: float = 0.0, width: float, height: float
) -> list[Box]:
    """The boxes of a keyword anchor staff asked for; ``InvalidInput`` naming the keyword when it is absent."""
    text = (text or "").strip()
    if key not in VOCABULARY:
        raise InvalidInput(f"未知的字段：{key}", errors={"placements": [f"未知的字段：{key}"]})
    if not text or len(text) > 32:
        raise InvalidInput("请填写 1–32 个字的定位关键字。", errors={"kw_text": ["请填写 1–32 个字的定位关键字。"]})
    found = keyword_box(data, key=key, text=text, dx=dx, dy=dy, width=width, height=height)
    if not found:
        message = f"模板中找不到关键字「{text}」：请核对与 PDF 中的文字完全一致（包括全角括号和冒号）。"
        raise InvalidInput(message, errors={"kw_text": [message]})
    return [clip_box(box, sizes[box.page - 1]) for box in found]


def contract_placements_missing(*, contract_id: int) -> list[str]:
    """The required placements the template lacks (``contracts.placements.placements_missing``)."""
    return placements_missing(Placement.objects.filter(contract_id=contract_id).values_list("key", flat=True))


# --- company seals ------------------------------------------------------------------------------------


@transaction.atomic
def company_seal_save(
    *, company: Company, data: bytes, source: str = CompanySeal.Source.UPLOADED, staff=None
) -> CompanySeal:
    """Check ``data`` (``seal_image_clean``), store it and make it the company's seal (one per company)."""
    image = seal_image_clean(data)  # a generated seal passes the same check
    seal = CompanySeal.objects.select_for_update().filter(company=company).first() or CompanySeal(company=company)
    seal.sha256 = hashlib.sha256(image.content).hexdigest()
    seal.width, seal.height = image.width, image.height
    seal.source = source
    seal.created_by = staff
    seal.image.save("seal.png", ContentFile(image.content), save=False)
    seal.save()
    return seal


def company_seal_generate(*, company: Company, staff=None) -> CompanySeal:
    """The standard round red contract seal drawn from the company name (``contracts.seals.round_seal_png``)."""
    image = round_seal_png(company.company_name)
    return company_seal_save(company=company, data=image.content, source=CompanySeal.Source.GENERATED, staff=staff)


# --- seal authorisations ------------------------------------------------------------------------------

LETTER_MAX_BYTES = 10 * 1024 * 1024
LETTER_MAX_PAGES = 20
REVOKE_REASON_MAX_LENGTH = 256


def authorisation_letter_check(file: File) -> str:
    """The letter's extension (pdf/png/jpg) after checking it is a readable PDF or image; ``InvalidInput`` else."""
    if file.size is not None and file.size > LETTER_MAX_BYTES:
        raise InvalidInput(f"授权书不能超过 {LETTER_MAX_BYTES // (1024 * 1024)} MB。")
    file.seek(0)
    head = file.read(1024)
    file.seek(0)
    try:
        if b"%PDF-" in head:
            reader = PdfReader(file)
            if reader.is_encrypted:
                raise InvalidInput("授权书 PDF 不能加密。")
            if not 1 <= len(reader.pages) <= LETTER_MAX_PAGES:
                raise InvalidInput(f"授权书应为 1–{LETTER_MAX_PAGES} 页。")
            return "pdf"
        image = Image.open(file, formats=["PNG", "JPEG"])
        if image.width * image.height > 25_000_000:
            raise InvalidInput("授权书图片像素过大。")
        image.verify()
        return "png" if image.format == "PNG" else "jpg"
    except InvalidInput:
        raise
    except (UnidentifiedImageError, Exception) as exc:
        # pypdf and Pillow raise many types on hostile input; any of them means "not a usable letter".
        raise InvalidInput("授权书须为 PDF、PNG 或 JPEG 文件，且未损坏。") from exc
    finally:
        file.seek(0)


def seal_authorisation_problems(*, authoriser: str, valid_from, valid_until) -> dict[str, list[str]]:
    errors: dict[str, list[str]] = {}
    if not (authoriser or "").strip():
        errors["authoriser"] = ["请填写授权人。"]
    if not isinstance(valid_from, datetime.datetime):
        errors["valid_from"] = ["请填写生效时间。"]
    if not isinstance(valid_until, datetime.datetime):
        errors["valid_until"] = ["请填写失效时间。"]
    elif isinstance(valid_from, datetime.datetime) and valid_until <= valid_from:
        errors["valid_until"] = ["失效时间须晚于生效时间。"]
    elif valid_until <= timezone.now():
        errors["valid_until"] = ["失效时间已过，这份授权不能再用于盖章。"]
    return errors


@transaction.atomic
def seal_authorisation_create(
    *,
    company: Company,
    authoriser: str,
    valid_from: datetime.datetime,
    valid_until: datetime.datetime,
    letter: File | None = None,
    staff=None,
) -> SealAuthorisation:
    """Record an authorisation (checked, the letter stored and fingerprinted); ``InvalidInput`` with field errors."""
    errors = seal_authorisation_problems(authoriser=authoriser, valid_from=valid_from, valid_until=valid_until)
    extension = ""
    if letter:
        try:
            extension = authorisation_letter_check(letter)
        except InvalidInput as exc:
            errors["letter"] = [exc.msg]
    if errors:
        raise InvalidInput(errors=errors)
    authorisation = SealAuthorisation(
        company=company,
        authoriser=authoriser.strip(),
        valid_from=valid_from,
        valid_until=valid_until,
        created_by=staff,
    )
    if letter:
        authorisation.letter_sha256 = file_sha256(letter)
        authorisation.letter.save(f"letter.{extension}", letter, save=False)
    authorisation.full_clean()
    authorisation.save()
    return authorisation


@transaction.atomic
def seal_authorisation_revoke(*, authorisation: SealAuthorisation, staff, reason: str = "") -> SealAuthorisation:
    """Revoke from now on (idempotent: a revoked one keeps its first revocation)."""
    locked = SealAuthorisation.objects.select_for_update().get(pk=authorisation.pk)
    if locked.revoked_at is not None:
        return locked
    reason = clean_text(reason, field="reason", label="撤销原因", max_length=REVOKE_REASON_MAX_LENGTH, required=False)
    locked.revoked_at = timezone.now()
    locked.revoked_by = staff
    locked.revoke_reason = reason
    locked.save(update_fields=["revoked_at", "revoked_by", "revoke_reason"])
    return locked


def seal_authorisation_in_force(*, company_id: int, at: datetime.datetime | None = None) -> SealAuthorisation | None:
    """The authorisation covering ``at`` (default now) that lasts longest, or None."""
    at = at or timezone.now()
    return SealAuthorisation.objects.filter(company_id=company_id).valid_at(at).order_by("-valid_until", "-id").first()


def company_ready_for_contracts(*, company_id: int, at: datetime.datetime | None = None) -> str:
    """Why the company cannot have contracts approved now (Chinese), or "" when it can."""
    company = Company.objects.filter(pk=company_id).select_related("seal").first()
    if company is None:
        return "用人单位不存在。"
    missing = company.particulars_missing()
    if missing:
        return f"用人单位「{company}」的资料不全：缺少{'、'.join(missing)}。请先在「用人单位」中补全。"
    if not hasattr(company, "seal"):
        return f"用人单位「{company}」还没有电子印章。请先在「电子印章」中上传或生成。"
    if seal_authorisation_in_force(company_id=company_id, at=at) is None:
        latest = SealAuthorisation.objects.filter(company_id=company_id).order_by("-valid_until", "-id").first()
        why = latest.refusal_at(at or timezone.now()) if latest else "没有印章授权"
        return f"用人单位「{company}」没有有效的印章授权（{why}）。请先在「印章授权」中登记。"
    return ""
