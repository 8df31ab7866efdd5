"""
预览 of the admin placement page (``contracts.admin.ContractAdmin.placements_view`` links here):
the contract template filled with sample data (``signing.documents.preview``), shown as page
images, or as the PDF itself with ``?format=pdf``. Anyone who may see the template may preview it.
Wired by ``SignApplicationAdmin.get_urls``: ``admin:signing_contract_preview``.
"""

import base64
import logging

from django.core.exceptions import PermissionDenied
from django.http import Http404, HttpResponse
from django.template.response import TemplateResponse
from django.urls import path, reverse

from contracts.models import Contract
from contracts.placements import page_png, page_sizes
from shanqian.errors import InvalidInput

from .documents.preview import preview_pdf

logger = logging.getLogger("shanqian.signing")

PREVIEW_MAX_PAGES = 20  # page images shown; the PDF has them all


def contract_preview_urls(admin_site):
    def view(request, contract_id):
        contract = Contract.objects.select_related("company").filter(pk=contract_id).first()
        if contract is None:
            raise Http404("合同模板不存在")
        if not (request.user.has_perm("contracts.view_contract") or request.user.has_perm("contracts.change_contract")):
            raise PermissionDenied
        error, pdf = "", b""
        try:
            pdf = preview_pdf(contract)
        except InvalidInput as exc:
            error = exc.msg
        except Exception as exc:  # a template reportlab/pypdf cannot fill: said on the page, no 500
            logger.info("contract preview: the template could not be filled (%s)", exc.__class__.__name__)
            error = "合同模板无法生成预览，请检查模板文件。"
        if request.GET.get("format") == "pdf" and not error:
            response = HttpResponse(pdf, content_type="application/pdf")
            response["Content-Disposition"] = f'inline; filename="preview-{contract.pk}.pdf"'
            response["Cache-Control"] = "private, no-store"
            return response
        pages = []
        if pdf:
            count = len(page_sizes(pdf))
            for number in range(1, min(count, PREVIEW_MAX_PAGES) + 1):
                png = page_png(pdf, number, scale=1.25)
                pages.append({"number": number, "src": "data:image/png;base64," + base64.b64encode(png).decode()})
        context = {
            **admin_site.each_context(request),
            "title": f"预览（示例数据）：{contract}",
            "contract": contract,
            "opts": Contract._meta,
            "pages": pages,
            "error": error,
            "pdf_url": f"{request.path}?format=pdf",
            "placements_url": reverse("admin:contracts_contract_placements", args=[contract.pk]),
        }
        return TemplateResponse(request, "admin/contracts/contract/preview.html", context)

    return [path("contract-preview/<int:contract_id>/", admin_site.admin_view(view), name="signing_contract_preview")]
