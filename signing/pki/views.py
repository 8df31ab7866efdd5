"""
``GET /pki/root.crt``, ``/pki/issuing.crt``, ``/pki/issuing.crl``, ``/pki/root.crl`` (SPEC §10).

DER, with the RFC 2585 media types, readable by anyone (certificates and
CRLs are public and signed). Always current: the CRL views go through
``crl_current``, which issues a fresh CRL when the last one is due. Cacheable:
``ETag`` / ``Last-Modified`` with conditional GET, ``Cache-Control: public``
— an hour for certificates, at most ``CRL_MAX_AGE`` for a CRL, so a
revocation reaches clients through shared caches within minutes.
"""

import datetime

from django.db import DatabaseError
from django.http import HttpResponse, HttpResponseNotModified
from django.utils import timezone
from django.utils.http import http_date
from django.views.decorators.http import require_safe

from .crl import crl_current
from .hierarchy import PkiNotInitialised, authority
from .models import CertificateKind

CERTIFICATE_MAX_AGE = 3600
CRL_MAX_AGE = 300


def _unavailable(message: str) -> HttpResponse:
    response = HttpResponse(message, status=503, content_type="text/plain; charset=utf-8")
    response["Retry-After"] = "60"
    response["Cache-Control"] = "no-store"
    return response


def _respond(
    request, *, body: bytes, content_type: str, etag: str, modified: datetime.datetime, max_age: int, filename: str
):
    etag = f'"{etag}"'
    if request.headers.get("If-None-Match") == etag:
        response = HttpResponseNotModified()
    else:
        response = HttpResponse(body, content_type=content_type)
        response["Content-Disposition"] = f'inline; filename="{filename}"'
    response["ETag"] = etag
    response["Last-Modified"] = http_date(modified.timestamp())
    response["Cache-Control"] = f"public, max-age={max(0, max_age)}"
    return response


def _certificate(request, kind: str, filename: str):
    try:
        held = authority(kind)
    except PkiNotInitialised:
        return _unavailable("证书体系尚未初始化")
    except DatabaseError:
        return _unavailable("证书服务暂时不可用")
    return _respond(
        request,
        body=held.der,
        content_type="application/pkix-cert",
        etag=held.record.fingerprint_sha256,
        modified=held.record.created_at,
        max_age=CERTIFICATE_MAX_AGE,
        filename=filename,
    )


def _crl(request, kind: str, filename: str):
    try:
        crl = crl_current(authority(kind))
    except PkiNotInitialised:
        return _unavailable("证书体系尚未初始化")
    except DatabaseError:
        return _unavailable("证书服务暂时不可用")
    until_due = int((crl.next_update - timezone.now()).total_seconds())
    return _respond(
        request,
        body=bytes(crl.der),
        content_type="application/pkix-crl",
        etag=f"crl-{crl.issuer_id}-{crl.number}",
        modified=crl.this_update,
        max_age=min(CRL_MAX_AGE, until_due),
        filename=filename,
    )


@require_safe
def root_certificate(request):
    return _certificate(request, CertificateKind.ROOT, "root.crt")


@require_safe
def issuing_certificate(request):
    return _certificate(request, CertificateKind.ISSUING, "issuing.crt")


@require_safe
def issuing_crl(request):
    return _crl(request, CertificateKind.ISSUING, "issuing.crl")


@require_safe
def root_crl(request):
    return _crl(request, CertificateKind.ROOT, "root.crl")
