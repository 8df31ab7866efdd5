"""
Issue 15, observability a deployment expects: Prometheus metrics at /metrics for the scraper
only, request ids in log lines and in ``X-Request-ID``.
"""

import logging

import pytest
from django.test import Client

pytestmark = pytest.mark.django_db


def test_metrics_answer_a_loopback_scraper():
    response = Client(REMOTE_ADDR="127.0.0.1").get("/metrics")

    assert response.status_code == 200
    assert b"django_http_requests_total_by_method_total" in response.content


def test_metrics_are_hidden_from_anyone_else(settings):
    """Request counts by view are operational data about users' activity: a 404 from elsewhere."""
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics").status_code == 404
    settings.METRICS_TOKEN = "scrape-secret-0123456789"
    assert Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 404
    ok = Client(REMOTE_ADDR="203.0.113.9").get("/metrics", HTTP_AUTHORIZATION="Bearer scrape-secret-0123456789")
    assert ok.status_code == 200


def test_a_request_id_is_returned_and_stamped_on_its_log_lines(api, caplog):
    with caplog.at_level(logging.WARNING, logger="django.request"):
        response = api.get("/api/nothing-here", HTTP_X_REQUEST_ID="lb-7f3a9c21")

    assert response["X-Request-ID"] == "lb-7f3a9c21"
    assert [r.request_id for r in caplog.records if r.name == "django.request"] == ["lb-7f3a9c21"]


def test_a_request_id_that_could_forge_log_content_is_replaced(api):
    response = api.get("/api/companies", HTTP_X_REQUEST_ID="x\nINFO fake line")

    assert response["X-Request-ID"] != "x\nINFO fake line"
    assert len(response["X-Request-ID"]) == 16


def test_every_response_has_a_request_id():
    assert len(Client().get("/healthz")["X-Request-ID"]) == 16
