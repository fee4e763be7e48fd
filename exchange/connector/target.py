"""Writing deliveries into a department's own database: one table per resource, upserted by key.

The table is named after the resource and created from its schema if missing. A delivery is
applied in one transaction: every row upserted by the primary key (`INSERT ... ON CONFLICT DO
UPDATE`, on PostgreSQL and SQLite), and rows marked `_op = 'delete'` deleted. Applying the same
delivery twice leaves the same table, which is what makes re-delivery after a crash harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from exchange.connector.inbox import Delivery, DeliveryError
from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.tables import SQL_TYPES

OP_COLUMN = "_op"
UPSERT_DIALECTS: dict[str, Callable[[sa.Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def table_for(schema: ResourceSchema, metadata: sa.MetaData) -> sa.Table:
    columns = [
        sa.Column(
            f.name,
            sa.DateTime(timezone=True) if f.type == "datetime" else SQL_TYPES[f.type](),
            primary_key=f.name in schema.primary_key,
            nullable=not f.required and f.name not in schema.primary_key,
        )
        for f in schema.fields
    ]
    return sa.Table(schema.code, metadata, *columns)


class TableSink:
    def __init__(self, url: str, schemas: dict[str, ResourceSchema]) -> None:
        self.engine = sa.create_engine(url)
        if self.engine.dialect.name not in UPSERT_DIALECTS:
            raise ValueError(
                f"target database {self.engine.dialect.name} is not supported: "
                f"use one of {', '.join(UPSERT_DIALECTS)}"
            )
        self.schemas = schemas
        self.metadata = sa.MetaData()
        self._tables: dict[str, sa.Table] = {}

    def close(self) -> None:
        self.engine.dispose()

    def _table(self, resource: str) -> sa.Table:
        if resource not in self._tables:
            table = table_for(self.schemas[resource], self.metadata)
            table.create(self.engine, checkfirst=True)
            self._tables[resource] = table
        return self._tables[resource]

    def write(self, delivery: Delivery, payload: Path) -> str:
        if delivery.resource not in self.schemas:
            raise DeliveryError(f"unknown resource {delivery.resource!r}: update schemas/")
        schema = self.schemas[delivery.resource]
        try:
            table = self._table(delivery.resource)
            upsert = self._upsert(table, schema)
            delete = table.delete().where(
                *(table.c[k] == sa.bindparam(f"key_{k}") for k in schema.primary_key)
            )
            written = 0
            with self.engine.begin() as conn, pa.OSFile(str(payload), "rb") as fh:
                reader = pa.ipc.open_stream(fh)
                _check_columns(schema, reader.schema)
                for rb in reader:
                    rows, keys = _split(rb, schema)
                    if rows:
                        conn.execute(upsert, rows)
                    if keys:
                        conn.execute(delete, keys)
                    written += rb.num_rows
        except (sa.exc.SQLAlchemyError, pa.ArrowInvalid, OSError) as exc:
            raise DeliveryError(f"writing to table {delivery.resource}: {exc}") from None
        return f"table {table.name} ({written} rows)"

    def _upsert(self, table: sa.Table, schema: ResourceSchema) -> postgresql.Insert | sqlite.Insert:
        stmt = UPSERT_DIALECTS[self.engine.dialect.name](table)
        others = [c for c in schema.field_names if c not in schema.primary_key]
        if not others:
            return stmt.on_conflict_do_nothing(index_elements=list(schema.primary_key))
        return stmt.on_conflict_do_update(
            index_elements=list(schema.primary_key),
            set_={c: stmt.excluded[c] for c in others},
        )


def _check_columns(schema: ResourceSchema, got: pa.Schema) -> None:
    missing = [f for f in schema.field_names if f not in got.names]
    if missing:
        raise DeliveryError(f"payload lacks the column(s) {', '.join(missing)}")


def _split(rb: pa.RecordBatch, schema: ResourceSchema) -> tuple[list[dict], list[dict]]:
    """Rows to upsert, and keys (as `key_<name>` parameters) of rows marked for deletion."""
    data = rb.select(schema.field_names)
    if OP_COLUMN not in rb.schema.names:
        return data.to_pylist(), []
    is_delete = pc.fill_null(pc.equal(rb.column(OP_COLUMN), "delete"), False)
    upserts = data.filter(pc.invert(is_delete)).to_pylist()
    gone = data.filter(is_delete).select(list(schema.primary_key)).to_pylist()
    return upserts, [{f"key_{k}": v for k, v in row.items()} for row in gone]
