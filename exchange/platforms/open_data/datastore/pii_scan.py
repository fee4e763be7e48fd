"""Proof that open datasets publish no personal data: a scan of what the portal serves.

Schemas decide which fields are served (`sensitivity: public`), but a public free-text field
can still carry a phone number or an identity number typed in by a clerk. The scan reads what
a visitor could download (the served columns of every open dataset, the first rows by key and
a random sample) and reports, masked, what the one detector (`quality.personal_data`, shared
with the security pipeline's whole-table scan) finds there; also a served column whose name or
title says it holds personal data. `hub portal scan` runs it; a finding means the provider must
fix the data or the schema.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from sqlalchemy.orm import Session

from exchange.core.resource_schema import ResourceSchema
from exchange.platforms.open_data import access
from exchange.platforms.open_data.datastore import repository as ds
from exchange.platforms.open_data.portal import repository as repo
from exchange.quality import personal_data as pd
from exchange.quality.personal_data import Kind, Leak

PERSONAL_NAMES = re.compile(
    r"身份证|证件号|手机|电话|联系方式|住址|姓名|id_?number|phone|mobile|e-?mail|passport",
    re.IGNORECASE,
)
redact = pd.redact  # the portal shows visitors' feedback through it


def personal_columns(schema: ResourceSchema) -> list[Leak]:
    """Served columns whose name or title says they hold personal data."""
    return [
        Leak(schema.code, f.name, "personal_column", 0, f"{f.name} ({f.title})")
        for f in access.served_fields(schema)
        if PERSONAL_NAMES.search(f.name) or PERSONAL_NAMES.search(f.title)
    ]


def scan_dataset(session: Session, schema: ResourceSchema, sample_rows: int = 2000) -> list[Leak]:
    findings = personal_columns(schema)
    first = ds.keyset_page(session, schema, size=sample_rows).rows
    sampled = ds.random_sample(session, schema, sample_rows)
    # a row in both the first page and the random sample counts once
    rows = {tuple(r[k] for k in schema.primary_key): r for r in first + sampled}.values()
    for column in pd.scanned_fields(schema):
        hits: dict[Kind, list[str]] = {}
        for row in rows:
            if value := row[column]:
                for kind, found in pd.first_of_each(str(value)).items():
                    hits.setdefault(kind, []).append(found)
        findings += [
            Leak(schema.code, column, kind.value, len(values), pd.mask(kind, values[0]))
            for kind, values in hits.items()
        ]
    return findings


def scan(
    session: Session, schemas: Mapping[str, ResourceSchema], sample_rows: int = 2000
) -> list[Leak]:
    """Every open dataset the portal serves rows of."""
    findings: list[Leak] = []
    for resource in repo.listed(session):
        schema = schemas.get(resource.code)
        if access.data_is_open(resource.open_class) and schema and access.served_fields(schema):
            findings += scan_dataset(session, schema, sample_rows)
    return findings
