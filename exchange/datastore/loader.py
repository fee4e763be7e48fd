"""Load a batch into a resource's tables: stage, check keys, upsert, tombstone, record history.

Everything happens in the caller's transaction, so a batch is applied whole or not at all.
Each version is written once: the new one to the current table, the one it supersedes moved
to the history (a first load of a million rows writes a million rows, not two million).
Rows are never inserted one by one: PostgreSQL gets a COPY into a temporary stage table and
set-based SQL from there (a resource's first load: a COPY into an unindexed twin of its table,
see `first_load`); SQLite (the embedded default) gets executemany into the stage.
"""

from __future__ import annotations

import datetime as dt
import io
import uuid
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
from sqlalchemy import BigInteger, Column, Connection, MetaData, Table, Text, text
from sqlalchemy.exc import DBAPIError
from sqlalchemy.schema import CreateTable

from exchange.core.db import psycopg_connection
from exchange.core.row_ops import OP_COLUMN
from exchange.datastore.first_load import FirstLoad
from exchange.datastore.tables import ResourceTables, _data_columns

CARDINALITY_VIOLATION = "21000"  # "ON CONFLICT DO UPDATE command cannot affect row a second time"
UNIQUE_VIOLATION = "23505"
SYSTEM = ("_seq", "_version", "_deleted", "_batch_id", "_recorded_at")
ACTION = "CASE WHEN _deleted THEN 'delete' WHEN _version = 1 THEN 'insert' ELSE 'update' END"


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


_FORMATTER = ThreadPoolExecutor(max_workers=2, thread_name_prefix="load-csv")


def _csv(table: pa.Table) -> memoryview:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
    return buf.getbuffer()


def _utc_text(t: dt.datetime) -> str:
    return (t if t.tzinfo else t.replace(tzinfo=dt.UTC)).isoformat()


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


class BatchLoader:
    """Use as: `loader.stage(rb)` for each record batch, then `loader.apply()`; one per batch.

    On PostgreSQL the COPYs run on a thread of the loader's own while the caller reads and
    checks the next record batch. The connection is the loader's until `settle()` returns:
    anything else that queries on it calls that first. `close()` (or leaving a `with`
    block) waits for the copies when a load is abandoned before `apply()`.
    """

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
        self.deletes = 0
        self.stage_name = f"_stage_{uuid.uuid4().hex[:12]}"
        self._lock()
        # A resource's first load (its table empty) is all inserts: on PostgreSQL its rows are
        # copied into a twin of the table with no stage, no join and no index to maintain.
        self.first = FirstLoad.plan(conn, self.t.current.name) if self._first_load() else None
        self.copied_direct = 0  # rows copied into the twin
        self._in_flight: list[Future[None]] = []
        self._copier: ThreadPoolExecutor | None = None
        if self.first is not None:
            self.first.create()
        else:
            self._create_stage()

    def __enter__(self) -> BatchLoader:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        """Wait for every copy still running; the connection is the caller's again."""
        if self._copier is not None:
            self._copier.shutdown(wait=True)
            self._copier = None

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
        cols = [*_data_columns(self.t.schema), Column(OP_COLUMN, Text), Column("_row", BigInteger)]
        for c in cols:
            c.nullable = True
        kw: dict[str, Any] = {"postgresql_on_commit": "DROP"} if self.pg else {}
        stage = Table(self.stage_name, md, *cols, prefixes=["TEMPORARY"], **kw)
        self.conn.exec_driver_sql(str(CreateTable(stage).compile(dialect=self.conn.dialect)))

    def stage(self, batch: pa.RecordBatch) -> None:
        """Add rows; `batch` has the resource's columns and optionally an `_op` column."""
        n = batch.num_rows
        if n == 0:
            return
        cols = [batch.column(name) for name in self.t.data_columns]
        if OP_COLUMN in batch.schema.names:
            ops = batch.column(OP_COLUMN).cast(pa.string())
            ops = pc.if_else(pc.is_null(ops), pa.scalar("upsert"), ops)
            self.deletes += int(pc.sum(pc.equal(ops, "delete")).as_py() or 0)
        else:
            ops = pa.array(["upsert"] * n, pa.string())
        rows = pa.array(range(self.rows, self.rows + n), pa.int64())
        table = pa.Table.from_arrays(
            [*cols, ops, rows], names=[*self.t.data_columns, OP_COLUMN, "_row"]
        )
        self.rows += n
        if not self.pg:
            self._insert_many(table)
            return
        # Two record batches at most are on their way: memory stays flat on any batch size.
        self._settle(keep=1)
        if self.first is not None:
            shaped, into = self._direct_rows(table), self.first.twin
            self.copied_direct += shaped.num_rows
        else:
            shaped, into = table, self.stage_name
        formatting = _FORMATTER.submit(_csv, shaped)
        if self._copier is None:
            self._copier = ThreadPoolExecutor(max_workers=1, thread_name_prefix="load-copy")
        self._in_flight.append(
            self._copier.submit(self._copy_job, formatting, shaped.column_names, into)
        )

    def settle(self) -> None:
        """Return once every staged record batch is in the database."""
        self._settle(keep=0)

    def _settle(self, keep: int) -> None:
        while len(self._in_flight) > keep:
            self._in_flight.pop(0).result()  # a failed copy raises here, in the caller

    def _copy_job(self, csv: Future[memoryview], names: list[str], into: str) -> None:
        """On the copier thread, in staging order, while the caller keeps off the connection."""
        self._copy(csv.result(), names, into)

    def _copy(self, csv: memoryview, names: list[str], into: str) -> None:
        raw = psycopg_connection(self.conn)
        columns = ", ".join(_q(c) for c in names)
        with (
            raw.cursor() as cur,
            cur.copy(f"COPY {_q(into)} ({columns}) FROM STDIN (FORMAT csv)") as copy,
        ):
            copy.write(csv)

    # -- first load: into a twin of the table --------------------------------------------
    def _first_load(self) -> bool:
        if not self.pg:
            return False
        cur, hist = _q(self.t.current.name), _q(self.t.history.name)
        return self.conn.execute(
            text(f"SELECT NOT EXISTS (SELECT 1 FROM {cur}) AND NOT EXISTS (SELECT 1 FROM {hist})")
        ).scalar_one()

    def _direct_rows(self, staged: pa.Table) -> pa.Table:
        """A batch's upserts as version 1 rows of the empty table.

        Deletes are dropped: nothing exists yet to delete, as in the staged path.
        """
        upserts = staged.filter(pc.equal(staged[OP_COLUMN], "upsert"))
        n = upserts.num_rows
        table = upserts.select(self.t.data_columns)
        system = {
            "_seq": pc.add(upserts["_row"], 1),  # the table is empty: the sequence starts at 1
            "_version": pa.repeat(pa.scalar(1, pa.int32()), n),
            "_deleted": pa.repeat(False, n),
            "_batch_id": pa.repeat(self.batch_id, n),
            # As text: the CSV writer formats a timestamp column ten times slower than the
            # whole rest of a row (2.6 s per million rows), for one value repeated.
            "_recorded_at": pa.repeat(_utc_text(self.recorded_at), n),
            "_valid_from": pa.repeat(_utc_text(self.valid_from), n),
        }
        for name, column in system.items():
            table = table.append_column(name, column)
        return table

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
        cur.executemany(sql, list(zip(*columns, strict=True)))
        cur.close()

    # -- checks ------------------------------------------------------------------------
    def duplicate_keys(self, limit: int = 20) -> tuple[list[tuple[object, ...]], int]:
        keys = ", ".join(_q(k) for k in self.t.key_columns)
        held_in = self.first.twin if self.first is not None else self.stage_name
        dup = f"SELECT {keys} FROM {_q(held_in)} GROUP BY {keys} HAVING count(*) > 1"
        total = self.conn.execute(text(f"SELECT count(*) FROM ({dup}) d")).scalar_one()
        if not total:
            return [], 0
        rows = self.conn.execute(text(f"{dup} LIMIT {int(limit)}")).all()
        return [tuple(r) for r in rows], int(total)

    # -- apply -------------------------------------------------------------------------
    def apply(self) -> LoadResult:
        self.settle()
        self.close()
        cur = _q(self.t.current.name)
        # Change numbers continue this table's own sequence; the per-resource lock taken in
        # __init__ makes them follow commit order, which is what change-feed cursors rely on.
        base = 0 if self.first is not None else self._max_seq()
        stale = self.pg and self._stale_statistics()
        if self.first is not None:  # every row is in the twin, and all are inserts
            self._index_and_swap(self.first)
            counts = {"insert": self.copied_direct} if self.copied_direct else {}
        else:
            self._apply_staged(base)
            counts = dict(
                self.conn.execute(
                    text(f"SELECT {ACTION}, count(*) FROM {cur} WHERE _seq > :s GROUP BY 1"),
                    {"s": base},
                ).all()
            )
        last = self._max_seq()
        if not self.pg:
            self.conn.exec_driver_sql(f"DROP TABLE {_q(self.stage_name)}")
        elif stale:
            # This batch changed the table's size a lot: refresh its statistics now rather
            # than let the next batch be planned before autovacuum gets round to it.
            for table in (self.t.current.name, self.t.history.name):
                self.conn.exec_driver_sql(f"ANALYZE {_q(table)}")
        changed_rows = sum(counts.values())
        return LoadResult(
            rows=self.rows,
            inserted=int(counts.get("insert", 0)),
            updated=int(counts.get("update", 0)),
            deleted=int(counts.get("delete", 0)),
            unchanged=self.rows - changed_rows,
            first_seq=base + 1 if changed_rows else None,
            last_seq=last if changed_rows else None,
        )

    def _index_and_swap(self, first: FirstLoad) -> None:
        self._refused_as_duplicates(UNIQUE_VIOLATION, first.build_indexes)
        first.swap()

    def _refused_as_duplicates(self, sqlstate: str, work: Callable[[], None]) -> None:
        """`work` in a savepoint; the database refusing it with `sqlstate` (a key the batch
        holds twice) becomes DuplicateKeys naming every repeated key."""
        attempt = self.conn.begin_nested()
        try:
            work()
        except DBAPIError as exc:
            if getattr(exc.orig, "sqlstate", None) != sqlstate:
                raise
            attempt.rollback()
            raise DuplicateKeys(*self.duplicate_keys()) from None
        attempt.commit()

    def _apply_staged(self, base: int) -> None:
        if self.pg:
            # Temporary tables are never auto-analysed; without row counts for the stage the
            # planner guessed a few rows and joined the history by a nested loop over all of
            # it (a 10k-row update of a 1M-row registry ran for 13 minutes instead of 1 s).
            self.conn.exec_driver_sql(f"ANALYZE {_q(self.stage_name)}")
        if self.pg and not self.deletes:
            # PostgreSQL refuses an upsert that touches one key twice, so the happy path needs
            # no separate duplicate scan; the refusal is turned into the same finding.
            self._refused_as_duplicates(CARDINALITY_VIOLATION, lambda: self._upsert(base))
        else:
            dups, total = self.duplicate_keys()
            if total:
                raise DuplicateKeys(dups, total)
            self._upsert(base)
        self._delete(self._max_seq())

    def _stale_statistics(self) -> bool:
        """True when this batch is big next to the row count the planner has for the table."""
        believed = self.conn.execute(
            text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"),
            {"t": _q(self.t.current.name)},
        ).scalar()
        return self.rows >= 1_000 and (believed is None or self.rows > max(believed, 0) / 5)

    def _max_seq(self) -> int:
        cur = _q(self.t.current.name)
        return int(
            self.conn.execute(text(f"SELECT COALESCE(MAX(_seq), 0) FROM {cur}")).scalar_one()
        )

    def _cols(self, prefix: str = "") -> str:
        return ", ".join(prefix + _q(c) for c in self.t.data_columns)

    def _differs(self, a: str, b: str) -> str:
        """SQL true when a row of `a` carries other values than the row of `b` (NULL-safe)."""
        same = "IS NOT DISTINCT FROM" if self.pg else "IS"
        values = [c for c in self.t.data_columns if c not in self.t.key_columns]
        return " OR ".join(f"NOT ({a}.{_q(c)} {same} {b}.{_q(c)})" for c in values) or "false"

    def _archive(self, op: str, when: str) -> None:
        """Copy the versions this batch supersedes into the history, closed at valid-from.

        `when` says, over stage row `s` and current row `t`, which keys the batch changes.
        On PostgreSQL EXISTS, not a join: a version is archived once even when the key repeats
        in the stage (the upsert then refuses the batch and the savepoint takes this back).
        SQLite has refused repeated keys before this runs, so it joins from the stage into the
        table's key index (CROSS JOIN fixes that order): the work follows the batch, where
        EXISTS scanned the whole table for every batch.
        """
        cur, hist, stage = _q(self.t.current.name), _q(self.t.history.name), _q(self.stage_name)
        match = " AND ".join(f"s.{_q(k)} = t.{_q(k)}" for k in self.t.key_columns)
        if self.pg:
            source = (
                f"{cur} t WHERE EXISTS ("
                f"SELECT 1 FROM {stage} s WHERE s._op = '{op}' AND {match} AND ({when}))"
            )
        else:
            source = f"{stage} s CROSS JOIN {cur} t ON {match} WHERE s._op = '{op}' AND ({when})"
        self.conn.execute(
            text(
                f"INSERT INTO {hist} (_seq, {self._cols()}, _version, _deleted, _batch_id, "
                f"_recorded_at, _action, _valid_from, _valid_to) "
                f"SELECT t._seq, {self._cols('t.')}, t._version, t._deleted, t._batch_id, "
                f"t._recorded_at, {ACTION}, t._valid_from, :vf FROM {source}"
            ),
            {"vf": self.valid_from},
        )

    def _upsert(self, base: int) -> None:
        cur, stage = _q(self.t.current.name), _q(self.stage_name)
        keys = [_q(k) for k in self.t.key_columns]
        self._archive("upsert", f"t._deleted OR {self._differs('s', 't')}")
        changed = f"t.{keys[0]} IS NULL OR t._deleted OR {self._differs('s', 't')}"
        join = " AND ".join(f"t.{k} = s.{k}" for k in keys)
        system = [*SYSTEM, "_valid_from"]
        updates = ", ".join(
            f"{c} = excluded.{c}" for c in [*map(_q, self.t.data_columns), *system] if c not in keys
        )
        self.conn.execute(
            text(
                f"INSERT INTO {cur} ({self._cols()}, {', '.join(system)}) "
                # Change numbers follow the batch's own row order (gaps where a row changed
                # nothing): no sort of a million text keys under a collation.
                f"SELECT {self._cols('s.')}, :base + s._row + 1, "
                f"COALESCE(t._version, 0) + 1, false, :b, :now, :vf "
                f"FROM {stage} s LEFT JOIN {cur} t ON {join} "
                f"WHERE s._op = 'upsert' AND ({changed}) "
                f"ON CONFLICT ({', '.join(keys)}) DO UPDATE SET {updates}"
            ),
            {"base": base, "b": self.batch_id, "now": self.recorded_at, "vf": self.valid_from},
        )

    def _delete(self, base: int) -> None:
        if not self.deletes:
            return
        cur, stage = _q(self.t.current.name), _q(self.stage_name)
        self._archive("delete", "NOT t._deleted")
        match = " AND ".join(f"{cur}.{_q(k)} = s.{_q(k)}" for k in self.t.key_columns)
        self.conn.execute(
            text(
                f"UPDATE {cur} SET _deleted = true, _version = {cur}._version + 1, "
                f"_seq = :base + s._row + 1, _batch_id = :b, _recorded_at = :now, "
                f"_valid_from = :vf "
                f"FROM {stage} s WHERE s._op = 'delete' AND {match} AND NOT {cur}._deleted"
            ),
            {"base": base, "b": self.batch_id, "now": self.recorded_at, "vf": self.valid_from},
        )
