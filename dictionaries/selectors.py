"""
Reads of the reference data, cached in the configured cache (SPEC §2: shared across instances).

* ``dict_entries(item)`` — enabled ``{"dict_key", "dict_value"}`` of one dictionary in display
  order, or None when no such dictionary exists.
* ``dict_keys(item)`` / ``dict_keys_of(*items)`` / ``dict_value(item, key)`` — for validating and
  displaying resume fields.
* ``region_children(parent_id)`` — ``{"id", "name"}`` of the provinces (``None``) or of a
  region's children, or None when the parent does not exist.
* ``region_chain_check(province_id, city_id, county_id)`` — the three regions of a resume
  address, or an ``InvalidInput`` naming the fields that do not nest.

Caches are keyed by a generation token: a change bumps the generation
(``dictionary_cache_clear`` / ``region_cache_clear``, called by the signals in
``dictionaries.signals`` and by the bulk loaders), so every instance sees it at once
and a read racing a write can only fill a key of the old generation.

When the shared cache is unreachable, reads come straight from the database (nothing is
cached meanwhile); the invalidations still raise ``CacheUnavailable`` (503), since an edit whose
generation bump was lost would be served stale once the cache is back.
"""

import contextlib
import uuid

from django.core.cache import cache
from django.db.models import Exists, OuterRef

from shanqian.cache import CacheUnavailable
from shanqian.errors import InvalidInput

from .models import Dictionary, Region

CACHE_TTL = 3600
MISSING_TTL = 300
_MISSING = "missing"
_DICTIONARIES = "dictionaries"
_REGIONS = "regions"


def _generation(namespace: str) -> str:
    key = f"{namespace}:generation"
    generation = cache.get(key)
    if generation is None:
        generation = uuid.uuid4().hex
        if not cache.add(key, generation, None):
            generation = cache.get(key) or generation
    return generation


def _bump(namespace: str) -> None:
    cache.set(f"{namespace}:generation", uuid.uuid4().hex, None)


def dictionary_cache_clear() -> None:
    _bump(_DICTIONARIES)


def region_cache_clear() -> None:
    _bump(_REGIONS)


# --- Dictionaries -----------------------------------------------------------------------


def _dictionary_rows() -> dict[str, list[tuple[str, str, bool]]]:
    table = {}
    rows = Dictionary.objects.order_by("dict_item", "sort", "id").values_list(
        "dict_item", "dict_key", "dict_value", "enabled"
    )
    for item, dict_key, dict_value, enabled in rows:
        table.setdefault(item, []).append((dict_key, dict_value, enabled))
    return table


def _dictionary_table() -> dict[str, list[tuple[str, str, bool]]]:
    """Every dictionary at once: ~100 rows, so one cache entry beats one per item."""
    try:
        key = f"{_DICTIONARIES}:{_generation(_DICTIONARIES)}:table"
        table = cache.get(key)
    except CacheUnavailable:
        return _dictionary_rows()
    if table is None:
        table = _dictionary_rows()
        with contextlib.suppress(CacheUnavailable):
            cache.set(key, table, CACHE_TTL)
    return table


def dict_entries(dict_item: str) -> list[dict[str, str]] | None:
    entries = _dictionary_table().get(dict_item)
    if entries is None:
        return None
    return [{"dict_key": key, "dict_value": value} for key, value, enabled in entries if enabled]


def dict_keys(dict_item: str) -> set[str]:
    """The enabled keys of ``dict_item`` (empty for an unknown dictionary)."""
    return {key for key, _value, enabled in _dictionary_table().get(dict_item, ()) if enabled}


def dict_keys_of(*dict_items: str) -> dict[str, set[str]]:
    """``dict_keys`` of several dictionaries from one read of the cached table."""
    table = _dictionary_table()
    return {item: {key for key, _value, enabled in table.get(item, ()) if enabled} for item in dict_items}


def dict_value(dict_item: str, dict_key: str) -> str | None:
    """The display value of a key, disabled entries included (old resumes still show them)."""
    for key, value, _enabled in _dictionary_table().get(dict_item, ()):
        if key == dict_key:
            return value
    return None


# --- Regions ------------------------------------------------------------------------------


def _region_rows(parent_id: int | None) -> list[dict] | None:
    if parent_id is None:
        return list(Region.objects.filter(parent__isnull=True).order_by("id").values("id", "name"))
    children = list(Region.objects.filter(parent_id=parent_id).order_by("id").values("id", "name"))
    if not children and not Region.objects.filter(id=parent_id).exists():
        return None
    return children


def region_children(parent_id: int | None) -> list[dict] | None:
    try:
        key = f"{_REGIONS}:{_generation(_REGIONS)}:children:{'root' if parent_id is None else parent_id}"
        cached = cache.get(key)
    except CacheUnavailable:
        return _region_rows(parent_id)
    if cached is not None:
        return None if cached == _MISSING else cached
    children = _region_rows(parent_id)
    try:
        if children is None:
            cache.set(key, _MISSING, MISSING_TTL)
        else:
            cache.set(key, children, CACHE_TTL)
    except CacheUnavailable:
        pass
    return children


REGION_CODE_MIN = 100000
REGION_CODE_MAX = 999999


def _region_code(value) -> int | None:
    """A 6-digit code from an int or digit string; None for anything else."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str) and value.isascii() and value.strip().isdigit():
        value = int(value.strip())
    if isinstance(value, int) and REGION_CODE_MIN <= value <= REGION_CODE_MAX:
        return value
    return None


def region_chain_check(
    province_id,
    city_id,
    county_id=None,
    *,
    fields: tuple[str, str, str] = ("province_id", "city_id", "county_id"),
) -> tuple[Region, Region, Region | None]:
    """
    The province, city and county of an address, checked to nest (SPEC §4.13).

    The county may be omitted only when the city has no county level (东莞市…).
    ``fields`` names the three inputs in the raised ``InvalidInput``'s field errors, so the
    household address can report ``acct_prc_id`` etc. One query.
    """
    province_field, city_field, county_field = fields
    codes = {name: _region_code(value) for name, value in zip(fields, (province_id, city_id, county_id), strict=True)}
    errors: dict[str, list[str]] = {}

    def fail(field, message):
        errors.setdefault(field, []).append(message)

    for field, value, label in (
        (province_field, province_id, "省份"),
        (city_field, city_id, "城市"),
        (county_field, county_id, "区县"),
    ):
        given = value not in (None, "")
        if given and codes[field] is None:
            fail(field, f"{label}代码无效。")
        elif not given and field != county_field:
            fail(field, f"请选择{label}。")

    wanted = [code for code in codes.values() if code is not None]
    found = {
        region.id: region
        for region in Region.objects.filter(id__in=wanted).annotate(
            has_children=Exists(Region.objects.filter(parent_id=OuterRef("pk")))
        )
    }
    province = found.get(codes[province_field])
    city = found.get(codes[city_field])
    county = found.get(codes[county_field])

    if codes[province_field] is not None and (province is None or province.level != Region.Level.PROVINCE):
        fail(province_field, "省份不存在。")
        province = None
    if codes[city_field] is not None:
        if city is None or city.level != Region.Level.CITY:
            fail(city_field, "城市不存在。")
            city = None
        elif province is not None and city.parent_id != province.id:
            fail(city_field, "城市不属于所选省份。")
    if codes[county_field] is not None:
        if county is None or county.level != Region.Level.COUNTY:
            fail(county_field, "区县不存在。")
        elif city is not None and county.parent_id != city.id:
            fail(county_field, "区县不属于所选城市。")
    elif county_id in (None, "") and city is not None and city.has_children:
        fail(county_field, "请选择区县。")

    if errors:
        raise InvalidInput(errors=errors)
    return province, city, county
