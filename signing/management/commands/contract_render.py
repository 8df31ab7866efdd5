"""
Render a page of an application's contract to PNG, so anyone can look at what was signed:

    .venv/bin/python manage.py contract_render --application 12 --out signature-page.png
    .venv/bin/python manage.py contract_render --application 12 --page last --dpi 150 --out cert.png
    .venv/bin/python manage.py contract_render --application 12 --document personalised --page 1 --out p1.png

``--page signature`` (the default) is the page of the first ``employee_signature`` placement — the
signature block with 乙方（签名） and 甲方（盖章）; ``last`` is the appended certificate page of a signed
document; a number is that page (1-based). ``--document signed`` (default) reads the sealed PDF of
the signed application, ``personalised`` the contract generated at approval; either file's SHA-256 is
checked against the one recorded. Rendered with pypdfium2 from the fonts embedded in the PDF (no
system fonts needed). Prints the application id, the page and the digest, never personal data.
"""

from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from contracts.models import Placement
from contracts.placements import page_png, page_sizes
from signing.documents.services import document_bytes
from signing.models import SignApplication, SignedDocument
from signing.sealing.pipeline import ContractFileInvalid


class Command(BaseCommand):
    requires_system_checks = []
    help = "把签约申请的合同某一页渲染为 PNG（默认：已签署文件的签名页）。"

    def add_arguments(self, parser):
        parser.add_argument("--application", type=int, required=True, help="签约申请编号")
        parser.add_argument("--page", default="signature", help="signature（签名页，默认）、last 或页码（从 1 起）")
        parser.add_argument(
            "--document",
            choices=["signed", "personalised"],
            default="signed",
            help="signed：已签署文件（默认）；personalised：审核通过时生成的个性化合同",
        )
        parser.add_argument("--dpi", type=int, default=100, help="分辨率（默认 100）")
        parser.add_argument("--out", required=True, help="输出 PNG 文件路径")

    def handle(self, *args, application, page, document, dpi, out, **options):
        row = SignApplication.objects.filter(pk=application).values("pk", "contract_id").first()
        if row is None:
            raise CommandError(f"签约申请 {application} 不存在")
        if not 36 <= dpi <= 600:
            raise CommandError("--dpi 须在 36–600 之间")
        pdf, sha256 = self._pdf(application, document)
        count = len(page_sizes(pdf))
        number = self._page_number(page, count, contract_id=row["contract_id"])
        png = page_png(pdf, number, scale=dpi / 72)
        target = Path(out)
        try:
            target.write_bytes(png)
        except OSError as exc:
            raise CommandError(f"无法写入 {out}（{exc.strerror or exc.__class__.__name__}）") from exc
        self.stdout.write(
            f"签约申请 {application} 的{'已签署文件' if document == 'signed' else '个性化合同'}"
            f"（SHA-256 {sha256}，已核对，共 {count} 页）第 {number} 页 → {target}（{len(png):,} 字节，{dpi} dpi）"
        )

    def _pdf(self, application: int, document: str) -> tuple[bytes, str]:
        if document == "signed":
            signed = SignedDocument.objects.filter(application_id=application).values("file", "sha256").first()
            if signed is None:
                raise CommandError(f"签约申请 {application} 还没有已签署文件（可用 --document personalised）")
            name, sha256 = signed["file"], signed["sha256"]
        else:
            values = SignApplication.objects.filter(pk=application).values(
                "contract_document", "contract_document_sha256"
            )[0]
            if not values["contract_document"]:
                raise CommandError(f"签约申请 {application} 还没有生成个性化合同（审核通过时生成）")
            name, sha256 = values["contract_document"], values["contract_document_sha256"]
        try:
            return document_bytes(name, sha256), sha256
        except ContractFileInvalid as exc:
            raise CommandError(str(exc)) from exc

    def _page_number(self, page: str, count: int, *, contract_id) -> int:
        if page == "last":
            return count
        if page == "signature":
            found = (
                Placement.objects.filter(contract_id=contract_id, key="employee_signature")
                .order_by("page")
                .values_list("page", flat=True)
                .first()
            )
            if found is None:
                raise CommandError("合同模板没有「乙方签名」字段位置，请用 --page 指定页码")
            return found
        if not page.isdigit() or not 1 <= int(page) <= count:
            raise CommandError(f"--page 须为 signature、last 或 1–{count} 的页码")
        return int(page)
