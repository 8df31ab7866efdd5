"""
Who is calling: client IP, user agent and the optional ``X-location`` /
``X-city`` context (SPEC §3). Parsed once per request by the middleware and
attached as ``request.client``; audit events copy it.

Malformed context headers are recorded as absent, never rejected.
"""

import re
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from urllib.parse import unquote

from django.conf import settings

_LOCATION = re.compile(r"^\s*(-?\d{1,3}(?:\.\d{1,12})?)\s*[-,]\s*(-?\d{1,2}(?:\.\d{1,12})?)\s*$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
MAX_CITY_LENGTH = 64
MAX_USER_AGENT_LENGTH = 512


@dataclass(frozen=True)
class ClientContext:
    ip: str | None
    user_agent: str
    lng: Decimal | None
    lat: Decimal | None
    city: str | None


def client_ip(request) -> str | None:
    """
    ``REMOTE_ADDR``, or the address ``TRUSTED_PROXY_COUNT`` hops back in
    ``X-Forwarded-For``: a client cannot choose its own IP by sending the header.
    Mirrors DRF's ``NUM_PROXIES`` rule so throttles and audit agree.
    """
    remote = request.META.get("REMOTE_ADDR") or None
    proxies = settings.TRUSTED_PROXY_COUNT
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR")
    if proxies and forwarded:
        addrs = [a.strip() for a in forwarded.split(",") if a.strip()]
        if addrs:
            return addrs[-min(proxies, len(addrs))][:64]
    return remote


def _header_text(raw: str) -> str | None:
    """WSGI hands headers over as latin-1; recover raw UTF-8 sent without encoding."""
    try:
        return raw.encode("latin-1").decode("utf-8")
    except (UnicodeEncodeError, UnicodeDecodeError):
        return None


def parse_location(raw: str | None) -> tuple[Decimal | None, Decimal | None]:
    if not raw:
        return None, None
    match = _LOCATION.match(raw)
    if not match:
        return None, None
    try:
        lng, lat = Decimal(match.group(1)), Decimal(match.group(2))
    except InvalidOperation:
        return None, None
    if not (-180 <= lng <= 180 and -90 <= lat <= 90):
        return None, None
    return lng.quantize(Decimal("0.000001")), lat.quantize(Decimal("0.000001"))


def parse_city(raw: str | None) -> str | None:
    if not raw:
        return None
    text = _header_text(raw)
    if text is None:
        return None
    try:
        city = unquote(text, encoding="utf-8", errors="strict").strip()
    except UnicodeDecodeError:
        return None
    if not city or len(city) > MAX_CITY_LENGTH or _CONTROL.search(city) or "\ufffd" in city:
        return None
    return city


def client_context(request) -> ClientContext:
    lng, lat = parse_location(request.META.get("HTTP_X_LOCATION"))
    user_agent = _CONTROL.sub("", request.META.get("HTTP_USER_AGENT", ""))[:MAX_USER_AGENT_LENGTH]
    return ClientContext(
        ip=client_ip(request),
        user_agent=user_agent,
        lng=lng,
        lat=lat,
        city=parse_city(request.META.get("HTTP_X_CITY")),
    )
