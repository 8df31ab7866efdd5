"""X-location / X-city parsing and the client IP rule (SPEC §3, §8)."""

from decimal import Decimal

import pytest
from django.test import RequestFactory

from shanqian.client import client_context, client_ip, parse_city, parse_location


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("116.397128-39.916527", (Decimal("116.397128"), Decimal("39.916527"))),
        ("116.397128,39.916527", (Decimal("116.397128"), Decimal("39.916527"))),
        ("-73.9857--40.7484", (Decimal("-73.985700"), Decimal("-40.748400"))),
        ("116-39", (Decimal("116.000000"), Decimal("39.000000"))),
    ],
)
def test_location_is_parsed(raw, expected):
    assert parse_location(raw) == expected


@pytest.mark.parametrize("raw", ["", "abc", "200-39", "116-95", "116.3", "1e5-3", "116.1-39.1-1", "🙂-🙂"])
def test_malformed_location_is_absent(raw):
    assert parse_location(raw) == (None, None)


@pytest.mark.parametrize(
    ("raw", "expected"),
    [
        ("%E5%8C%97%E4%BA%AC%E5%B8%82", "北京市"),
        ("Beijing", "Beijing"),
        ("北京市".encode().decode("latin-1"), "北京市"),  # raw UTF-8 as WSGI hands it over
    ],
)
def test_city_is_decoded(raw, expected):
    assert parse_city(raw) == expected


@pytest.mark.parametrize("raw", ["%FF%FE", "%00abc", "a" * 65, "   ", "%E5%8C"])
def test_malformed_city_is_absent(raw):
    assert parse_city(raw) is None


def test_client_ip_ignores_forwarded_for_without_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 0
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="1.2.3.4")
    assert client_ip(request) == "10.0.0.1"


def test_client_ip_takes_the_hop_behind_trusted_proxies(settings):
    settings.TRUSTED_PROXY_COUNT = 1
    request = RequestFactory().get("/", REMOTE_ADDR="10.0.0.1", HTTP_X_FORWARDED_FOR="6.6.6.6, 1.2.3.4")
    assert client_ip(request) == "1.2.3.4"


def test_client_context_collects_everything():
    request = RequestFactory().get(
        "/",
        REMOTE_ADDR="9.9.9.9",
        HTTP_USER_AGENT="wx\x00mini",
        HTTP_X_LOCATION="1-2",
        HTTP_X_CITY="%E4%B8%8A%E6%B5%B7",
    )
    context = client_context(request)
    assert (context.ip, context.user_agent, context.city) == ("9.9.9.9", "wxmini", "上海")
    assert context.lng == Decimal("1.000000")
