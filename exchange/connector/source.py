"""Polling a department's own database table by an increasing watermark column.

Each poll reads the rows past the cursor, in pages, ordered by (watermark, primary key), and
spools them as one batch of the resource (at most `max_rows`; the next poll goes on from there).

Ties. Many rows can share one watermark value (a timestamp set by one statement), and a row
with the latest value can still be committed after a poll has read it (same second, or the same
value from a slow transaction). `watermark > last` would skip such rows, and so would a
composite (watermark, key) cursor when the late row's key sorts lower. So a poll reads
`watermark >= last` and drops the rows it already sent *at* `last`: the cursor is the last value
plus the primary keys sent with exactly that value. That set stays small unless very many rows
share one value; it is kept in the state file.

What no watermark can see: rows with a NULL watermark (never read), and rows committed later
with a value *below* the cursor. The source must stamp rows at commit or from a sequence, the
usual contract for incremental extraction.

Durability. The state file holds `committed` (the cursor the hub has confirmed) and `pending`
(the batch in the outbox and the cursor it reaches). The cursor moves only once the batch's
acceptance is recorded in the connector folder, so a crash re-sends rows (the hub recognises
the same content by its batch id) and never skips any. While a batch is pending no new poll
happens, so outages do not pile up overlapping batches.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from decimal import Decimal
from itertools import chain
from pathlib import Path
from typing import Any

import pyarrow as pa
import sqlalchemy as sa
from sqlalchemy.engine import CursorResult, Row

from exchange.connector import outbox
from exchange.connector.config import outbox_dir
from exchange.connector.convert import BadValue, convert_batch
from exchange.connector.files import read_json, write_json
from exchange.connector.spool import SpooledBatch, spool
from exchange.core.resource_schema import ResourceSchema


class SourceError(Exception):
    """The source table cannot be read as the resource (missing column, bad value)."""


@dataclass(frozen=True)
class SourceSpec:
    url: str
    table: str
    watermark: str
    resource: str


@dataclass
class Cursor:
    value: Any
    keys: set[tuple[Any, ...]] = field(default_factory=set)

    def to_json(self) -> dict[str, Any]:
        return {"value": _encode(self.value), "keys": [[_encode(v) for v in k] for k in self.keys]}

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> Cursor:
        keys = {tuple(_decode(v) for v in k) for k in data["keys"]}
        return cls(_decode(data["value"]), keys)


@dataclass(frozen=True)
class SourceSettled:
    batch_id: str
    accepted: bool
    cursor: Cursor | None  # the committed cursor after this outcome
    reasons: dict[str, Any] | None


_TAGS: dict[str, type] = {
    "datetime": dt.datetime,
    "date": dt.date,
    "time": dt.time,
    "decimal": Decimal,
    "uuid": uuid.UUID,
}


def _encode(v: Any) -> Any:
    """JSON for a watermark or key value, tagged so it comes back as the same Python type."""
    if v is None or isinstance(v, bool | int | float | str):
        return v
    if isinstance(v, bytes):
        return {"hex": v.hex()}
    for tag, kind in _TAGS.items():  # datetime before date: it is a subclass
        if isinstance(v, kind):
            return {tag: v.isoformat() if hasattr(v, "isoformat") else str(v)}
    raise SourceError(f"cannot keep a {type(v).__name__} value in the cursor")


def _decode(v: Any) -> Any:
    if not isinstance(v, dict):
        return v
    (tag, text), *_ = v.items()
    if tag == "hex":
        return bytes.fromhex(text)
    kind = _TAGS[tag]
    return kind.fromisoformat(text) if hasattr(kind, "fromisoformat") else kind(text)


class _Tracker:
    """Drops rows already sent at the cursor's value and advances the cursor over the rest."""

    def __init__(self, start: Cursor | None, wm_index: int, key_index: Sequence[int]) -> None:
        self.cursor = Cursor(start.value, set(start.keys)) if start else None
        self.wm_index = wm_index
        self.key_index = key_index

    def take(self, rows: Sequence[Row[Any]]) -> list[Row[Any]]:
        kept = []
        for row in rows:
            value = row[self.wm_index]
            key = tuple(row[i] for i in self.key_index)
            if self.cursor is not None and value == self.cursor.value:
                if key in self.cursor.keys:
                    continue
                self.cursor.keys.add(key)
            else:
                self.cursor = Cursor(value, {key})
            kept.append(row)
        return kept


class SourcePoller:
    def __init__(
        self,
        spec: SourceSpec,
        connector_dir: Path,
        schema: ResourceSchema,
        *,
        page_rows: int = 10_000,
        max_rows: int = 500_000,
    ) -> None:
        self.spec = spec
        self.connector_dir = connector_dir
        self.schema = schema
        self.page_rows = page_rows
        self.max_rows = max_rows
        self.engine = sa.create_engine(spec.url)
        name = f"{spec.resource}.{spec.table}.{spec.watermark}.json"
        self.state_path = connector_dir / "sources" / name
        self._columns: list[str] | None = None

    def close(self) -> None:
        self.engine.dispose()

    def _state(self) -> tuple[Cursor | None, dict[str, Any] | None]:
        if not self.state_path.exists():
            return None, None
        data = read_json(self.state_path)
        committed = Cursor.from_json(data["committed"]) if data.get("committed") else None
        return committed, data.get("pending")

    def _save(self, committed: Cursor | None, pending: dict[str, Any] | None) -> None:
        write_json(
            self.state_path,
            {
                "table": self.spec.table,
                "watermark": self.spec.watermark,
                "resource": self.spec.resource,
                "committed": committed.to_json() if committed else None,
                "pending": pending,
            },
        )

    @property
    def cursor(self) -> Cursor | None:
        return self._state()[0]

    @property
    def waiting(self) -> bool:
        """A batch of this source is still in the outbox: do not read past it yet."""
        return self._state()[1] is not None

    def settle(self) -> SourceSettled | None:
        """Apply the recorded outcome of the pending batch: only acceptance moves the cursor."""
        committed, pending = self._state()
        if pending is None:
            return None
        batch_id = pending["batch_id"]
        fate = outbox.fate(self.connector_dir, batch_id)
        if fate == "pending":
            return None
        reasons = None
        if fate == "accepted":
            committed = Cursor.from_json(pending["cursor"])
        elif fate == "refused":
            reasons = outbox.refusal(self.connector_dir, batch_id)
        self._save(committed, None)
        return SourceSettled(batch_id, fate == "accepted", committed, reasons)

    def poll(self) -> SpooledBatch | None:
        """Spool the rows past the cursor as one batch (None if there are none, or if waiting)."""
        committed, pending = self._state()
        if pending is not None:
            return None
        columns = self._source_columns()
        fields = [f for f in self.schema.field_names if f in columns]
        read = [*fields, *([self.spec.watermark] if self.spec.watermark not in fields else [])]
        tracker = _Tracker(
            committed,
            read.index(self.spec.watermark),
            [read.index(k) for k in self.schema.primary_key],
        )
        with self.engine.connect() as conn:
            result = conn.execution_options(yield_per=self.page_rows).execute(
                self._query(read, committed)
            )
            batches = self._batches(result, tracker, fields)
            first = next(batches, None)
            if first is None:
                return None
            batch = spool(
                chain([first], batches),
                self.schema.arrow_schema(),
                outbox_dir(self.connector_dir),
                self.spec.resource,
                source=f"{self.spec.table} where {self.spec.watermark} >= "
                + ("(start)" if committed is None else repr(committed.value)),
            )
        assert tracker.cursor is not None
        self._save(committed, {"batch_id": batch.batch_id, "cursor": tracker.cursor.to_json()})
        return batch

    def _source_columns(self) -> list[str]:
        if self._columns is None:
            schema_name, _, table = self.spec.table.rpartition(".")
            found = sa.inspect(self.engine).get_columns(table, schema=schema_name or None)
            columns = [c["name"] for c in found]
            needed = {self.spec.watermark, *self.schema.primary_key}
            needed |= {f.name for f in self.schema.fields if f.required}
            missing = sorted(needed - set(columns))
            if missing:
                raise SourceError(
                    f"table {self.spec.table} lacks the column(s) {', '.join(missing)} "
                    f"(watermark, primary key and required fields of {self.schema.code})"
                )
            self._columns = columns
        return self._columns

    def _query(self, columns: list[str], after: Cursor | None) -> sa.Select[Any]:
        schema_name, _, name = self.spec.table.rpartition(".")
        # Untyped columns: values come back exactly as the driver gives them, so the cursor
        # compares equal to what the database holds (no re-formatting of dates as text).
        t = sa.table(name, *(sa.column(c) for c in columns), schema=schema_name or None)
        wm = t.c[self.spec.watermark]
        query = (
            sa.select(*(t.c[c] for c in columns))
            .where(wm.is_not(None))
            .order_by(wm, *(t.c[k] for k in self.schema.primary_key))
        )
        return query if after is None else query.where(wm >= after.value)

    def _batches(
        self, result: CursorResult[Any], tracker: _Tracker, fields: list[str]
    ) -> Iterator[pa.RecordBatch]:
        target = self.schema.arrow_schema()
        taken = 0
        for page in result.partitions(self.page_rows):
            rows = tracker.take(page)
            if rows:
                yield self._convert(rows, fields, target)
            taken += len(rows)
            if taken >= self.max_rows:
                return

    def _convert(
        self, rows: list[Row[Any]], fields: list[str], target: pa.Schema
    ) -> pa.RecordBatch:
        arrays = []
        for i, name in enumerate(fields):
            try:
                arrays.append(pa.array([row[i] for row in rows]))
            except (pa.ArrowInvalid, pa.ArrowTypeError) as exc:
                raise SourceError(
                    f"{self.spec.table}.{name}: values of mixed types ({exc})"
                ) from None
        raw = pa.RecordBatch.from_arrays(arrays, names=fields)
        try:
            return convert_batch(raw, self.schema, target)
        except BadValue as bad:
            where = f"{self.spec.table}"
            if bad.index is not None:
                row = rows[bad.index]
                key = {k: row[fields.index(k)] for k in self.schema.primary_key}
                where += f" row {key}"
            shown = "" if bad.value is None else f"{bad.value!r} "
            raise SourceError(f"{where}, field {bad.field}: {shown}{bad.problem}") from None
