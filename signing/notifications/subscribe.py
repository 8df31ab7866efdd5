"""
Subscribe-message templates: the mapping of our values to a template's keys, and the values cut
to WeChat's rules (PROTOCOLS.md "WeChat subscribe messages"; WeChat's 参数值内容限制).

A mapping is ``{"thing1": "company_name", "phrase2": "status_text", "time3": "event_time"}``:
template key → a value of ``catalog.VALUES``. ``clean_mapping`` refuses — with Chinese messages,
all at once — a key that is not a WeChat key (type prefix + number), a value we do not have, a
value the notice kind does not carry (a 驳回原因 in an 审核通过 template), and a value whose type
cannot fill the key (a company name in a ``date`` key). ``message_data`` fills a mapping for one
notice and cuts every value to its key's limit, so WeChat never answers 47003 for a length.
"""

from __future__ import annotations

import re

from django.core.exceptions import ValidationError

from . import catalog

KEY_PATTERN = re.compile(r"^(thing|name|phrase|character_string|number|letter|symbol|amount|date|time)(\d{1,2})$")
MAX_KEYS = 10

# Which of our value types may fill which WeChat key type.
ACCEPTS = {
    "thing": {catalog.TEXT, catalog.ID, catalog.DATE, catalog.TIME},
    "name": {catalog.TEXT},
    "phrase": {catalog.TEXT},
    "character_string": {catalog.ID},
    "number": {catalog.ID},
    "letter": set(),
    "symbol": set(),
    "amount": set(),
    "date": {catalog.DATE, catalog.TIME},
    "time": {catalog.DATE, catalog.TIME},
}
LIMITS = {"thing": 20, "name": 10, "phrase": 5, "character_string": 32, "number": 32}
TYPE_LABELS = {
    catalog.TEXT: "文字",
    catalog.ID: "编号",
    catalog.DATE: "日期",
    catalog.TIME: "时间",
}
_NOT_HAN = re.compile(r"[^\u4e00-\u9fff]")
_NOT_ASCII_PRINTABLE = re.compile(r"[^\x21-\x7e]")
_NOT_DIGIT = re.compile(r"[^0-9.]")


def parse_mapping_text(text: str) -> dict[str, str]:
    """``thing1=company_name`` per line (the back-office form) → a mapping; ``ValidationError`` on bad lines."""
    mapping: dict[str, str] = {}
    errors = []
    for number, raw in enumerate((text or "").splitlines(), start=1):
        line = raw.strip()
        if not line or line.startswith("#"):
            continue
        key, sep, value = (part.strip() for part in line.partition("="))
        if not sep or not key or not value:
            errors.append(f"第 {number} 行「{line}」应写成 模板字段=取值，例如 thing1=company_name。")
            continue
        if key in mapping:
            errors.append(f"第 {number} 行：模板字段 {key} 重复。")
            continue
        mapping[key] = value
    if errors:
        raise ValidationError(errors, code="mapping_syntax")
    return mapping


def mapping_text(mapping: dict[str, str]) -> str:
    return "\n".join(f"{key}={value}" for key, value in (mapping or {}).items())


def clean_mapping(mapping, *, kind: str) -> dict[str, str]:
    """The mapping if every key and value suits ``kind``; else one ``ValidationError`` naming every problem."""
    if not isinstance(mapping, dict) or not mapping:
        raise ValidationError("请至少填写一个模板字段。", code="mapping_empty")
    if len(mapping) > MAX_KEYS:
        raise ValidationError(f"模板字段不能超过 {MAX_KEYS} 个。", code="mapping_too_long")
    kind_label = catalog.WorkerNotice(kind).label if kind in catalog.WorkerNotice.values else kind
    carried = set(catalog.KIND_VALUES.get(kind, ()))
    errors = []
    for key, value in mapping.items():
        match = KEY_PATTERN.match(str(key))
        if not match:
            errors.append(f"「{key}」不是微信订阅消息的字段名（应为 thing1、phrase2、time3 这样的类型加序号）。")
            continue
        key_type = match.group(1)
        spec = catalog.VALUES.get(value) if isinstance(value, str) else None
        if spec is None:
            errors.append(f"「{key}」的取值「{value}」未知。可选：{', '.join(catalog.VALUES)}。")
            continue
        if value not in carried:
            errors.append(f"「{key}」的取值「{spec.label}」（{value}）不适用于「{kind_label}」通知。")
            continue
        if spec.type not in ACCEPTS[key_type]:
            errors.append(f"「{key}」是 {key_type} 类型，不能填入{TYPE_LABELS[spec.type]}「{spec.label}」。")
    if errors:
        raise ValidationError(errors, code="mapping_invalid")
    return dict(mapping)


def cut(key: str, text: str) -> str:
    """``text`` made acceptable for the template key ``key`` (its type's characters and length)."""
    key_type = KEY_PATTERN.match(key).group(1)
    text = " ".join(str(text).split())
    if key_type == "phrase":
        text = _NOT_HAN.sub("", text)
    elif key_type == "character_string":
        text = _NOT_ASCII_PRINTABLE.sub("", text)
    elif key_type == "number":
        text = _NOT_DIGIT.sub("", text)
    limit = LIMITS.get(key_type)
    if limit is None or len(text) <= limit:
        return text or "-"
    # An ellipsis is a character too: stay within the limit with it (phrase: Han characters only).
    return text[:limit] if key_type in ("phrase", "character_string", "number") else text[: limit - 1] + "…"


def message_data(mapping: dict[str, str], values: dict) -> dict[str, str]:
    """The ``data`` of a subscribe message: every template key with its cut value."""
    return {key: cut(key, catalog.as_text(source, values.get(source))) for key, source in mapping.items()}
