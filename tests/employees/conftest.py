import pytest

from .resume_data import make_world


@pytest.fixture
def world(db):
    return make_world()


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    """Staff factories set passwords; PBKDF2's real cost would dominate these tests."""
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
