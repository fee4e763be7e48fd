"""Checks of a catalogued descriptor: the schema files' own check (one place), the
classification tree, what publishing requires, and whether a new version is compatible."""

from __future__ import annotations

import copy
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from exchange.catalogue.errors import InvalidDescriptor
from exchange.core import classification
from exchange.core.resource_schema import FieldSpec, ResourceSchema, SchemaFileError
from exchange.core.resource_schema import schema_from_descriptor as check_descriptor

# 共享方式 (GB/T 21063.2) and the hub's own names for the same channels
SHARE_METHODS = frozenset(
    {"系统对接", "联机查询", "在线浏览", "调用在线服务", "下载", "拷贝", "api", "bulk", "page"}
)
# What an entry needs before it is submitted or published, with its GB/T 21063 name.
REQUIRED = (
    ("title", "资源名称"),
    ("abstract", "资源摘要"),
    ("classification", "资源分类"),
    ("share_class", "共享类型"),
    ("open_class", "开放属性"),
    ("update_cycle", "更新周期"),
    ("format", "资源格式"),
)
# Only to check a draft's data items before its catalogue fields are all there.
_PLACEHOLDER = {
    "title": "-",
    "abstract": "-",
    "classification": "3",
    "share_class": "none",
    "open_class": "closed",
    "update_cycle": "irregular",
}
# Widening that keeps every stored value (and every batch of the previous version) valid.
WIDENINGS = frozenset({("integer", "number"), ("year", "integer"), ("year", "number")})


def check_draft(
    descriptor: dict[str, Any], known: Mapping[str, ResourceSchema], *, builtin: bool = False
) -> ResourceSchema:
    """The descriptor as a schema, or InvalidDescriptor naming the field and the rule.

    Missing catalogue fields are allowed in a draft (`missing_fields` lists them); what is
    there must be valid.
    """
    code = str(descriptor.get("name") or "")
    where = Path("catalogue") / f"{code or '?'}.json"
    trial = copy.deepcopy(descriptor)
    catalog = trial.get("catalog")
    if catalog is not None and not isinstance(catalog, dict):
        raise InvalidDescriptor("catalog", "must be an object")
    catalog = trial.setdefault("catalog", {})
    for key, value in _PLACEHOLDER.items():
        if catalog.get(key) in (None, ""):
            catalog[key] = value
    if catalog.get("share_class") == "conditional" and not catalog.get("share_conditions"):
        catalog["share_conditions"] = "-"
    try:
        schema = check_descriptor(trial, where)
    except SchemaFileError as exc:
        raise InvalidDescriptor(_field_of(exc.problem), exc.problem) from None
    real = descriptor.get("catalog") or {}
    code_ = real.get("classification")
    if code_ and not builtin and classification.find(str(code_)) is None:
        raise InvalidDescriptor(
            "catalog.classification",
            f"{code_!r} is not in the classification tree (类 1 digit, then 2 per level: "
            "e.g. 1, 101, 3)",
        )
    bad = [m for m in schema.catalog.share_methods if m not in SHARE_METHODS]
    if bad:
        raise InvalidDescriptor(
            "catalog.share_methods", f"{bad[0]!r} is not a 共享方式; one of {sorted(SHARE_METHODS)}"
        )
    for f in schema.fields:
        for _, target in f.references:
            resource, field_name = target.split(".")
            ref = known.get(resource)
            if resource != code and (ref is None or field_name not in ref.by_name):
                raise InvalidDescriptor(
                    f"fields.{f.name}.references", f"unknown field {target!r} (not published)"
                )
    return schema


def _field_of(problem: str) -> str:
    """`field 'x': ...` -> fields.x; `catalog.y: ...` -> catalog.y; else the descriptor."""
    if problem.startswith("field '"):
        return "fields." + problem.split("'")[1]
    if problem.startswith("catalog."):
        return problem.split(":")[0]
    if "primary key" in problem:
        return "primaryKey"
    if problem.startswith("`name`"):
        return "name"
    return "fields"


def missing_fields(descriptor: dict[str, Any]) -> list[str]:
    catalog = descriptor.get("catalog") or {}
    missing = [f"catalog.{k} ({label})" for k, label in REQUIRED if not catalog.get(k)]
    if catalog.get("share_class") == "conditional" and not catalog.get("share_conditions"):
        missing.append("catalog.share_conditions (共享条件)")
    for f in descriptor.get("fields") or []:
        if isinstance(f, dict) and not f.get("title"):
            missing.append(f"fields.{f.get('name')}.title (信息项名称)")
    return missing


@dataclass(frozen=True)
class Change:
    field: str
    kind: str  # added | widened | enum_added | deprecated | relaxed
    detail: str


def compare(old: ResourceSchema, new: ResourceSchema) -> tuple[list[Change], list[dict[str, Any]]]:
    """(the additive changes, the breaking ones) from `old` to `new`, field by field."""
    additive: list[Change] = []
    breaking: list[dict[str, Any]] = []

    def refuse(name: str, message: str) -> None:
        breaking.append({"field": name, "rule": "breaking_change", "message": message})

    if new.primary_key != old.primary_key:
        refuse(",".join(new.primary_key), f"primary key changed from {list(old.primary_key)}")
    for f in old.fields:
        if f.name not in new.by_name:
            refuse(f.name, 'removed (deprecate it instead: add "deprecated": true)')
            continue
        _compare_field(f, new.by_name[f.name], old.descriptor, new.descriptor, additive, refuse)
    for f in new.fields:
        if f.name in old.by_name:
            continue
        if f.required:
            refuse(f.name, "a new required field without a default breaks every sender")
        else:
            additive.append(Change(f.name, "added", f"optional {f.type}"))
    return additive, breaking


def _raw(descriptor: dict[str, Any], name: str) -> dict[str, Any]:
    return next((f for f in descriptor.get("fields", []) if f.get("name") == name), {})


def _compare_field(
    a: FieldSpec,
    b: FieldSpec,
    old_d: dict[str, Any],
    new_d: dict[str, Any],
    additive: list[Change],
    refuse: Any,
) -> None:
    if a.type != b.type:
        if (a.type, b.type) in WIDENINGS:
            additive.append(Change(a.name, "widened", f"{a.type} -> {b.type}"))
        else:
            refuse(a.name, f"type {a.type} -> {b.type} is not a widening")
    if b.required and not a.required:
        refuse(a.name, "made required: rows and batches without it would break")
    elif a.required and not b.required:
        additive.append(Change(a.name, "relaxed", "no longer required"))
    if a.code_list != b.code_list:
        refuse(a.name, f"codeList {a.code_list} -> {b.code_list}")
    if a.enum != b.enum:
        if a.enum is not None and b.enum is not None and set(a.enum) <= set(b.enum):
            added = [v for v in b.enum if v not in a.enum]
            additive.append(Change(a.name, "enum_added", f"values added: {added}"))
        else:
            refuse(a.name, "code values removed or changed (only additions are compatible)")
    if _raw(new_d, a.name).get("deprecated") and not _raw(old_d, a.name).get("deprecated"):
        additive.append(Change(a.name, "deprecated", "kept, no longer to be relied on"))
