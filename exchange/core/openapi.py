"""The OpenAPI description as a generated client needs it: how callers authenticate, the call
headers of conditional resources, and the one error body behind every 4xx a route can answer.
"""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI
from fastapi.openapi.utils import get_openapi

ERROR_SCHEMA = {
    "type": "object",
    "required": ["error", "detail", "request_id"],
    "properties": {
        "error": {"type": "string", "description": "e.g. GrantExpired, QuotaExceeded"},
        "detail": {"type": "string"},
        "request_id": {"type": "string"},
        "problems": {
            "type": "array",
            "items": {
                "type": "object",
                "properties": {
                    "field": {"type": "string"},
                    "rule": {"type": "string"},
                    "message": {"type": "string"},
                },
            },
        },
    },
}
# CKAN's own envelope (its clients read `error.__type`); the node's edge (body caps, NUL) may
# still answer a CKAN path with the hub's error body before the action runs.
CKAN_ERROR_SCHEMA = {
    "type": "object",
    "required": ["success", "error"],
    "properties": {
        "help": {"type": "string"},
        "success": {"type": "boolean", "enum": [False]},
        "error": {
            "type": "object",
            "required": ["__type", "message"],
            "properties": {"__type": {"type": "string"}, "message": {"type": "string"}},
        },
    },
}
ERRORS = {
    "400": "Bad input: a filter, cursor, header or value that does not fit (named in detail)",
    "401": "No credential, or one that is not valid",
    "403": "Valid credential, but not allowed (role, grant, field)",
    "404": "No such thing, or not one of yours",
    "409": "Conflicts with what exists",
    "413": "Body larger than this route accepts",
    "422": "The request does not match its schema (each problem listed)",
    "429": "Rate limit or quota reached (Retry-After says when to try again)",
}
SECURITY_SCHEMES = {
    "bearerAuth": {
        "type": "http",
        "scheme": "bearer",
        "bearerFormat": "JWT",
        "description": "POST /sharing/v1/token (OAuth2 client credentials) gives the token",
    },
    "consoleSession": {"type": "apiKey", "in": "cookie", "name": "hub_console"},
    "hubSig": {
        "type": "apiKey",
        "in": "header",
        "name": "Authorization",
        "description": "HubSig keyId=PRINCIPAL:FINGERPRINT,ts=UNIX,sig=BASE64 (Ed25519)",
    },
}
# The call headers' wire form (HTTP headers are Latin-1, so UTF-8 travels percent-encoded),
# declared here and checked by the sharing platform with the very same patterns: whatever the
# description admits is accepted, whatever it refuses is refused.
# X-Purpose: up to 500 printable ASCII characters or %XX escapes, none decoding to a control.
PURPOSE_WIRE = r"^(?:[ -$&-~]|%(?:[2-6][0-9A-Fa-f]|7[0-9A-Ea-e]|[89A-Fa-f][0-9A-Fa-f])){0,500}$"
# X-Case-Number: up to 64 of letters, digits, ()[]_./:#- and, escaped, CJK (U+4000-U+9FFF),
# fullwidth （） and 〔〕.
_UTF8_TAIL = "%[89ABab][0-9A-Fa-f]"
CASE_NUMBER_WIRE = (
    r"^(?:[A-Za-z0-9()\[\]_./:#-]"
    rf"|%[Ee][4-9]{_UTF8_TAIL}{_UTF8_TAIL}"
    r"|%[Ee][Ff]%[Bb][Cc]%8[89]|%[Ee]3%80%9[45]){0,64}$"
)
CALL_HEADERS: list[dict[str, Any]] = [
    {
        "name": "X-Purpose",
        "in": "header",
        "required": False,
        "description": "事由 of the call, percent-encoded UTF-8; required on conditional resources",
        "schema": {"type": "string", "pattern": PURPOSE_WIRE},
    },
    {
        "name": "X-Case-Number",
        "in": "header",
        "required": False,
        "description": "the case the call serves; required on conditional resources",
        "schema": {"type": "string", "pattern": CASE_NUMBER_WIRE},
    },
]
PUBLIC = ("/sharing/v1/token", "/sharing/v1/.well-known/jwks.json")


def install_openapi(app: FastAPI) -> None:
    def openapi() -> dict[str, Any]:
        if app.openapi_schema is None:
            app.openapi_schema = describe(
                get_openapi(
                    title=app.title,
                    version=app.version,
                    description=app.description,
                    routes=app.routes,
                )
            )
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def describe(spec: dict[str, Any]) -> dict[str, Any]:
    components = spec.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(SECURITY_SCHEMES)
    components.setdefault("schemas", {})["Error"] = ERROR_SCHEMA
    components["schemas"]["CkanError"] = CKAN_ERROR_SCHEMA
    hub_error = {"$ref": "#/components/schemas/Error"}
    ckan_error = {"anyOf": [{"$ref": "#/components/schemas/CkanError"}, hub_error]}
    for path, item in spec.get("paths", {}).items():
        ckan = path.startswith("/api/3/action/")
        error_ref = {"application/json": {"schema": ckan_error if ckan else hub_error}}
        for method, op in item.items():
            if method not in ("get", "post", "put", "patch", "delete"):
                continue
            responses = op.setdefault("responses", {})
            for status, text in ERRORS.items():
                responses.setdefault(status, {"description": text, "content": error_ref})
            if "422" in responses and "HTTPValidationError" in str(responses["422"]):
                responses["422"] = {"description": ERRORS["422"], "content": error_ref}
            if path.startswith("/sharing/v1") and path not in PUBLIC:
                security: list[dict[str, list[str]]] = [{"bearerAuth": []}]
                if path.startswith("/sharing/v1/catalog"):
                    security.append({"consoleSession": []})
                op["security"] = security
            elif path.startswith("/exchange/v1") and not path.startswith("/exchange/v1/node"):
                op["security"] = [{"hubSig": []}]
            if path.startswith("/sharing/v1/resources/"):
                params = op.setdefault("parameters", [])
                names = {p.get("name", "").lower() for p in params}
                params += [h for h in CALL_HEADERS if h["name"].lower() not in names]
    return spec
