"""
Request parsers: JSON, url-encoded forms (the seed's default) and multipart.

Form bodies are turned into plain nested data so serializers see the same
shape whatever the content type: ``employee_edu[0][school]=…`` becomes
``{"employee_edu": [{"school": …}]}``, ``tags[]=a&tags[]=b`` and repeated
keys become lists. Arrays sent as a JSON string are decoded by the serializer
field (``shanqian.serializers.FormArrayListSerializer``), which knows the
field is an array. Anything else (XML…) has no parser: 415/41500.

Depth is bounded before anything walks the data: a form key may carry at most
``MAX_FORM_DEPTH`` brackets (the resume needs two: ``employee_edu[0][school]``)
and a JSON document may nest at most ``MAX_JSON_DEPTH`` containers. Deeper input
is 400/40000 with a Chinese message, so no input reaches a ``RecursionError``
(the nesting below is walked without recursion, and the JSON depth is measured
on the raw text before ``json`` recurses into it).
"""

import io
import re

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_INDEX = 200
MAX_FORM_DEPTH = 4
MAX_JSON_DEPTH = 32
_KEY = re.compile(r"^([^\[\]]+)((?:\[[^\[\]]*\])*)$")
_PART = re.compile(r"\[([^\[\]]*)\]")


class FormData(dict):
    """
    Parsed form data. DRF merges uploaded files in with ``data.copy().update(files)``;
    a plain dict would take MultiValueDict's internal lists, so files arrive as
    themselves here (a list only when several share a name).
    """

    def copy(self):
        return FormData(self)

    def update(self, other=(), **kwargs):
        if isinstance(other, MultiValueDict):
            other = {key: values if len(values) > 1 else values[-1] for key, values in other.lists()}
        super().update(other, **kwargs)


def _as_list(node: dict):
    """``{"0": a, "1": b}`` → ``[a, b]``; any other dict unchanged."""
    if node and all(k.isdigit() for k in node):
        indexes = sorted(node, key=int)
        if int(indexes[-1]) > MAX_INDEX:
            raise ParseError("数组元素过多")
        return [node[i] for i in indexes]
    return node


def _listify(root: dict):
    """Turn every all-digit-keyed dict into a list, children first, without recursion."""
    # Post-order over an explicit stack: (parent, key, node, children done?).
    stack = [(None, None, root, False)]
    result = root
    while stack:
        parent, key, node, done = stack.pop()
        if not done:
            stack.append((parent, key, node, True))
            stack.extend((node, k, v, False) for k, v in node.items() if isinstance(v, dict))
            continue
        converted = _as_list(node)
        if parent is None:
            result = converted
        else:
            parent[key] = converted
    return result


def nest_form(querydict) -> dict:
    """Fold a QueryDict with bracket keys into nested dicts and lists."""
    root: dict = {}
    for key in querydict:
        values = querydict.getlist(key)
        match = _KEY.match(key)
        if not match:
            raise ParseError(f"无法解析的字段名：{key[:40]}")
        name, suffix = match.groups()
        parts = [name, *_PART.findall(suffix)]
        if len(parts) - 1 > MAX_FORM_DEPTH:
            raise ParseError(f"字段 {name[:40]} 的嵌套层级过深（最多 {MAX_FORM_DEPTH} 层）")
        if parts[-1] == "":
            parts.pop()
            value = values
        else:
            value = values if len(values) > 1 else values[-1]
        node = root
        for part in parts[:-1]:
            child = node.setdefault(part, {})
            if not isinstance(child, dict):
                raise ParseError(f"字段 {name[:40]} 的结构冲突")
            node = child
        if "" in parts or (parts[-1] in node and isinstance(node[parts[-1]], dict) != isinstance(value, dict)):
            raise ParseError(f"字段 {name[:40]} 的结构冲突")
        node[parts[-1]] = value
    return FormData(_listify(root))


def json_depth(text: bytes) -> int:
    """The deepest container nesting of a JSON text, counted without parsing (brackets inside strings skipped)."""
    depth = deepest = 0
    in_string = escaped = False
    for byte in text:
        if in_string:
            if escaped:
                escaped = False
            elif byte == 0x5C:  # backslash
                escaped = True
            elif byte == 0x22:  # quote
                in_string = False
        elif byte == 0x22:
            in_string = True
        elif byte in (0x5B, 0x7B):  # [ {
            depth += 1
            if depth > deepest:
                deepest = depth
                if deepest > MAX_JSON_DEPTH:
                    return deepest
        elif byte in (0x5D, 0x7D):  # ] }
            depth -= 1
    return deepest


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        body = stream.read() if stream is not None else b""
        if json_depth(body) > MAX_JSON_DEPTH:
            # A few kilobytes of "[[[[…" would exhaust the stack of Python's json module, and a
            # depth just under the interpreter's limit would exhaust whatever walks the data next.
            raise ParseError(f"请求体 JSON 嵌套过深（最多 {MAX_JSON_DEPTH} 层）")
        try:
            return super().parse(io.BytesIO(body), media_type, parser_context)
        except RecursionError:
            raise ParseError("请求体 JSON 嵌套过深") from None


class FormParser(parsers.FormParser):
    def parse(self, stream, media_type=None, parser_context=None):
        encoding = parsers.get_encoding(parser_context or {})
        # Django's QueryDict decodes a body that is not valid UTF-8 as latin-1, turning stray bytes
        # into plausible-looking text; replacement characters let TextField report the field instead.
        try:
            text = stream.read().decode(encoding, errors="replace")
            return nest_form(QueryDict(text, encoding=encoding))
        except LookupError:
            raise ParseError("不支持的字符编码") from None


class MultiPartParser(parsers.MultiPartParser):
    def parse(self, stream, media_type=None, parser_context=None):
        result = super().parse(stream, media_type, parser_context)
        return parsers.DataAndFiles(nest_form(result.data), result.files)
