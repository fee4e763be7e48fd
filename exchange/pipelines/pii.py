"""The security pipeline's PII scan: every served text column of an open dataset, whole.

The detector is `exchange.quality.personal_data` (the portal's sample scan uses it too). On
PostgreSQL each dataset is scanned in one query inside the database; elsewhere (the small
embedded node) the rows are read and the same rules run in Python.
"""

from __future__ import annotations

from sqlalchemy import select, text
from sqlalchemy.orm import Session

from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.tables import current_name, tables_for
from exchange.quality import personal_data as pd
from exchange.quality import sql_checks as sqlc
from exchange.quality.personal_data import Kind, Leak


def scan_dataset(session: Session, schema: ResourceSchema) -> list[Leak]:
    columns = pd.scanned_fields(schema)
    if not columns:
        return []
    if session.get_bind().dialect.name == "postgresql":
        return _scan_in_database(session, schema, columns)
    return _scan_rows(session, schema, columns)


def _scan_in_database(session: Session, schema: ResourceSchema, columns: list[str]) -> list[Leak]:
    key = " || '|' || ".join(f"coalesce({sqlc.q(k)}::text, '')" for k in schema.primary_key)
    scans = [pd.SqlScan(col, i) for i, col in enumerate(columns)]
    extracted = [f"({key}) AS k", *(e for s in scans for e in s.extract())]
    measures: list[str] = []
    wanted = [(s, kind) for s in scans for kind in Kind]
    for j, (s, kind) in enumerate(wanted):
        cond, value = s.found(kind), sqlc.q(s.value(kind))
        measures += [
            f"count(*) FILTER (WHERE {cond}) AS c{j}",
            f"min({value}) FILTER (WHERE {cond}) AS v{j}",
            f"min(k) FILTER (WHERE {cond}) AS k{j}",
        ]
    sql = (
        f"SELECT {', '.join(measures)} FROM (SELECT {', '.join(extracted)} "
        f"FROM {sqlc.q(current_name(schema.code))} WHERE NOT _deleted) s"
    )
    row = session.execute(text(sql)).one()
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
    current = tables_for(schema).current
    keys = [current.c[k] for k in schema.primary_key]
    query = select(*keys, *(current.c[c] for c in columns)).where(current.c._deleted.is_(False))
    found: dict[tuple[str, Kind], list[tuple[str, str]]] = {}
    for row in session.execute(query):
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
