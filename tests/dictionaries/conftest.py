"""Reference data loaded the way ``seed_dictionaries`` loads it."""

import pytest

from dictionaries.services import dictionaries_sync, region_rows_from_cpca, regions_sync


@pytest.fixture
def dictionaries_seeded(db):
    return dictionaries_sync()


@pytest.fixture
def regions_seeded(db):
    return regions_sync(rows=region_rows_from_cpca())


def assert_error(response, http_status, status):
    body = response.json()
    assert response.status_code == http_status, body
    assert body["status"] == status
    assert body["error_code"] == status
    assert isinstance(body["msg"], str) and body["msg"]
    return body
