"""
The back office's 验证签署文件 page: upload a PDF, learn whether we sealed it,
whether it is unaltered, for which application, and whether it is the very
file archived for that application.

Hook it into an admin's URLs ahead of the catch-all object routes, e.g. in
``SignApplicationAdmin.get_urls``::

    return verify_document_urls(self.admin_site) + super().get_urls()

The page is then ``admin:signing_verify_document`` (staff only).
"""

import logging

from django import forms
from django.core.exceptions import ImproperlyConfigured, ValidationError
from django.http import JsonResponse
from django.template.response import TemplateResponse
from django.urls import NoReverseMatch, path, reverse
from django.views.decorators.csrf import csrf_exempt, csrf_protect

from .models import SignApplication
from .sealing import archived_document
from .sealing.verification import VerificationReport, verify_any

logger = logging.getLogger(__name__)

MAX_VERIFY_BYTES = 20 * 1024 * 1024
# Room for the multipart envelope and the CSRF field around the file itself.
MAX_VERIFY_REQUEST_BYTES = MAX_VERIFY_BYTES + 64 * 1024
TOO_LARGE_MESSAGE = "文件不能超过 20 MB"


class VerifyDocumentForm(forms.Form):
    file = forms.FileField(label="签署文件（PDF）", help_text="上传需要核验的 PDF 文件，不超过 20 MB。")

    def clean_file(self):
        upload = self.cleaned_data["file"]
        if upload.size > MAX_VERIFY_BYTES:
            raise ValidationError(TOO_LARGE_MESSAGE, code="too_large")
        return upload


def _change_url(admin_site, application) -> str | None:
    try:
        return reverse(f"{admin_site.name}:signing_signapplication_change", args=[application.pk])
    except NoReverseMatch:
        return None


def _render(request, admin_site, form, **extra):
    context = {
        **admin_site.each_context(request),
        "title": "验证签署文件",
        "opts": SignApplication._meta,
        "form": form,
        "max_mb": MAX_VERIFY_BYTES // (1024 * 1024),
        **extra,
    }
    return TemplateResponse(request, "admin/signing/verify_document.html", context)


def make_verify_document_view(admin_site):
    @csrf_protect
    def checked(request):
        if request.method != "POST":
            return _render(request, admin_site, VerifyDocumentForm())
        form = VerifyDocumentForm(request.POST, request.FILES)
        if not form.is_valid():
            return _render(request, admin_site, form)
        try:
            result = verify_any(form.cleaned_data["file"].read())
        except ImproperlyConfigured as exc:
            logger.error("verify_document: %s", exc)
            return _render(request, admin_site, form, error="签章证书未配置或无法读取，暂时无法核验，请联系管理员。")
        archive = archived_document(result) if result.is_ours else None
        if request.GET.get("format") == "json" or request.headers.get("Accept", "").startswith("application/json"):
            # The same report as the page, for the back office's scripts (and the page's own JS).
            data = (
                result.as_dict()
                if isinstance(result, VerificationReport)
                else {
                    "sha256": result.sha256,
                    "is_ours": result.is_ours,
                    "intact": result.intact,
                    "ok": result.ok,
                    "message": result.message,
                    "application_id": result.application_id,
                    "legacy": True,
                }
            )
            data["archive"] = {"matches": archive.matches, "message": archive.message} if archive else None
            return JsonResponse(data, json_dumps_params={"ensure_ascii": False})
        change_url = _change_url(admin_site, archive.application) if archive and archive.matches else None
        return _render(
            request,
            admin_site,
            VerifyDocumentForm(),
            result=result,
            archive=archive,
            change_url=change_url,
            file_name=form.cleaned_data["file"].name,
        )

    # The size is checked from Content-Length before anything reads the body, so an
    # oversized upload is refused without being spooled to disk first; the CSRF
    # check (which parses the body) runs after it, in ``checked``.
    @csrf_exempt
    def verify_document(request):
        try:
            length = int(request.META.get("CONTENT_LENGTH") or 0)
        except ValueError:
            length = 0
        if request.method == "POST" and length > MAX_VERIFY_REQUEST_BYTES:
            response = _render(request, admin_site, VerifyDocumentForm(), error=TOO_LARGE_MESSAGE)
            response.status_code = 413
            return response
        return checked(request)

    return verify_document


def verify_document_urls(admin_site) -> list:
    """URL patterns of the verification page, wrapped in ``admin_site.admin_view`` (staff only)."""
    view = admin_site.admin_view(make_verify_document_view(admin_site))
    return [path("verify-document/", view, name="signing_verify_document")]
