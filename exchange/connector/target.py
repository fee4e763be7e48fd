"""Writing deliveries into a department's own database: one table per resource, upserted by key.

The table is named after the resource and created if missing from the columns the first
delivery carries: a bulk delivery cut to a grant holds only the granted fields, and a masked
field arrives as text whatever its type (`330106********1234`). A delivery is applied in one
transaction: every row upserted by the primary key (`INSERT ... ON CONFLICT DO
UPDATE`, on PostgreSQL and SQLite), and rows marked `_op = 'delete'` deleted. Applying the same
delivery twice leaves the same table, which is what makes re-delivery after a crash harmless.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import sqlalchemy as sa
from sqlalchemy.dialects import postgresql, sqlite

from exchange.connector.inbox import Delivery, DeliveryError
from exchange.core.resource_schema import ResourceSchema
from exchange.core.row_ops import OP_COLUMN
from exchange.datastore.tables import SQL_TYPES

UPSERT_DIALECTS: dict[str, Callable[[sa.Table], postgresql.Insert | sqlite.Insert]] = {
    "postgresql": postgresql.insert,
    "sqlite": sqlite.insert,
}


def table_for(schema: ResourceSchema, delivered: pa.Schema) -> sa.Table:
    """The resource's table with the schema's fields that `delivered` carries."""
    columns = [
        sa.Column(
            f.name,
            _sql_type(f.type, delivered.field(f.name).type),
            primary_key=f.name in schema.primary_key,
            nullable=not f.required and f.name not in schema.primary_key,
        )
        for f in schema.fields
        if f.name in delivered.names
    ]
    return sa.Table(schema.code, sa.MetaData(), *columns)


def _sql_type(field_type: str, arrow_type: pa.DataType) -> sa.types.TypeEngine[Any]:
    if pa.types.is_string(arrow_type) or pa.types.is_large_string(arrow_type):
        return sa.Text()  # a string field, or one masked by the sender's grant
    if field_type == "datetime":
        return sa.DateTime(timezone=True)
    return SQL_TYPES[field_type]()


class TableSink:
    def __init__(self, url: str, schemas: dict[str, ResourceSchema]) -> None:
        self.engine = sa.create_engine(url)
        if self.engine.dialect.name not in UPSERT_DIALECTS:
            raise ValueError(
                f"target database {self.engine.dialect.name} is not supported: "
                f"use one of {', '.join(UPSERT_DIALECTS)}"
            )
        self.schemas = schemas
        self._tables: dict[tuple[str, tuple[str, ...]], sa.Table] = {}

    def close(self) -> None:
        self.engine.dispose()

    def _table(self, schema: ResourceSchema, delivered: pa.Schema) -> sa.Table:
        key = (schema.code, tuple(delivered.names))
        if key not in self._tables:
            table = table_for(schema, delivered)
            table.create(self.engine, checkfirst=True)
            self._tables[key] = table
        return self._tables[key]

    def write(self, delivery: Delivery, payload: Path) -> str:
        if delivery.resource not in self.schemas:
            raise DeliveryError(f"unknown resource {delivery.resource!r}: update schemas/")
        schema = self.schemas[delivery.resource]
        table_name = delivery.resource
        try:
            with pa.OSFile(str(payload), "rb") as fh:
                delivered = pa.ipc.open_stream(fh).schema
            _check_keys(schema, delivered)
            table = self._table(schema, delivered)
            table_name = table.name
            upsert = self._upsert(table, schema)
            delete = table.delete().where(
                *(table.c[k] == sa.bindparam(f"key_{k}") for k in schema.primary_key)
            )
            written = 0
            with self.engine.begin() as conn, pa.OSFile(str(payload), "rb") as fh:
                reader = pa.ipc.open_stream(fh)
                for rb in reader:
                    rows, keys = _split(rb, schema, [c.name for c in table.columns])
                    if rows:
                        conn.execute(upsert, rows)
                    if keys:
                        conn.execute(delete, keys)
                    written += rb.num_rows
        except (sa.exc.SQLAlchemyError, pa.ArrowInvalid, OSError) as exc:
            raise DeliveryError(f"writing to table {table_name}: {exc}") from None
        return f"table {table_name} ({written} rows)"

    def _upsert(self, table: sa.Table, schema: ResourceSchema) -> postgresql.Insert | sqlite.Insert:
        stmt = UPSERT_DIALECTS[self.engine.dialect.name](table)
        others = [c.name for c in table.columns if c.name not in schema.primary_key]
        if not others:
            return stmt.on_conflict_do_nothing(index_elements=list(schema.primary_key))
        return stmt.on_conflict_do_update(
            index_elements=list(schema.primary_key),
            set_={c: stmt.excluded[c] for c in others},
        )


def _check_keys(schema: ResourceSchema, got: pa.Schema) -> None:
    missing = [k for k in schema.primary_key if k not in got.names]
    if missing:
        raise DeliveryError(f"payload lacks the key column(s) {', '.join(missing)}")


def _split(
    rb: pa.RecordBatch, schema: ResourceSchema, columns: list[str]
) -> tuple[list[dict[str, Any]], list[dict[str, Any]]]:
    """Rows to upsert, and keys (as `key_<name>` parameters) of rows marked for deletion."""
    data = rb.select(columns)
    if OP_COLUMN not in rb.schema.names:
        return data.to_pylist(), []
    is_delete = pc.fill_null(pc.equal(rb.column(OP_COLUMN), "delete"), False)
    upserts = data.filter(pc.invert(is_delete)).to_pylist()
    gone = data.filter(is_delete).select(list(schema.primary_key)).to_pylist()
    return upserts, [{f"key_{k}": v for k, v in row.items()} for row in gone]
