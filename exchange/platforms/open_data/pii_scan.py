"""Proof that open datasets publish no personal data: a scan of what the portal serves.

Schemas decide which fields are served (`sensitivity: public`), but a public free-text field
can still carry a phone number or an identity number typed in by a clerk. The scan reads what
a visitor could download (the served columns of every open dataset, the first rows by key and
a random sample) and reports each value that looks personal, masked. `hub check security`
runs it; a finding means the provider must fix the data or the schema.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core.resource_schema import ResourceSchema
from exchange.platforms.open_data import access
from exchange.platforms.open_data import datastore as ds
from exchange.platforms.open_data import repository as repo

RIC = re.compile(r"(?<![0-9A-Za-z])\d{17}[\dXx](?![0-9A-Za-z])")
MOBILE = re.compile(r"(?<![0-9])1[3-9]\d{9}(?![0-9])")
EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
PERSONAL_NAMES = re.compile(
    r"身份证|证件号|手机|电话|联系方式|住址|姓名|id_?number|phone|mobile|e-?mail|passport",
    re.IGNORECASE,
)
_WEIGHTS = (7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2)


@dataclass(frozen=True)
class Finding:
    dataset: str
    column: str
    kind: str  # resident_id | mobile_phone | email | personal_column
    example: str  # masked
    count: int  # values found in the sample


def ric_checksum_ok(number: str) -> bool:
    """GB 11643 (ISO 7064 MOD 11-2); the region is not checked, so synthetic ids count too."""
    total = sum(int(d) * w for d, w in zip(number[:17], _WEIGHTS, strict=True))
    return "10X98765432"[total % 11] == number[17].upper()


def mask(kind: str, value: str) -> str:
    if kind == "resident_id":
        return value[:6] + "*" * 8 + value[-4:]
    if kind == "mobile_phone":
        return value[:3] + "****" + value[-4:]
    if kind == "email":
        name, _, domain = value.partition("@")
        return name[:1] + "***@" + domain
    return value


def redact(text: str) -> str:
    """`text` with identity numbers, mobile numbers and e-mail addresses masked, for showing
    what visitors wrote (they sometimes leave their own number in a report)."""
    for kind, found in sorted(set(_matches(text, False)), key=lambda m: -len(m[1])):
        text = text.replace(found, mask(kind, found))
    return text


def _matches(text: str, exempt_ric: bool) -> Iterable[tuple[str, str]]:
    if not exempt_ric:
        for m in RIC.finditer(text):
            if ric_checksum_ok(m.group(0)):
                yield "resident_id", m.group(0)
    for m in MOBILE.finditer(text):
        yield "mobile_phone", m.group(0)
    for m in EMAIL.finditer(text):
        yield "email", m.group(0)


def personal_columns(schema: ResourceSchema) -> list[Finding]:
    """Served columns whose name or title says they hold personal data."""
    return [
        Finding(schema.code, f.name, "personal_column", f"{f.name} ({f.title})", 0)
        for f in access.served_fields(schema)
        if PERSONAL_NAMES.search(f.name) or PERSONAL_NAMES.search(f.title)
    ]


def scan_dataset(
    session: Session, schema: ResourceSchema, sample_rows: int = 2000
) -> list[Finding]:
    served = access.served_fields(schema)
    findings = personal_columns(schema)
    rows = ds.keyset_page(session, schema, size=sample_rows).rows
    rows += ds.random_sample(session, schema, sample_rows)
    for f in served:
        if f.type != "string":
            continue
        # A unified social credit code is an organisation's id, not a person's.
        exempt = f.check == "cn_uscc"
        hits: dict[str, list[str]] = {}
        for row in rows:
            value = row[f.name]
            if value:
                for kind, found in _matches(str(value), exempt):
                    hits.setdefault(kind, []).append(found)
        findings += [
            Finding(schema.code, f.name, kind, mask(kind, values[0]), len(values))
            for kind, values in hits.items()
        ]
    return findings


def scan(
    session: Session, schemas: Mapping[str, ResourceSchema], sample_rows: int = 2000
) -> list[Finding]:
    """Every open dataset the portal serves rows of."""
    findings: list[Finding] = []
    for resource in repo.listed(session):
        schema = schemas.get(resource.code)
        if access.data_is_open(resource.open_class) and schema and access.served_fields(schema):
            findings += scan_dataset(session, schema, sample_rows)
    return findings
