"""The per-process platform memo (shanqian.platforms): bounded staleness, never for unknown codes."""

import pytest
from django.core.cache import cache

from shanqian import platforms
from shanqian.models import Platform
from shanqian.platforms import get_enabled_platform
from tests.factories import PlatformFactory

pytestmark = pytest.mark.django_db


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(platforms.time, "monotonic", fake)
    return fake


def disable_elsewhere(code):
    """Another instance disables the platform: the row and the shared cache change, not our memo."""
    Platform.objects.filter(code=code).update(enabled=False)
    cache.delete(f"platform:{code}")


def test_memo_answers_without_the_shared_cache_until_it_expires(settings, clock, django_assert_num_queries):
    settings.PLATFORM_MEMO_SECONDS = 2
    PlatformFactory(code="memo")
    assert get_enabled_platform("memo").code == "memo"
    disable_elsewhere("memo")

    clock.now += 1.9
    with django_assert_num_queries(0):
        assert get_enabled_platform("memo") is not None  # within the documented bound

    clock.now += 0.2
    assert get_enabled_platform("memo") is None  # past it: the shared cache, then the database


def test_the_editing_process_forgets_at_once(settings, clock):
    settings.PLATFORM_MEMO_SECONDS = 60
    platform = PlatformFactory(code="memo")
    assert get_enabled_platform("memo") is not None
    platform.enabled = False
    platform.save()

    assert get_enabled_platform("memo") is None


def test_renaming_forgets_the_old_code_locally(settings, clock):
    settings.PLATFORM_MEMO_SECONDS = 60
    platform = PlatformFactory(code="old")
    assert get_enabled_platform("old") is not None
    platform.code = "new"
    platform.save()

    assert platform.code not in platforms._memo and "old" not in platforms._memo


def test_unknown_codes_are_not_memoised_and_the_memo_is_bounded(settings, clock):
    settings.PLATFORM_MEMO_SECONDS = 60
    for i in range(200):
        assert get_enabled_platform(f"nope{i}") is None
    assert platforms._memo == {}
    for i in range(platforms._MEMO_MAX + 5):
        PlatformFactory(code=f"p{i}")
        get_enabled_platform(f"p{i}")
    assert len(platforms._memo) <= platforms._MEMO_MAX


def test_each_request_gets_its_own_copy(settings, clock):
    settings.PLATFORM_MEMO_SECONDS = 60
    PlatformFactory(code="memo", name="甲")
    first = get_enabled_platform("memo")
    first.name = "被改动"
    second = get_enabled_platform("memo")

    assert second is not first and second.name == "甲"


def test_zero_turns_the_memo_off(settings, clock):
    settings.PLATFORM_MEMO_SECONDS = 0
    PlatformFactory(code="memo")
    assert get_enabled_platform("memo") is not None
    disable_elsewhere("memo")

    assert get_enabled_platform("memo") is None
    assert platforms._memo == {}


def test_renaming_a_platform_retires_the_old_code_at_once(api, platform):
    from tests.envelope import assert_error

    api.get("/api/no-such")  # the old code is now cached
    platform.code = "renamed"
    platform.save()
    platforms.forget_memo()

    assert_error(api.get("/api/no-such"), 403, 40301)
