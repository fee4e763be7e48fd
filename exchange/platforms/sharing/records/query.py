"""What a read asks for, checked before any SQL runs: fields, filters, cursors, call headers.

Every value is parsed to its field's type and format first; a value that does not fit (an
ID number with quotes in it, a division code with SQL in it) is refused with 400 before the
database sees it. Field names come from the schema, never from the request; values are bound.
"""

from __future__ import annotations

import hashlib
import json
import re
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from typing import Any
from urllib.parse import unquote

from exchange.core import values
from exchange.core.masking import hidden_fields, mask, sensitivity_of
from exchange.core.openapi import CASE_NUMBER_WIRE, PURPOSE_WIRE
from exchange.core.resource_schema import FieldSpec, ResourceSchema, Sensitivity
from exchange.core.sealed import open_value, seal_value
from exchange.platforms.sharing.errors import (
    BadCallHeader,
    BadCursor,
    BadFilter,
    FieldNotGranted,
    MissingCallHeader,
)
from exchange.platforms.sharing.grants.service import GrantView

RESERVED = frozenset({"limit", "cursor", "fields", "after"})
MAX_VALUE_CHARS = 256
MAX_IN_VALUES = 50
# Formats implied by a field's standards check, applied even where no pattern is declared.
CHECK_FORMATS = {
    "cn_ric": r"[0-9]{17}[0-9X]",
    "cn_uscc": r"[0-9A-HJ-NPQRTUWXY]{18}",
    "division": r"[0-9]{12}",
}
_CASE_NUMBER = re.compile(r"[A-Za-z0-9\u4000-\u9fff()（）〔〕\[\]_./:#-]{1,64}")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")
_PURPOSE_WIRE = re.compile(PURPOSE_WIRE)
_CASE_NUMBER_WIRE = re.compile(CASE_NUMBER_WIRE)


@dataclass(frozen=True, slots=True)
class CallHeaders:
    purpose: str | None
    case_number: str | None


@lru_cache(maxsize=4096)  # a client sends the same few purposes over and over
def call_headers(raw_purpose: str | None, raw_case: str | None) -> CallHeaders:
    """X-Purpose and X-Case-Number as sent: percent-encoded UTF-8 (HTTP headers are Latin-1),
    in the wire form the OpenAPI declares."""
    if raw_purpose and not _PURPOSE_WIRE.fullmatch(raw_purpose):
        raise BadCallHeader("X-Purpose", "at most 500 printable ASCII characters or %XX escapes")
    if raw_case and not _CASE_NUMBER_WIRE.fullmatch(raw_case):
        raise BadCallHeader("X-Case-Number", "1-64 letters, digits, CJK or ()[]_./:#-")
    return typed_call_headers(raw_purpose, raw_case)


@lru_cache(maxsize=4096)
def typed_call_headers(raw_purpose: str | None, raw_case: str | None) -> CallHeaders:
    """The call's purpose and case number as a person typed them (the console's form)."""
    purpose = unquote(raw_purpose).strip() if raw_purpose else None
    case = unquote(raw_case).strip() if raw_case else None
    if purpose is not None and (len(purpose) > 500 or _CONTROL.search(purpose)):
        raise BadCallHeader("X-Purpose", "at most 500 characters, no control characters")
    if case is not None and not _CASE_NUMBER.fullmatch(case):
        raise BadCallHeader("X-Case-Number", "1-64 letters, digits, CJK or ()[]_./:#-")
    return CallHeaders(purpose or None, case or None)


def require_call_headers(grant: GrantView, headers: CallHeaders) -> None:
    if not grant.conditional:
        return
    if not headers.purpose:
        raise MissingCallHeader("X-Purpose", grant.resource)
    if not headers.case_number:
        raise MissingCallHeader("X-Case-Number", grant.resource)


# -- values ----------------------------------------------------------------------------------
@lru_cache(maxsize=256)
def _compiled(pattern: str) -> re.Pattern[str]:
    return re.compile(pattern)


def parse_value(spec: FieldSpec, raw: str) -> Any:
    """`raw` as a value of `spec`'s type and format, or BadFilter naming what is wrong."""
    if len(raw) > MAX_VALUE_CHARS or _CONTROL.search(raw):
        raise BadFilter(spec.name, f"at most {MAX_VALUE_CHARS} characters, no control characters")
    try:
        value: Any = values.parse(spec.type, raw)
    except (ValueError, KeyError):
        raise BadFilter(spec.name, f"{raw!r} is not a valid {spec.type}") from None
    if spec.enum is not None and value not in spec.enum:
        raise BadFilter(spec.name, f"must be one of {list(spec.enum)}")
    if spec.type == "string":
        fmt = spec.pattern or (
            f"^{CHECK_FORMATS[spec.check]}$" if spec.check in CHECK_FORMATS else None
        )
        if fmt and not _compiled(fmt).search(value):
            raise BadFilter(spec.name, f"does not have the field's format ({fmt})")
    return value


# -- fields and filters ----------------------------------------------------------------------
def output_fields(schema: ResourceSchema, grant: GrantView, wanted: str | None) -> tuple[str, ...]:
    """The fields to return: those asked for (each must be granted), else all granted ones.

    Fields outside the grant are omitted from every response; asking for one by name is 403.
    """
    if not wanted:
        return grant.fields
    names = [n.strip() for n in wanted.split(",") if n.strip()]
    unknown = [n for n in names if n not in schema.by_name]
    if unknown:
        raise BadFilter("fields", f"unknown field(s) {', '.join(unknown)}")
    outside = [n for n in names if n not in grant.fields]
    if outside:
        raise FieldNotGranted("fields", outside, schema.code)
    return tuple(dict.fromkeys(names))


def parse_filters(
    schema: ResourceSchema, grant: GrantView, params: Iterable[tuple[str, str]]
) -> dict[str, list[Any]]:
    filters: dict[str, list[Any]] = {}
    for name, raw in params:
        if name in RESERVED:
            continue
        spec = schema.by_name.get(name)
        if spec is None:
            raise BadFilter(name, f"{schema.code!r} has no such field")
        if not spec.indexed:
            indexed = [f.name for f in schema.fields if f.indexed]
            raise BadFilter(name, f"not filterable (not indexed); filter on one of {indexed}")
        if name not in grant.fields:
            raise FieldNotGranted("filter", [name], schema.code)
        values = filters.setdefault(name, [])
        if len(values) >= MAX_IN_VALUES:
            raise BadFilter(name, f"at most {MAX_IN_VALUES} values")
        values.append(parse_value(spec, raw))
    return filters


def key_value(schema: ResourceSchema, grant: GrantView, raw: str) -> tuple[str, Any]:
    (name,) = schema.primary_key
    if name not in grant.fields:
        raise FieldNotGranted("key", [name], schema.code)
    return name, parse_value(schema.field(name), raw)


def shown_key(schema: ResourceSchema, grant: GrantView, key: str) -> str:
    """A key echoed back is masked like its field: no response holds a value the grant hides."""
    (name,) = schema.primary_key
    if name in masked_fields(schema, grant, [name]):
        return mask(key, sensitivity_of(schema.field(name)))
    return key


def masked_fields(schema: ResourceSchema, grant: GrantView, fields: Iterable[str]) -> list[str]:
    return hidden_fields(schema, fields, grant.plain_fields)


def mask_as(spec: FieldSpec) -> Sensitivity:
    """How a hidden field is shown: by its sensitivity, or withheld whole (****) if that is
    ordinary (the part of an identifier)."""
    sensitivity = sensitivity_of(spec)
    return sensitivity if sensitivity.is_personal else Sensitivity.secret


MaskPlan = tuple[tuple[str, Sensitivity | None], ...]
_PLANS: dict[tuple[str, uuid.UUID, tuple[str, ...]], MaskPlan] = {}


def mask_plan(schema: ResourceSchema, grant: GrantView, fields: tuple[str, ...]) -> MaskPlan:
    """Each field with the sensitivity to mask it by, or None to show it plain.

    Remembered per grant: what a grant allows in plain never changes after approval.
    """
    key = (schema.code, grant.id, fields)
    plan = _PLANS.get(key)
    if plan is None:
        hidden = set(masked_fields(schema, grant, fields))
        plan = tuple((f, mask_as(schema.field(f)) if f in hidden else None) for f in fields)
        if len(_PLANS) > 10_000:
            _PLANS.clear()
        _PLANS[key] = plan
    return plan


# -- cursors ---------------------------------------------------------------------------------
def filters_digest(filters: dict[str, list[Any]]) -> str:
    canonical = json.dumps(
        sorted((k, [str(v) for v in vs]) for k, vs in filters.items()), ensure_ascii=False
    )
    return hashlib.sha256(canonical.encode()).hexdigest()[:16]


def page_cursor(key: bytes, resource: str, digest: str, last_key: Iterable[Any]) -> str:
    return seal_value(key, {"r": resource, "q": digest, "k": [str(v) for v in last_key]})


def read_page_cursor(
    key: bytes, schema: ResourceSchema, digest: str, token: str
) -> tuple[Any, ...]:
    doc = _open(key, token)
    if doc.get("r") != schema.code or "k" not in doc:
        raise BadCursor("it belongs to another resource or feed")
    if doc.get("q") != digest:
        raise BadCursor("it belongs to a query with other filters")
    values = doc["k"]
    if not isinstance(values, list) or len(values) != len(schema.primary_key):
        raise BadCursor()
    try:
        return tuple(
            parse_value(schema.field(k), str(v))
            for k, v in zip(schema.primary_key, values, strict=True)
        )
    except BadFilter:
        raise BadCursor() from None


def seq_cursor(key: bytes, resource: str, seq: int) -> str:
    return seal_value(key, {"r": resource, "e": int(seq)})


def read_seq_cursor(key: bytes, resource: str, token: str | None) -> int:
    if token is None:
        return 0
    doc = _open(key, token)
    seq = doc.get("e")
    if doc.get("r") != resource or not isinstance(seq, int) or seq < 0:
        raise BadCursor("it is not a change-feed cursor of this resource")
    return seq


def _open(key: bytes, token: str) -> dict[str, Any]:
    try:
        doc = open_value(key, token)
    except (ValueError, UnicodeDecodeError):
        raise BadCursor() from None
    if not isinstance(doc, dict):
        raise BadCursor()
    return doc
