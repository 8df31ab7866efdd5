"""Private media: signed, expiring /files/ links."""

import time

import pytest
from django.core.files.base import ContentFile
from django.core.files.storage import default_storage
from django.test import Client

from shanqian.storage import file_name_from_url, signed_file_url


@pytest.fixture
def stored(db):
    return default_storage.save("uploads/aa/test.png", ContentFile(b"\x89PNG fake bytes"))


def test_signed_link_serves_the_file_privately(stored):
    response = Client().get(signed_file_url(stored))

    assert response.status_code == 200
    assert b"".join(response.streaming_content) == b"\x89PNG fake bytes"
    assert response["Content-Type"] == "image/png"
    assert "no-store" in response["Cache-Control"]


def test_link_expires(stored, monkeypatch):
    url = signed_file_url(stored, ttl=60)
    real_time = time.time
    monkeypatch.setattr(time, "time", lambda: real_time() + 61)

    response = Client().get(url)

    assert response.status_code == 404
    assert response.json()["status"] == 40400


def test_tampered_link_is_404(stored):
    url = signed_file_url(stored)

    response = Client().get(url[:-3] + "abc")

    assert response.status_code == 404


def test_media_root_is_not_served_directly(stored):
    assert Client().get(f"/media/{stored}").status_code == 404


def test_link_maps_back_to_its_name_even_after_expiry(stored):
    assert file_name_from_url("https://x.example.com" + signed_file_url(stored, ttl=1)) == stored


@pytest.mark.parametrize(
    "url", ["", "https://evil.example.com/uploads/aa/test.png", "/files/garbage", None, 5, "x" * 5000]
)
def test_foreign_links_map_to_nothing(url):
    assert file_name_from_url(url) is None
