"""Full snapshots and delta files as Parquet with a manifest (Datafordeler's weekly + daily files).

A full snapshot records the change number it is consistent with (`until_seq`); a delta holds,
for every key changed in (since_seq, until_seq], its latest state or a tombstone (`_op`), so
previous snapshot + delta == next snapshot (`apply_delta`, and a test proves it).
"""

from __future__ import annotations

import datetime as dt
import json
import os
import threading
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Connection, text

from exchange.core.arrow_io import write_parquet
from exchange.core.db import psycopg_connection
from exchange.core.resource_schema import ResourceSchema
from exchange.core.row_ops import OP_COLUMN
from exchange.datastore.tables import current_name

CHUNK_ROWS = 100_000


@dataclass(frozen=True)
class Manifest:
    resource: str
    kind: str  # "full" | "delta"
    file: str
    rows: int
    sha256: str
    since_seq: int | None
    until_seq: int
    created_at: str

    def write(self, path: Path) -> None:
        path.write_text(json.dumps(asdict(self), ensure_ascii=False, indent=2))

    @classmethod
    def read(cls, path: Path) -> Manifest:
        return cls(**json.loads(path.read_text("utf-8")))


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _max_seq(conn: Connection, schema: ResourceSchema) -> int:
    sql = f"SELECT COALESCE(MAX(_seq), 0) FROM {_q(current_name(schema.code))}"
    return int(conn.execute(text(sql)).scalar_one())


def _batches(
    conn: Connection, sql: str, arrow: pa.Schema, params: dict[str, Any]
) -> pa.RecordBatchReader:
    """Rows of a query as Arrow batches: COPY ... TO STDOUT on PostgreSQL, fetches elsewhere."""
    if conn.dialect.name == "postgresql":
        return _copy_out(conn, sql, arrow, params)
    result = conn.execution_options(yield_per=CHUNK_ROWS).execute(text(sql), params)

    def fetch():
        for part in result.partitions():
            cols = list(zip(*part, strict=True)) if part else [[] for _ in arrow.names]
            # SQLite hands dates back as text: build plainly, then cast to the schema's type.
            yield pa.record_batch(
                [pa.array(c).cast(f.type) for c, f in zip(cols, arrow, strict=True)], schema=arrow
            )

    return pa.RecordBatchReader.from_batches(arrow, fetch())


def _copy_out(
    conn: Connection, sql: str, arrow: pa.Schema, params: dict[str, Any]
) -> pa.RecordBatchReader:
    """Stream COPY's CSV through a pipe into Arrow's C++ CSV reader: flat memory, no row loop."""
    raw = psycopg_connection(conn)
    read_fd, write_fd = os.pipe()
    failure: list[BaseException] = []

    def produce() -> None:
        try:
            with (
                os.fdopen(write_fd, "wb") as out,
                raw.cursor() as cur,
                cur.copy(f"COPY ({sql}) TO STDOUT (FORMAT csv)", params or None) as copy,
            ):
                for chunk in copy:
                    out.write(chunk)
        except BaseException as exc:  # surfaced to the reader's side below
            failure.append(exc)

    thread = threading.Thread(target=produce, name="copy-out", daemon=True)
    thread.start()
    reader = pacsv.open_csv(
        os.fdopen(read_fd, "rb"),
        read_options=pacsv.ReadOptions(column_names=arrow.names, block_size=1 << 22),
        convert_options=pacsv.ConvertOptions(
            column_types={f.name: f.type for f in arrow},
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,  # "" is an empty string, a bare field is NULL
            true_values=["t"],
            false_values=["f"],
        ),
    )

    def batches():
        yield from (b.cast(arrow) for b in reader)
        thread.join()
        if failure:
            raise failure[0]

    return pa.RecordBatchReader.from_batches(arrow, batches())


def export_full(conn: Connection, schema: ResourceSchema, out_dir: Path) -> Manifest:
    """Every current entity, ordered by key. Run it in one REPEATABLE READ transaction."""
    out_dir.mkdir(parents=True, exist_ok=True)
    until = _max_seq(conn, schema)
    cols = ", ".join(_q(c) for c in schema.field_names)
    keys = ", ".join(_q(k) for k in schema.primary_key)
    sql = f"SELECT {cols} FROM {_q(current_name(schema.code))} WHERE NOT _deleted ORDER BY {keys}"
    path = out_dir / f"{schema.code}-full-{until}.parquet"
    rows, sha = write_parquet(_batches(conn, sql, schema.arrow_schema(), {}), path)
    manifest = Manifest(schema.code, "full", path.name, rows, sha, None, until, _now())
    manifest.write(path.with_suffix(".json"))
    return manifest


def export_delta(
    conn: Connection, schema: ResourceSchema, since_seq: int, out_dir: Path
) -> Manifest:
    """The latest state (or tombstone) of each key changed after `since_seq`."""
    out_dir.mkdir(parents=True, exist_ok=True)
    until = _max_seq(conn, schema)
    cols = ", ".join(_q(c) for c in schema.field_names)
    keys = ", ".join(_q(k) for k in schema.primary_key)
    # A key changed after `since_seq` has its latest version, the one in force, numbered after
    # it: the delta is read from the current table alone.
    sql = (
        f"SELECT {cols}, CASE WHEN _deleted THEN 'delete' ELSE 'upsert' END "
        f"FROM {_q(current_name(schema.code))} WHERE _seq > {int(since_seq)} "
        f"AND _seq <= {int(until)} ORDER BY {keys}"
    )
    arrow = schema.arrow_schema().append(pa.field(OP_COLUMN, pa.string()))
    path = out_dir / f"{schema.code}-delta-{since_seq}-{until}.parquet"
    rows, sha = write_parquet(_batches(conn, sql, arrow, {}), path)
    manifest = Manifest(schema.code, "delta", path.name, rows, sha, since_seq, until, _now())
    manifest.write(path.with_suffix(".json"))
    return manifest


def apply_delta(snapshot: pa.Table, delta: pa.Table, keys: tuple[str, ...]) -> pa.Table:
    """The next snapshot: drop every key the delta touches, add the delta's upserts."""
    touched = _key_column(delta, keys)
    kept = snapshot.filter(pc.invert(pc.is_in(_key_column(snapshot, keys), value_set=touched)))
    upserts = delta.filter(pc.equal(delta[OP_COLUMN], "upsert")).drop_columns([OP_COLUMN])
    merged = pa.concat_tables([kept, upserts.cast(snapshot.schema)])
    return merged.sort_by([(k, "ascending") for k in keys])


def _key_column(table: pa.Table, keys: tuple[str, ...]) -> pa.Array:
    if len(keys) == 1:
        return table[keys[0]].cast(pa.string()).combine_chunks()
    parts = [table[k].cast(pa.string()) for k in keys]
    return pc.binary_join_element_wise(*parts, "\x1f").combine_chunks()


def _now() -> str:
    return dt.datetime.now(dt.UTC).isoformat()
