"""Parquet snapshots for bulk consumers, streamed from the database row group by row group.

* full: every current record (deleted ones left out), consistent with change number
  `cursor` (one REPEATABLE READ snapshot from first row to last);
* delta: every change after a cursor up to `cursor` (`_seq`, `_action`, `_version` + fields):
  what a consumer applies to its last full or delta to catch up, deletions included.

The response carries `X-Snapshot-Cursor`, the change number it is consistent with; pass it
to the next delta or to the events feed. Masking and granted fields are the API's.

The file is encoded by `core.arrow_io`, the registries' export files' encoder too.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
from sqlalchemy import Row, Select
from sqlalchemy.orm import Session

from exchange.core.arrow_io import parquet_stream
from exchange.core.resource_schema import ResourceSchema
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.records import query
from exchange.platforms.sharing.records import repository as repo
from exchange.platforms.sharing.records.service import apply_mask, audit_read, begin_read

BATCH_ROWS = 50_000


@dataclass
class Snapshot:
    resource: str
    kind: str
    rows: int
    cursor: str
    chunks: Iterator[bytes]


def _arrow_schema(
    schema: ResourceSchema, fields: Sequence[str], masked: set[str], meta: Sequence[pa.Field]
) -> pa.Schema:
    cols = [pa.field(f, pa.string() if f in masked else schema.field(f).arrow_type) for f in fields]
    return pa.schema([*meta, *cols], metadata={b"hub.resource": schema.code.encode()})


def _batches(
    stream_session: Session,
    stmt: Select[Any],
    to_row: Callable[[Row[Any]], dict[str, Any]],
    arrow: pa.Schema,
) -> Iterator[pa.RecordBatch]:
    for part in repo.stream(stream_session, stmt, BATCH_ROWS):
        rows = [to_row(r) for r in part]
        yield pa.RecordBatch.from_pylist(rows, schema=arrow)


def snapshot(
    session: Session,
    env: SharingEnv,
    ctx: ReadContext,
    stream_session: Session,
    code: str,
    *,
    after: str | None = None,
) -> Snapshot:
    """A full snapshot (after=None) or a delta after a cursor, audited before it streams.

    `stream_session` is the caller's second session, held open while the file is sent; the
    caller ends it when the stream ends. The read is audited in `session` with its exact row count.
    """
    repo.stable_view(stream_session)  # first: its transaction must start before the request's
    schema, grant = begin_read(session, env, ctx, code)
    after_seq = query.read_seq_cursor(env.cursor_key, code, after) if after is not None else None
    fields = grant.fields
    plan = query.mask_plan(schema, grant, fields)
    masked = {f for f, s in plan if s is not None}
    upto = repo.high_water(stream_session, schema)
    if after_seq is None:
        kind, rows = "full", repo.count_current(stream_session, schema)
        stmt = repo.snapshot_select(schema, fields)
        arrow = _arrow_schema(schema, fields, masked, [])

        def to_row(r: Row[Any]) -> dict[str, Any]:
            return apply_mask(r, plan, as_json=False)
    else:
        kind, rows = "delta", repo.count_changes(stream_session, schema, after_seq, upto)
        stmt = repo.delta_select(schema, fields, after_seq, upto)
        meta = [
            pa.field("_seq", pa.int64()),
            pa.field("_action", pa.string()),
            pa.field("_version", pa.int32()),
        ]
        arrow = _arrow_schema(schema, fields, masked, meta)

        def to_row(r: Row[Any]) -> dict[str, Any]:
            m = r._mapping
            head = {"_seq": m["_seq"], "_action": m["_action"], "_version": m["_version"]}
            return head | apply_mask(r, plan, as_json=False)

    env.quotas.take(grant, rows)  # the whole file counts against the day's rows, before it streams
    audit_read(session, env, ctx, grant, action=f"snapshot_{kind}", keys=[], rows=rows)
    chunks = parquet_stream(_batches(stream_session, stmt, to_row, arrow), arrow)
    cursor = query.seq_cursor(env.cursor_key, code, upto)
    return Snapshot(code, kind, rows, cursor, chunks)
