"""
Request parsers: JSON, url-encoded forms (the seed's default) and multipart.

Form bodies are turned into plain nested data so serializers see the same
shape whatever the content type: ``employee_edu[0][school]=…`` becomes
``{"employee_edu": [{"school": …}]}``, ``tags[]=a&tags[]=b`` and repeated
keys become lists. Arrays sent as a JSON string are decoded by the serializer
field (``shanqian.serializers.FormArrayListSerializer``), which knows the
field is an array. Anything else (XML…) has no parser: 415/41500.
"""

import re

from django.http import QueryDict
from django.utils.datastructures import MultiValueDict
from rest_framework import parsers
from rest_framework.exceptions import ParseError

MAX_INDEX = 200
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


def _listify(node):
    if isinstance(node, dict):
        node = {k: _listify(v) for k, v in node.items()}
        if node and all(k.isdigit() for k in node):
            indexes = sorted(node, key=int)
            if int(indexes[-1]) > MAX_INDEX:
                raise ParseError("数组元素过多")
            return [node[i] for i in indexes]
    return node


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


class JSONParser(parsers.JSONParser):
    def parse(self, stream, media_type=None, parser_context=None):
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            # A few kilobytes of "[[[[…" exhaust the stack of Python's json module.
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
