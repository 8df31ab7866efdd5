"""
Resume checks against reference data (SPEC §5.1), each a small function that
*returns* field errors so the resume service can report every bad field at once.

* ``dictionary_errors`` — ``nation`` in ``Nation``, each
  ``employee_edu[i].edu_type`` in ``Edu_Type``; only
  enabled entries count, keys compare exactly (in Python, so also on MariaDB's
  case-insensitive collation). No query: the cached dictionary table
  (``dictionaries.selectors.dict_keys_of``, generation-invalidated on every change).
* ``resolve_regions`` — the two region chains (户籍 ``acct_prc/acct_city/acct_coy``
  and 现居 ``province/city/county``) must nest; a lower level may be left out
  only when the level above has no children (东莞市 has no counties; 香港 has no
  cities); a chain may be left out entirely (the seed's columns are nullable).
  Names come from the region table. One query for the six ids.

Phone numbers have their patterns in ``employees.phones``.
"""

from __future__ import annotations

from django.db.models import Exists, OuterRef

from dictionaries.models import Region
from dictionaries.selectors import dict_keys_of

NATION = "Nation"
EDU_TYPE = "Edu_Type"
RELATIONSHIP = "Relationship"

# (id field, name field, label) from the top of each chain down.
REGION_CHAINS = (
    (
        ("acct_prc_id", "acct_prc_name", "户籍省份"),
        ("acct_city_id", "acct_city_name", "户籍城市"),
        ("acct_coy_id", "acct_coy_name", "户籍区县"),
    ),
    (
        ("province_id", "province_name", "现居省份"),
        ("city_id", "city_name", "现居城市"),
        ("county_id", "county_name", "现居区县"),
    ),
)
REGION_ID_FIELDS = tuple(level[0] for chain in REGION_CHAINS for level in chain)


def dictionary_errors(*, nation: str = "", relationship: str = "", edu_types: list[str] = ()) -> dict:
    """
    Field errors of the dictionary-backed fields. ``relationship`` is *not* one of them: the seed's
    ``em_contact_relationship`` is varchar(32) free text, and SPEC §5.1 accepts a ``Relationship`` key,
    its label or any other short text such as 父母 (issue 15; the length and characters are the
    serializer's). The argument stays accepted so callers need not change.
    """
    errors: dict = {}
    keys = dict_keys_of(NATION, EDU_TYPE)
    if nation and nation not in keys[NATION]:
        errors["nation"] = ["民族无效，请从列表中选择。"]
    if edu_types:
        allowed, message = keys[EDU_TYPE], "学历无效，请从列表中选择。"
        edu_errors = [{} if key in allowed else {"edu_type": [message]} for key in edu_types]
        if any(edu_errors):
            errors["employee_edu"] = edu_errors
    return errors


def resolve_regions(values: dict) -> tuple[dict, dict]:
    """
    ``values`` holds the six ``*_id`` fields (absent or None = not given).
    Returns (model field values — ``acct_prc`` … ``county`` as Region or None and
    the ``*_name`` strings —, field errors). Nesting is judged by the region
    tree itself (``parent``), so the data package decides what a level is.
    """
    ids = {field: values.get(field) for field in REGION_ID_FIELDS}
    given = {pk for pk in ids.values() if pk is not None}
    regions = (
        Region.objects.annotate(has_children=Exists(Region.objects.filter(parent_id=OuterRef("pk")))).in_bulk(given)
        if given
        else {}
    )
    resolved: dict = {}
    errors: dict = {}
    for chain in REGION_CHAINS:
        chain_errors = _chain_errors(chain, ids, regions)
        errors.update(chain_errors)
        for id_field, name_field, _label in chain:
            region = None if chain_errors or ids[id_field] is None else regions[ids[id_field]]
            resolved[id_field.removesuffix("_id")] = region
            resolved[name_field] = region.name if region else ""
    return resolved, errors


def _chain_errors(chain, ids: dict, regions: dict) -> dict:
    above = None
    for depth, (id_field, _name_field, label) in enumerate(chain):
        region_id = ids[id_field]
        if region_id is None:
            if any(ids[lower] is not None for lower, _, _ in chain[depth + 1 :]):
                return {id_field: [f"请先选择{label}。"]}
            if above is not None and above.has_children:
                return {id_field: [f"请选择{label}。"]}
            return {}
        region = regions.get(region_id)
        if region is None:
            return {id_field: [f"{label}不存在，请重新选择。"]}
        if region.parent_id != (above.pk if above else None):
            if above is None:
                return {id_field: [f"{label}应为省级行政区，请重新选择。"]}
            return {id_field: [f"{label}不属于所选{chain[depth - 1][2]}，请重新选择。"]}
        above = region
    return {}
