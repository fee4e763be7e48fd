"""Cross-resource references checked against the database (the quality gate's ReferenceChecker).

A legal representative must be a person in the population registry, a division code must be in
the geospatial registry, ... Values are checked set-wise: one query per distinct-value set,
through a temporary table when the set is large.
"""

from __future__ import annotations

import uuid

import pyarrow as pa
from sqlalchemy import Connection, bindparam, text

from exchange.datastore.tables import current_name

IN_LIST_MAX = 1000


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class DatabaseReferences:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def missing(self, resource: str, field: str, values: pa.Array) -> pa.Array:
        wanted = [v for v in values.to_pylist() if v is not None]
        if not wanted:
            return pa.array([], values.type)
        table, col = _q(current_name(resource)), _q(field)
        if len(wanted) <= IN_LIST_MAX:
            found = self.conn.execute(
                text(f"SELECT {col} FROM {table} WHERE NOT _deleted AND {col} IN :vals").bindparams(
                    bindparam("vals", expanding=True)
                ),
                {"vals": wanted},
            ).scalars()
            present = set(found)
            return pa.array([v for v in wanted if v not in present], values.type)
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
            return pa.array(list(rows), pa.string()).cast(values.type)
        finally:
            self.conn.exec_driver_sql(f"DROP TABLE {temp}")
