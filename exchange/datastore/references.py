"""Cross-resource references checked against the database (the quality gate's ReferenceChecker).

A legal representative must be a person in the population registry, a division code must be in
the geospatial registry, ... Values are checked set-wise: one query per distinct-value set,
through a temporary table when the set is large. A value found once is not asked for again
within the same checker (one batch): the record batches of a batch mostly name the same
divisions, so most of them need no query at all.
"""

from __future__ import annotations

import uuid
from collections.abc import Callable

import pyarrow as pa
from sqlalchemy import Connection, bindparam, text

from exchange.datastore.tables import current_name

IN_LIST_MAX = 1000
KNOWN_MAX = 100_000  # values remembered per referenced column


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DatabaseReferences:
    def __init__(self, conn: Connection, *, settle: Callable[[], None] = lambda: None) -> None:
        """`settle` is called before the connection is used (a loader may be copying on it)."""
        self.conn = conn
        self.settle = settle
        self._known: dict[tuple[str, str], set[object]] = {}

    def missing(self, resource: str, field: str, values: pa.Array) -> pa.Array:
        known = self._known.setdefault((resource, field), set())
        asked = [v for v in values.to_pylist() if v is not None and v not in known]
        if not asked:
            return pa.array([], values.type)
        self.settle()
        missing = self._missing(resource, field, asked, values.type)
        if len(known) < KNOWN_MAX:
            known.update(set(asked).difference(missing.to_pylist()))
        return missing

    def _missing(
        self, resource: str, field: str, wanted: list[object], type_: pa.DataType
    ) -> pa.Array:
        table, col = _q(current_name(resource)), _q(field)
        if len(wanted) <= IN_LIST_MAX:
            found = self.conn.execute(
                text(f"SELECT {col} FROM {table} WHERE NOT _deleted AND {col} IN :vals").bindparams(
                    bindparam("vals", expanding=True)
                ),
                {"vals": wanted},
            ).scalars()
            present = set(found)
            return pa.array([v for v in wanted if v not in present], type_)
        temp = _q(f"_refs_{uuid.uuid4().hex[:10]}")
        self.conn.exec_driver_sql(f"CREATE TEMPORARY TABLE {temp} (v TEXT PRIMARY KEY)")
        try:
            self.conn.execute(
                text(f"INSERT INTO {temp} (v) VALUES (:v)"),
                [{"v": str(v)} for v in wanted],
            )
            rows = self.conn.execute(
                text(
                    f"SELECT v FROM {temp} r WHERE NOT EXISTS (SELECT 1 FROM {table} t "
                    f"WHERE t.{col} = r.v AND NOT t._deleted)"
                )
            ).scalars()
            return pa.array(list(rows), pa.string()).cast(type_)
        finally:
            self.conn.exec_driver_sql(f"DROP TABLE {temp}")
