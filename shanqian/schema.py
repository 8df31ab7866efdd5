"""
OpenAPI post-processing: document the envelope, the headers and the error codes.

Every operation's 200 response is wrapped in the envelope; the error responses
of SPEC §3 are listed; ``X-platform-code`` (and ``X-auth-token`` where the
view needs it) are declared as header parameters.

A view documents an error code of its own with ``error_response(code, why)`` in its
``extend_schema(responses=...)``: the hook gives that response the envelope schema and an example
with the code's message (``SensitiveConsentRequired``'s 403/40302 is documented this way).
"""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiExample, OpenApiResponse

from .errors import CODE_HTTP, Code


def error_response(code: Code, why: str, *, also: str = "其他错误码见错误码表") -> OpenApiResponse:
    """The documented response of one specific error ``code`` (its HTTP status, message and why)."""
    http, msg = CODE_HTTP[code]
    return OpenApiResponse(
        OpenApiTypes.OBJECT,
        description=f"{int(code)}「{msg}」：{why}。{also}",
        examples=[
            OpenApiExample(
                f"{int(code)}",
                value={"status": int(code), "msg": msg, "data": None, "error_code": int(code)},
                status_codes=[str(http)],
                response_only=True,
            )
        ],
    )


def _envelope(data_schema: dict) -> dict:
    return {
        "type": "object",
        "required": ["status", "msg", "data", "error_code"],
        "properties": {
            "status": {"type": "integer", "description": "0 为成功，其他见错误码表", "example": 0},
            "msg": {"type": "string", "description": "提示信息（中文）", "example": ""},
            "data": data_schema,
            "error_code": {"type": "integer", "description": "与 status 相同", "example": 0},
        },
    }


ERROR_TABLE = "\n".join(f"| {int(code)} | {http} | {msg or '成功'} |" for code, (http, msg) in CODE_HTTP.items())


def envelope_postprocessing_hook(result, generator, request, public):
    components = result.setdefault("components", {})
    schemas = components.setdefault("schemas", {})
    schemas["ErrorEnvelope"] = _envelope(
        {
            "nullable": True,
            "type": "object",
            "description": "校验错误时为 {errors: {字段: [信息]}}；限流时为 {retry_after: 秒}",
            "additionalProperties": True,
        }
    )
    schemas["ErrorEnvelope"]["properties"]["status"]["example"] = 40000
    info = result.setdefault("info", {})
    info["description"] = (
        info.get("description", "") + "\n\n## 错误码\n\n| status | HTTP | 含义 |\n|---|---|---|\n" + ERROR_TABLE
    )
    platform_header = {
        "name": "X-platform-code",
        "in": "header",
        "required": True,
        "schema": {"type": "string"},
        "description": "平台标识；缺少为 40001，未知或停用为 40301",
    }
    context_headers = [
        {
            "name": "X-location",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "坐标 lng-lat，如 116.397128-39.916527（可选，记入审计）",
        },
        {
            "name": "X-city",
            "in": "header",
            "required": False,
            "schema": {"type": "string"},
            "description": "城市名，可 URL 编码（可选，记入审计）",
        },
    ]
    for path_item in result.get("paths", {}).values():
        for method, operation in path_item.items():
            if method not in {"get", "post", "put", "patch", "delete"}:
                continue
            params = operation.setdefault("parameters", [])
            params[:0] = [platform_header, *context_headers]
            responses = operation.setdefault("responses", {})
            for status_code, response in list(responses.items()):
                if not str(status_code).startswith("2"):
                    continue
                for media in response.get("content", {}).values():
                    if "schema" in media and media["schema"].get("title") != "raw":
                        media["schema"] = _envelope(media["schema"])
            for status_code, response in responses.items():
                if str(status_code).startswith("2"):
                    continue
                for media in response.get("content", {}).values():
                    # An error_response(): the envelope itself is the schema (its example carries the code).
                    if media.get("schema") == {"type": "object", "additionalProperties": {}}:
                        media["schema"] = {"$ref": "#/components/schemas/ErrorEnvelope"}
            for http in sorted({str(h) for c, (h, _) in CODE_HTTP.items() if c != Code.OK}):
                responses.setdefault(
                    http,
                    {
                        "description": "错误，见错误码表",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ErrorEnvelope"}}},
                    },
                )
    # Routes accept an optional trailing slash; document the canonical path without it.
    result["paths"] = {path.rstrip("/") or path: item for path, item in result.get("paths", {}).items()}
    return result
