import pytest

from tests.employees.resume_data import make_world


@pytest.fixture
def world(db):
    return make_world()
