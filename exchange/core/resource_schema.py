"""Resource schemas: one Frictionless Table Schema file per resource in `schemas/`.

Besides standard Table Schema, each file carries our extension properties:
* per field: `sensitivity` (drives masking and open-data publication), `codeList`, `check`
  (a standards rule such as `cn_ric`), `indexed` (may be filtered on by consumers);
* at the top: `catalog`, the resource's catalogue entry (provider, share and open class, ...).

`load_schema` validates both layers and fails fast with the file's path and the problem.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, Literal

import pyarrow as pa
from frictionless import FrictionlessException, Schema
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from exchange.core import codelists

SCHEMAS_DIR = Path(__file__).resolve().parents[2] / "schemas"  # the resource schema files


class Sensitivity(StrEnum):
    public = "public"  # may be opened to the public
    ordinary = "ordinary"  # government-internal, shared without masking
    personal_name = "personal_name"  # 张* when masked
    personal_id = "personal_id"  # 330106********1234 when masked
    contact = "contact"  # 138****1234 when masked
    address = "address"  # 浙江省杭州市**** when masked
    secret = "secret"  # never leaves the provider unmasked

    @property
    def is_personal(self) -> bool:
        return self not in (Sensitivity.public, Sensitivity.ordinary)


class ShareClass(StrEnum):
    unconditional = "unconditional"  # 无条件共享
    conditional = "conditional"  # 有条件共享
    none = "none"  # 不予共享

    @property
    def label(self) -> str:
        return {"unconditional": "无条件共享", "conditional": "有条件共享", "none": "不予共享"}[
            self.value
        ]


class OpenClass(StrEnum):
    open = "open"  # 无条件开放
    restricted = "restricted"  # 受限开放
    closed = "closed"  # 禁止开放

    @property
    def label(self) -> str:
        return {"open": "无条件开放", "restricted": "受限开放", "closed": "禁止开放"}[self.value]


class UpdateCycle(StrEnum):
    realtime = "realtime"
    daily = "daily"
    weekly = "weekly"
    monthly = "monthly"
    quarterly = "quarterly"
    yearly = "yearly"
    irregular = "irregular"

    @property
    def max_age_days(self) -> float | None:
        """How old the newest data may be before the resource is overdue."""
        return {
            "realtime": 1,
            "daily": 2,
            "weekly": 8,
            "monthly": 32,
            "quarterly": 93,
            "yearly": 367,
        }.get(self.value)


class Catalog(BaseModel):
    """The catalogue entry (Chinese government catalogue practice, GB/T 21063 fields)."""

    model_config = ConfigDict(extra="forbid")

    title: str
    abstract: str
    # English title and abstract, optional: shown by the portal under ?lang=en
    title_en: str | None = None
    abstract_en: str | None = None
    classification: str
    provider: str = Field(description="provider department code on this node, e.g. GA")
    provider_name: str
    share_class: ShareClass
    share_conditions: str | None = None
    share_methods: list[str] = Field(default_factory=lambda: ["api", "bulk"])
    share_levels: list[Literal["nation", "province", "city", "district"]] | None = Field(
        default=None,
        description="the levels whose departments may call it across levels (relayed node by "
        "node); none given: the provider node's own level only",
    )
    open_class: OpenClass
    update_cycle: UpdateCycle
    topic: str | None = None
    tags: list[str] = Field(default_factory=list)
    licence: str | None = None
    # GB/T 21063 fields a catalogued resource may carry besides: 资源格式 and 关联资源代码
    format: str | None = None
    related: list[str] = Field(default_factory=list)
    identifier: str | None = Field(default=None, description="资源代码 in the city catalogue")
    jurisdiction: Literal["area", "any"] = Field(
        default="area",
        description="area: a department of a node publishes rows only for divisions within the "
        "node's area (by the resource's first division field); any: no such rule (e.g. a "
        "reference layer covering the province)",
    )

    @field_validator("share_conditions")
    @classmethod
    def _strip(cls, v: str | None) -> str | None:
        return v.strip() if v else v


ARROW_TYPES: dict[str, pa.DataType] = {
    "string": pa.string(),
    "integer": pa.int64(),
    "number": pa.float64(),
    "boolean": pa.bool_(),
    "date": pa.date32(),
    "datetime": pa.timestamp("us", tz="UTC"),
    "time": pa.time64("us"),
    "year": pa.int32(),
}

CHECKS = frozenset({"cn_ric", "cn_uscc", "division", "ric_birth_date", "ric_gender", "sha256"})


@dataclass(frozen=True, slots=True)
class FieldSpec:
    name: str
    type: str
    title: str
    description: str | None
    required: bool
    unique: bool
    enum: tuple[Any, ...] | None
    pattern: str | None
    minimum: Any
    maximum: Any
    sensitivity: Sensitivity
    code_list: str | None
    check: str | None
    indexed: bool
    # Where the value must exist: ((None, "resource.field"),) always, or, when the target
    # depends on another column, ((("subject_kind", "legal_person"), "legal_person.uscc"), ...).
    references: tuple[tuple[tuple[str, str] | None, str], ...] = ()

    @property
    def arrow_type(self) -> pa.DataType:
        return ARROW_TYPES[self.type]


@dataclass(frozen=True)
class ResourceSchema:
    code: str
    path: Path
    fields: tuple[FieldSpec, ...]
    primary_key: tuple[str, ...]
    catalog: Catalog
    descriptor: dict[str, Any] = field(repr=False)

    @cached_property
    def by_name(self) -> dict[str, FieldSpec]:
        return {f.name: f for f in self.fields}

    def field(self, name: str) -> FieldSpec:
        return self.by_name[name]

    @property
    def jurisdiction_field(self) -> str | None:
        """The field whose division must lie in the publishing node's area, if the rule holds."""
        if self.catalog.jurisdiction == "any":
            return None
        return next((f.name for f in self.fields if f.check == "division"), None)

    @property
    def field_names(self) -> list[str]:
        return [f.name for f in self.fields]

    def arrow_schema(self) -> pa.Schema:
        return pa.schema(
            [pa.field(f.name, f.arrow_type, nullable=not f.required) for f in self.fields],
            metadata={b"hub.resource": self.code.encode()},
        )


class SchemaFileError(Exception):
    def __init__(self, path: Path, problem: str) -> None:
        super().__init__(f"{path}: {problem}")
        self.path = path
        self.problem = problem


def load_schema(path: Path) -> ResourceSchema:
    try:
        descriptor = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise SchemaFileError(path, f"not readable JSON ({exc})") from None
    if not isinstance(descriptor, dict):
        raise SchemaFileError(path, "top level must be a JSON object")
    schema = schema_from_descriptor(descriptor, path)
    if path.stem != schema.code:
        raise SchemaFileError(path, f"file name must be {schema.code}.json to match `name`")
    return schema


def schema_from_descriptor(
    descriptor: dict[str, Any], path: Path, *, checked: bool = False
) -> ResourceSchema:
    """The one check of a descriptor, whether it comes from a file or from the catalogue
    (`path` then names where it was catalogued, for the message).

    `checked`: the descriptor passed this check when it was published (the catalogue's
    versions); the Table Schema layer is then not validated again. That layer costs ~10 ms a
    descriptor, a worker loading 2,000 published resources would spend 20 s on it."""
    code = descriptor.get("name")
    if not isinstance(code, str) or not code.replace("_", "").isalnum() or not code.islower():
        raise SchemaFileError(path, "`name` (the resource code) must be lower_snake_case")
    if checked:
        raw_fields = [dict(f) for f in descriptor.get("fields", [])]
        key = descriptor.get("primaryKey") or []
        primary_key = [key] if isinstance(key, str) else list(key)
    else:
        try:
            schema = Schema.from_descriptor(descriptor)
        except FrictionlessException as exc:
            reasons = "; ".join(r.message for r in exc.reasons) or exc.error.message
            raise SchemaFileError(path, f"invalid Table Schema: {reasons}") from None
        raw_fields = [f.to_descriptor() for f in schema.fields]
        primary_key = list(schema.primary_key)
    try:
        catalog = Catalog.model_validate(descriptor.get("catalog"))
    except ValidationError as exc:
        first = exc.errors()[0]
        where = ".".join(str(p) for p in first["loc"]) or "catalog"
        raise SchemaFileError(path, f"catalog.{where}: {first['msg']}") from None
    fields = tuple(_field_spec(path, f) for f in raw_fields)
    if not primary_key:
        raise SchemaFileError(path, "primaryKey is required (rows are loaded by key)")
    return ResourceSchema(
        code=code,
        path=path,
        fields=fields,
        primary_key=tuple(primary_key),
        catalog=catalog,
        descriptor=descriptor,
    )


def _field_spec(path: Path, d: dict[str, Any]) -> FieldSpec:
    name = d["name"]
    where = f"field {name!r}"
    if d["type"] not in ARROW_TYPES:
        raise SchemaFileError(path, f"{where}: type {d['type']!r} is not supported by the hub")
    try:
        sensitivity = Sensitivity(d.get("sensitivity", "ordinary"))
    except ValueError:
        raise SchemaFileError(
            path, f"{where}: sensitivity must be one of {[s.value for s in Sensitivity]}"
        ) from None
    code_list = d.get("codeList")
    if code_list is not None and not codelists.exists(code_list):
        raise SchemaFileError(path, f"{where}: unknown codeList {code_list!r}")
    check = d.get("check")
    if check is not None and check not in CHECKS:
        raise SchemaFileError(path, f"{where}: unknown check {check!r}; known: {sorted(CHECKS)}")
    c = d.get("constraints", {})
    enum = c.get("enum")
    return FieldSpec(
        name=name,
        type=d["type"],
        title=d.get("title", name),
        description=d.get("description"),
        required=bool(c.get("required", False)),
        unique=bool(c.get("unique", False)),
        enum=tuple(enum) if enum is not None else None,
        pattern=c.get("pattern"),
        minimum=c.get("minimum"),
        maximum=c.get("maximum"),
        sensitivity=sensitivity,
        code_list=code_list,
        check=check,
        indexed=bool(d.get("indexed", False)),
        references=_references(path, where, d.get("references")),
    )


def _references(path: Path, where: str, ref: Any) -> tuple[tuple[tuple[str, str] | None, str], ...]:
    """`"resource.field"`, or `{"by": "column", "targets": {"value": "resource.field", ...}}`."""
    if ref is None:
        return ()
    if isinstance(ref, str) and ref.count(".") == 1:
        return ((None, ref),)
    if isinstance(ref, dict) and isinstance(ref.get("targets"), dict) and ref.get("by"):
        targets = ref["targets"]
        if all(isinstance(t, str) and t.count(".") == 1 for t in targets.values()):
            return tuple(((ref["by"], str(v)), t) for v, t in targets.items())
    raise SchemaFileError(
        path, f"{where}: references must be 'resource.field' or {{'by': column, 'targets': ...}}"
    )


def load_all(directory: Path) -> dict[str, ResourceSchema]:
    """Every `*.json` schema in `directory` (not subfolders), keyed by resource code."""
    schemas: dict[str, ResourceSchema] = {}
    for path in sorted(directory.glob("*.json")):
        schema = load_schema(path)
        schemas[schema.code] = schema
    for schema in schemas.values():
        for f in schema.fields:
            for when, target in f.references:
                resource, field_name = target.split(".")
                if resource not in schemas or field_name not in schemas[resource].by_name:
                    raise SchemaFileError(
                        schema.path, f"field {f.name!r}: references unknown field {target!r}"
                    )
                if when is not None and when[0] not in schema.by_name:
                    raise SchemaFileError(
                        schema.path, f"field {f.name!r}: references depend on unknown {when[0]!r}"
                    )
    return schemas
