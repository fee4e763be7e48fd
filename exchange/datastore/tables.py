"""SQLAlchemy tables for resources, derived from their Table Schema.

Laid out like SQL:2011 system-versioned tables: `ds_<code>` holds the version in force of each
key (tombstones included), `ds_<code>__hist` the versions it superseded, each written once.
`versions` is their union: every version ever recorded, in change order by `_seq`.
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from functools import cached_property
from typing import Any

from sqlalchemy import (
    BigInteger,
    Boolean,
    Column,
    Connection,
    Date,
    DateTime,
    Double,
    Engine,
    Index,
    Integer,
    MetaData,
    PrimaryKeyConstraint,
    String,
    Table,
    Text,
    Time,
    case,
    cast,
    inspect,
    null,
    select,
    text,
    union_all,
)
from sqlalchemy.sql import Subquery
from sqlalchemy.types import TypeEngine

from exchange.core.db import NAMING_CONVENTION
from exchange.core.resource_schema import ResourceSchema

SQL_TYPES: dict[str, type[TypeEngine[Any]]] = {
    "string": Text,
    "integer": BigInteger,
    "number": Double,
    "boolean": Boolean,
    "date": Date,
    "time": Time,
    "year": Integer,
}


datastore_metadata = MetaData(naming_convention=NAMING_CONVENTION)


@dataclass(frozen=True)
class ResourceTables:
    schema: ResourceSchema
    current: Table
    history: Table

    @property
    def data_columns(self) -> list[str]:
        return self.schema.field_names

    @property
    def key_columns(self) -> list[str]:
        return list(self.schema.primary_key)

    @cached_property  # one object per table pair: SQLAlchemy then reuses its compiled SQL
    def versions(self) -> Subquery:
        """Every version of every key: the ones in force and those they superseded.

        Columns are the history table's; a filter on `_seq` reaches both tables' indexes.
        """
        cur, hist = self.current, self.history
        action = case((cur.c._deleted, "delete"), (cur.c._version == 1, "insert"), else_="update")
        derived = {"_action": action, "_valid_to": cast(null(), hist.c._valid_to.type)}
        in_force = select(
            *(
                (derived[c.name] if c.name in derived else cur.c[c.name]).label(c.name)
                for c in hist.c
            )
        )
        return union_all(in_force, select(hist)).subquery(f"{hist.name}_versions")


def _data_columns(schema: ResourceSchema) -> list[Column[Any]]:
    cols = []
    for f in schema.fields:
        sql_type = DateTime(timezone=True) if f.type == "datetime" else SQL_TYPES[f.type]()
        cols.append(Column(f.name, sql_type, nullable=not f.required))
    return cols


def current_name(code: str) -> str:
    return f"ds_{code}"


def history_name(code: str) -> str:
    return f"ds_{code}__hist"


_BUILT: dict[tuple[object, ...], ResourceTables] = {}
_BUILDING = threading.Lock()


def tables_for(schema: ResourceSchema) -> ResourceTables:
    key = (schema.code, schema.fields, schema.primary_key)
    found = _BUILT.get(key)
    if found is None:
        # Server threads meet here on their first request: build each table once, or
        # SQLAlchemy refuses the second definition of the same table.
        with _BUILDING:
            found = _BUILT.get(key) or _BUILT.setdefault(key, _build(schema))
    return found


def _build(schema: ResourceSchema) -> ResourceTables:
    name = current_name(schema.code)
    # A new version of a catalogued resource defines its tables anew: the previous
    # definitions leave the metadata (those still held by readers keep working as they are).
    for old in (name, history_name(schema.code)):
        if old in datastore_metadata.tables:
            datastore_metadata.remove(datastore_metadata.tables[old])
    current = Table(
        name,
        datastore_metadata,
        *_data_columns(schema),
        Column("_seq", BigInteger, nullable=False),
        Column("_version", Integer, nullable=False),
        Column("_deleted", Boolean, nullable=False),
        Column("_batch_id", String(36), nullable=False),
        Column("_recorded_at", DateTime(timezone=True), nullable=False),
        Column("_valid_from", DateTime(timezone=True), nullable=False),
        PrimaryKeyConstraint(*schema.primary_key, name=f"pk_{name}"),
        Index(f"ix_{name}__seq", "_seq", unique=True),
        *(
            Index(f"ix_{name}_{f.name}", f.name)
            for f in schema.fields
            if f.indexed and (f.name,) != schema.primary_key  # the key already has its index
        ),
        extend_existing=True,
    )
    hname = history_name(schema.code)
    history = Table(
        hname,
        datastore_metadata,
        Column("_seq", BigInteger, primary_key=True, autoincrement=False),
        *_data_columns(schema),
        Column("_version", Integer, nullable=False),
        Column("_deleted", Boolean, nullable=False),
        Column("_batch_id", String(36), nullable=False),
        Column("_recorded_at", DateTime(timezone=True), nullable=False),
        Column("_action", String(8), nullable=False),
        # Bitemporal: _recorded_at is when the hub learnt it; _valid_from/_valid_to when it
        # was true in the world (the provider may say so; else from the time it was recorded).
        # A superseded version's _valid_to is its successor's _valid_from.
        Column("_valid_from", DateTime(timezone=True), nullable=False),
        Column("_valid_to", DateTime(timezone=True), nullable=True),
        Index(f"ix_{hname}_key", *schema.primary_key, "_seq"),
        extend_existing=True,
    )
    return ResourceTables(schema, current, history)


class IncompatibleSchemaChange(Exception):
    pass


def sync_tables(bind: Engine | Connection, schemas: dict[str, ResourceSchema]) -> list[str]:
    """Create missing resource tables and add new optional columns; returns what changed.

    A change that would need a data migration (a type change, a new required column, a
    different primary key) is refused with the table and column named. Given a Connection,
    it runs in that connection's transaction.
    """
    if isinstance(bind, Connection):
        return _sync(bind, schemas)
    with bind.begin() as conn:
        return _sync(conn, schemas)


def _sync(conn: Connection, schemas: dict[str, ResourceSchema]) -> list[str]:
    changes: list[str] = []
    inspector = inspect(conn)
    existing = set(inspector.get_table_names())
    for schema in schemas.values():
        rt = tables_for(schema)
        for table in (rt.current, rt.history):
            if table.name not in existing:
                table.create(conn)
                changes.append(f"created {table.name}")
                continue
            have = {c["name"] for c in inspector.get_columns(table.name)}
            if table is rt.current and "_valid_from" not in have:
                _split_history(conn, rt)
                changes.append(f"moved {rt.history.name}'s versions in force to {table.name}")
                have.add("_valid_from")
            for col in table.columns:
                if col.name in have:
                    continue
                if not col.nullable:
                    raise IncompatibleSchemaChange(
                        f"{table.name}.{col.name}: a new required column needs a migration"
                    )
                ddl = col.type.compile(dialect=conn.dialect)
                conn.exec_driver_sql(f'ALTER TABLE "{table.name}" ADD COLUMN "{col.name}" {ddl}')
                changes.append(f"added {table.name}.{col.name}")
            pk = inspector.get_pk_constraint(rt.current.name)["constrained_columns"]
            if table is rt.current and list(pk) != list(schema.primary_key):
                raise IncompatibleSchemaChange(
                    f"{table.name}: primary key {pk} differs from schema {schema.primary_key}"
                )
    return changes


def _split_history(conn: Connection, rt: ResourceTables) -> None:
    """Upgrade a table pair from the layout where the history also held every current version.

    The history's open versions are exactly the current rows: the current table takes their
    valid-from time and the history keeps only what was superseded.
    """
    cur, hist = f'"{rt.current.name}"', f'"{rt.history.name}"'
    ddl = DateTime(timezone=True).compile(dialect=conn.dialect)
    conn.exec_driver_sql(f"ALTER TABLE {cur} ADD COLUMN _valid_from {ddl}")
    conn.execute(
        text(
            f"UPDATE {cur} SET _valid_from = COALESCE((SELECT h._valid_from FROM {hist} h "
            f"WHERE h._seq = {cur}._seq), _recorded_at)"
        )
    )
    conn.execute(text(f"DELETE FROM {hist} WHERE _valid_to IS NULL"))
    if conn.dialect.name == "postgresql":
        conn.exec_driver_sql(f"ALTER TABLE {cur} ALTER COLUMN _valid_from SET NOT NULL")
