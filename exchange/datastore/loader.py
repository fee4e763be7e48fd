"""Load a batch into a resource's tables: stage, check keys, upsert, tombstone, record history.

Everything happens in the caller's transaction, so a batch is applied whole or not at all.
Rows are never inserted one by one: PostgreSQL gets a COPY into a temporary stage table and
set-based SQL from there; SQLite (the embedded default) gets executemany into the stage.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from dataclasses import dataclass

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import Column, Connection, MetaData, Table, Text, text
from sqlalchemy.schema import CreateTable

from exchange.datastore.tables import CHANGE_SEQ, ResourceTables, _data_columns

OP_COLUMN = "_op"
OPS = ("upsert", "delete")


@dataclass(frozen=True)
class LoadResult:
    rows: int
    inserted: int
    updated: int
    deleted: int
    unchanged: int
    first_seq: int | None
    last_seq: int | None


class DuplicateKeys(Exception):
    def __init__(self, keys: list[tuple[object, ...]], total: int) -> None:
        super().__init__(f"{total} primary key values occur more than once in the batch")
        self.keys = keys
        self.total = total


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class BatchLoader:
    """Use as: `loader.stage(rb)` for each record batch, then `loader.apply()`; one per batch."""

    def __init__(
        self,
        conn: Connection,
        tables: ResourceTables,
        *,
        batch_id: uuid.UUID,
        recorded_at: dt.datetime,
        valid_from: dt.datetime | None = None,
    ) -> None:
        self.conn = conn
        self.t = tables
        self.batch_id = str(batch_id)
        self.recorded_at = recorded_at
        self.valid_from = valid_from or recorded_at
        self.pg = conn.dialect.name == "postgresql"
        self.rows = 0
        self.stage_name = f"_stage_{uuid.uuid4().hex[:12]}"
        self._lock()
        self._create_stage()

    # -- staging ------------------------------------------------------------------------
    def _lock(self) -> None:
        # One writer per resource at a time keeps change numbers in commit order, so a change
        # feed reader paging by _seq never skips a row committed late.
        if self.pg:
            self.conn.execute(
                text("SELECT pg_advisory_xact_lock(hashtext(:k))"),
                {"k": f"ds:{self.t.schema.code}"},
            )

    def _create_stage(self) -> None:
        md = MetaData()
        cols = [*_data_columns(self.t.schema), Column(OP_COLUMN, Text), Column("_row", Text)]
        for c in cols:
            c.nullable = True
        kw = {"postgresql_on_commit": "DROP"} if self.pg else {}
        stage = Table(self.stage_name, md, *cols, prefixes=["TEMPORARY"], **kw)
        ddl = str(CreateTable(stage).compile(dialect=self.conn.dialect))
        ddl = ddl.replace('"_row" TEXT', '"_row" BIGINT')
        self.conn.exec_driver_sql(ddl)

    def stage(self, batch: pa.RecordBatch) -> None:
        """Add rows; `batch` has the resource's columns and optionally an `_op` column."""
        n = batch.num_rows
        if n == 0:
            return
        cols = [batch.column(name) for name in self.t.data_columns]
        if OP_COLUMN in batch.schema.names:
            ops = batch.column(OP_COLUMN).cast(pa.string())
            ops = pc.if_else(pc.is_null(ops), pa.scalar("upsert"), ops)
        else:
            ops = pa.array(["upsert"] * n, pa.string())
        rows = pa.array(range(self.rows, self.rows + n), pa.int64())
        table = pa.Table.from_arrays(
            [*cols, ops, rows], names=[*self.t.data_columns, OP_COLUMN, "_row"]
        )
        if self.pg:
            self._copy(table)
        else:
            self._insert_many(table)
        self.rows += n

    def _copy(self, table: pa.Table) -> None:
        buf = io.BytesIO()
        pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
        names = ", ".join(_q(c) for c in table.column_names)
        raw = self.conn.connection.dbapi_connection
        assert raw is not None
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {_q(self.stage_name)} ({names}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(buf.getbuffer())

    def _insert_many(self, table: pa.Table) -> None:
        names = table.column_names
        columns = []
        for col in table.columns:
            if pa.types.is_timestamp(col.type):
                col = pc.strftime(col, format="%Y-%m-%d %H:%M:%S.%f")
            elif pa.types.is_date(col.type) or pa.types.is_time(col.type):
                col = col.cast(pa.string())
            columns.append(col.to_pylist())
        marks = ", ".join("?" for _ in names)
        sql = f"INSERT INTO {_q(self.stage_name)} ({', '.join(map(_q, names))}) VALUES ({marks})"
        raw = self.conn.connection.dbapi_connection
        assert raw is not None
        cur = raw.cursor()
        cur.executemany(sql, zip(*columns, strict=True))
        cur.close()

    # -- checks ------------------------------------------------------------------------
    def duplicate_keys(self, limit: int = 20) -> tuple[list[tuple[object, ...]], int]:
        keys = ", ".join(_q(k) for k in self.t.key_columns)
        dup = f"SELECT {keys} FROM {_q(self.stage_name)} GROUP BY {keys} HAVING count(*) > 1"
        total = self.conn.execute(text(f"SELECT count(*) FROM ({dup}) d")).scalar_one()
        if not total:
            return [], 0
        rows = self.conn.execute(text(f"{dup} LIMIT {int(limit)}")).all()
        return [tuple(r) for r in rows], int(total)

    # -- apply -------------------------------------------------------------------------
    def apply(self) -> LoadResult:
        dups, total = self.duplicate_keys()
        if total:
            raise DuplicateKeys(dups, total)
        cur, hist, stage = _q(self.t.current.name), _q(self.t.history.name), _q(self.stage_name)
        data = self.t.data_columns
        keys = self.t.key_columns
        seq_before = self.conn.execute(
            text(f"SELECT COALESCE(MAX(_seq), 0) FROM {cur}")
        ).scalar_one()
        if self.pg:
            seq = f"nextval('{CHANGE_SEQ}')"
            same = "IS NOT DISTINCT FROM"
        else:
            seq = f"{int(seq_before)} + s._row + 1"
            same = "IS"
        join = " AND ".join(f"t.{_q(k)} = s.{_q(k)}" for k in keys)
        differs = " OR ".join(f"NOT (s.{_q(c)} {same} t.{_q(c)})" for c in data if c not in keys)
        changed = f"t.{_q(keys[0])} IS NULL OR t._deleted" + (f" OR {differs}" if differs else "")
        col_list = ", ".join(_q(c) for c in data)
        system = "_seq, _version, _deleted, _batch_id, _recorded_at"
        params = {"b": self.batch_id, "now": self.recorded_at}
        self.conn.execute(
            text(
                f"INSERT INTO {cur} ({col_list}, {system}) "
                f"SELECT {', '.join('s.' + _q(c) for c in data)}, {seq}, "
                f"COALESCE(t._version, 0) + 1, false, :b, :now "
                f"FROM {stage} s LEFT JOIN {cur} t ON {join} "
                f"WHERE s._op = 'upsert' AND ({changed}) "
                f"ON CONFLICT ({', '.join(_q(k) for k in keys)}) DO UPDATE SET "
                + ", ".join(
                    f"{_q(c)} = excluded.{_q(c)}"
                    for c in [*data, "_seq", "_version", "_deleted", "_batch_id", "_recorded_at"]
                    if c not in keys
                )
            ),
            params,
        )
        key_match = " AND ".join(f"{cur}.{_q(k)} = s.{_q(k)}" for k in keys)
        self.conn.execute(
            text(
                f"UPDATE {cur} SET _deleted = true, _version = {cur}._version + 1, "
                f"_seq = {seq}, _batch_id = :b, _recorded_at = :now "
                f"FROM {stage} s WHERE s._op = 'delete' AND {key_match} AND NOT {cur}._deleted"
            ),
            params,
        )
        self._record_history(int(seq_before))
        counts = dict(
            self.conn.execute(
                text(f"SELECT _action, count(*) FROM {hist} WHERE _seq > :s GROUP BY _action"),
                {"s": seq_before},
            ).all()
        )
        bounds = self.conn.execute(
            text(f"SELECT MIN(_seq), MAX(_seq) FROM {hist} WHERE _seq > :s"), {"s": seq_before}
        ).one()
        if not self.pg:
            self.conn.exec_driver_sql(f"DROP TABLE {stage}")
        changed_rows = sum(counts.values())
        return LoadResult(
            rows=self.rows,
            inserted=int(counts.get("insert", 0)),
            updated=int(counts.get("update", 0)),
            deleted=int(counts.get("delete", 0)),
            unchanged=self.rows - changed_rows,
            first_seq=bounds[0],
            last_seq=bounds[1],
        )

    def _record_history(self, seq_before: int) -> None:
        cur, hist = _q(self.t.current.name), _q(self.t.history.name)
        data = ", ".join(_q(c) for c in self.t.data_columns)
        keys = self.t.key_columns
        # Close the validity of the versions this batch supersedes (bitemporal history).
        same_key = " AND ".join(f"{hist}.{_q(k)} = c.{_q(k)}" for k in keys)
        self.conn.execute(
            text(
                f"UPDATE {hist} SET _valid_to = :vf WHERE _valid_to IS NULL AND EXISTS ("
                f"SELECT 1 FROM {cur} c WHERE c._seq > :s AND c._version > 1 AND {same_key})"
            ),
            {"vf": self.valid_from, "s": seq_before},
        )
        self.conn.execute(
            text(
                f"INSERT INTO {hist} (_seq, {data}, _version, _deleted, _batch_id, _recorded_at, "
                f"_action, _valid_from, _valid_to) "
                f"SELECT _seq, {data}, _version, _deleted, _batch_id, _recorded_at, "
                f"CASE WHEN _deleted THEN 'delete' WHEN _version = 1 THEN 'insert' "
                f"ELSE 'update' END, :vf, NULL FROM {cur} WHERE _seq > :s"
            ),
            {"vf": self.valid_from, "s": seq_before},
        )
