"""A version's table change, inside the publishing transaction.

A new resource's tables are created; an additive version adds nullable columns (a catalogue
change on PostgreSQL, no rewrite) and widens or relaxes columns. Each statement waits at most
LOCK_TIMEOUT for its lock: a long transaction holding the table makes the publish fail fast
(503, retry) rather than queue every reader and every batch behind it.
"""

from __future__ import annotations

from sqlalchemy import Connection

from exchange.catalogue.errors import BreakingChange
from exchange.catalogue.validation import Change
from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.tables import current_name, history_name, sync_tables, tables_for

LOCK_TIMEOUT = "2s"


def apply_change(
    conn: Connection, old: ResourceSchema | None, new: ResourceSchema, changes: list[Change]
) -> list[str]:
    postgres = conn.dialect.name == "postgresql"
    if postgres:
        conn.exec_driver_sql(f"SET LOCAL lock_timeout = '{LOCK_TIMEOUT}'")
    done: list[str] = []
    relaxed = [c for c in changes if c.kind == "relaxed"]
    if relaxed and not postgres:
        raise BreakingChange(
            new.code,
            [
                {
                    "field": relaxed[0].field,
                    "rule": "embedded_database",
                    "message": "SQLite cannot drop NOT NULL in place; keep the field required",
                }
            ],
        )
    done += sync_tables(conn, {new.code: new})
    if old is None or not postgres:
        return done  # SQLite stores any value in any column: a widened type needs nothing
    tables = tables_for(new)
    for change in changes:
        if change.kind not in ("widened", "relaxed"):
            continue
        for name in (current_name(new.code), history_name(new.code)):
            col = f'"{change.field}"'
            if change.kind == "widened":
                ddl = tables.current.c[change.field].type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(f'ALTER TABLE "{name}" ALTER COLUMN {col} TYPE {ddl}')
            else:
                conn.exec_driver_sql(f'ALTER TABLE "{name}" ALTER COLUMN {col} DROP NOT NULL')
            done.append(f"{change.kind} {name}.{change.field}")
    return done
