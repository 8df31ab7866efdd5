"""Reference data loaded the way ``seed_dictionaries`` loads it."""

import pytest

from dictionaries.services import dictionaries_sync, region_rows_from_cpca, regions_sync


@pytest.fixture
def dictionaries_seeded(db):
    return dictionaries_sync()


@pytest.fixture
def regions_seeded(db):
    return regions_sync(rows=region_rows_from_cpca())
