"""The security pipeline's PII scan: every served text column of an open dataset, whole.

The detector is `exchange.quality.personal_data` (the portal's sample scan uses it too). On
PostgreSQL each dataset is scanned in one query inside the database; elsewhere (the small
embedded node) the rows are read and the same rules run in Python.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.core.resource_schema import ResourceSchema
from exchange.pipelines import repository as repo
from exchange.quality import personal_data as pd
from exchange.quality.personal_data import Kind, Leak


def scan_dataset(session: Session, schema: ResourceSchema) -> list[Leak]:
    columns = pd.scanned_fields(schema)
    if not columns:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _scan_in_database(session, schema, columns)
    return _scan_rows(session, schema, columns)


def _scan_in_database(session: Session, schema: ResourceSchema, columns: list[str]) -> list[Leak]:
    scans = [pd.SqlScan(col, i) for i, col in enumerate(columns)]
    wanted = [(s, kind) for s in scans for kind in Kind]
    row = repo.pii_counts(session, schema, scans)
    return [
        Leak(
            schema.code,
            s.column,
            kind.value,
            int(row[3 * j]),
            pd.mask(kind, str(row[3 * j + 1])),
            pd.mask_key(row[3 * j + 2]),
        )
        for j, (s, kind) in enumerate(wanted)
        if row[3 * j]
    ]


def _scan_rows(session: Session, schema: ResourceSchema, columns: list[str]) -> list[Leak]:
    keys = schema.primary_key
    found: dict[tuple[str, Kind], list[tuple[str, str]]] = {}
    for row in repo.public_values(session, schema, columns):
        key = "|".join(str(v) for v in row[: len(keys)])
        for col, value in zip(columns, row[len(keys) :], strict=True):
            if isinstance(value, str):
                for kind, hit in pd.first_of_each(value).items():
                    found.setdefault((col, kind), []).append((hit, key))
    leaks = []
    for col in columns:
        for kind in Kind:
            if hits := found.get((col, kind)):
                value, key = hits[0]
                example, masked_key = pd.mask(kind, value), pd.mask_key(key)
                leaks.append(Leak(schema.code, col, kind.value, len(hits), example, masked_key))
    return leaks
