"""The demo city's catalogue: Hangzhou's departments and the resources they publish.

`schemas/demo_city/` holds one resource spec per file (the format of `schemas/*.json`, without
an `identifier`: the node issues resource codes when it catalogues them) and `departments.json`.
The base registries stay in `schemas/`; the demo resources are catalogued at runtime like any
department's, so they live beside them rather than among the built-in files.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from basebases import synthetic
from basebases.synthetic import generic
from exchange.core.resource_schema import (
    SCHEMAS_DIR,
    ResourceSchema,
    SchemaFileError,
    load_all,
    load_schema,
)

DEMO_DIR = SCHEMAS_DIR / "demo_city"
DEPARTMENTS_FILE = DEMO_DIR / "departments.json"
PARENT_ORG = "杭州市人民政府"


@dataclass(frozen=True)
class DemoDepartment:
    code: str
    name: str
    name_en: str


def departments() -> list[DemoDepartment]:
    raw = json.loads(DEPARTMENTS_FILE.read_text("utf-8"))
    return [DemoDepartment(d["code"], d["name"], d["name_en"]) for d in raw]


@cache
def _specs(directory: Path) -> tuple[ResourceSchema, ...]:
    base = load_all(SCHEMAS_DIR)
    out = tuple(load_schema(p) for p in sorted(directory.glob("*.json")) if p != DEPARTMENTS_FILE)
    known = base | {s.code: s for s in out}
    for spec in out:
        if spec.code in base:
            raise SchemaFileError(spec.path, f"{spec.code} is a built-in resource's code")
        for f in spec.fields:
            for _, target in f.references:
                resource, field_name = target.split(".")
                if resource not in known or field_name not in known[resource].by_name:
                    raise SchemaFileError(
                        spec.path, f"field {f.name!r}: references unknown field {target!r}"
                    )
    return out


def specs() -> list[ResourceSchema]:
    """Every demo resource spec, checked as the loader checks `schemas/` (references resolve
    against the built-in resources and the other demo resources)."""
    return list(_specs(DEMO_DIR))


# The registry fields demo resources reference, and where `hub demo` gets their rows.
REFERENCED = ("population.id_number", "legal_person.uscc", "geo_division.code")


def keys_from(tables: Mapping[str, pa.Table]) -> dict[str, list[Any]]:
    """The referenced keys held by registry tables (as `basebases.synthetic.demo_city` makes
    them), for `rows`."""
    out: dict[str, list[Any]] = {}
    for target in REFERENCED:
        resource, field_name = target.split(".")
        if resource in tables:
            out[target] = tables[resource].column(field_name).to_pylist()
    return out


@cache
def _demo_keys(seed: int) -> dict[str, list[Any]]:
    return keys_from(synthetic.demo_city(1, seed=seed))


def rows(
    spec: ResourceSchema, n: int, seed: int, keys: Mapping[str, Sequence[Any]] | None = None
) -> pa.Table:
    """Synthetic rows for `spec` that pass the intake gate. References draw on `keys`
    ("resource.field" -> existing values); by default on the registries `hub demo` loads
    (`synthetic.demo_city(1, seed=1)`), so the rows' ID numbers and credit codes exist there."""
    return generic.rows(spec, n, seed=seed, keys=_demo_keys(1) if keys is None else keys)
