"""The batch loader's table layout and planner hygiene (behaviour is tested through registries)."""

from __future__ import annotations

import datetime as dt
import uuid
from typing import Any

import pyarrow as pa
import pytest
from sqlalchemy import Engine, event, text
from sqlalchemy.orm import Session

from basebases.synthetic import people
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.datastore.loader import BatchLoader
from exchange.datastore.tables import tables_for
from tests.builders import load_rows


def believed_rows(db: Session, table: str) -> float:
    return db.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    ).scalar_one()


def test_a_big_batch_leaves_statistics_for_the_next_one(db: Session) -> None:
    # Without them the next batch was planned as if the table were empty, and closing its
    # superseded versions scanned the whole history once per changed row.
    residents = people(3_000, seed=3)
    load_rows(db, "population", residents)
    assert believed_rows(db, "ds_population") >= 3_000


@pytest.mark.both_backends
def test_each_version_is_written_once(db: Session) -> None:
    residents = people(300, seed=3)
    load_rows(db, "population", residents)
    assert count(db, "ds_population__hist") == 0  # a first load writes the current table only

    moved = residents.slice(0, 100)
    moved = moved.set_column(
        moved.schema.get_field_index("address"), "address", pa.array(["迁入新址"] * 100)
    )
    load_rows(db, "population", moved)
    load_rows(db, "population", moved)  # the same values again: nothing to supersede
    assert count(db, "ds_population__hist") == 100
    assert count(db, "ds_population__hist", "_valid_to IS NOT NULL AND _version = 1") == 100
    assert count(db, "ds_population", "_version = 2 AND address = '迁入新址'") == 100
    assert count(db, "ds_population") == 300


def test_a_first_load_records_the_batch_and_its_times_exactly(db: Session) -> None:
    """The first load is copied straight into the table with its bookkeeping columns
    (on PostgreSQL: SQLite inserts through its stage)."""
    batch_id = uuid.uuid4()
    recorded = dt.datetime(2026, 3, 1, 8, 30, 15, 123456, tzinfo=dt.UTC)
    valid = dt.datetime(2026, 1, 1, tzinfo=dt.timezone(dt.timedelta(hours=8)))  # 北京时间
    loader = BatchLoader(
        db.connection(),
        tables_for(load_all(SCHEMAS_DIR)["population"]),
        batch_id=batch_id,
        recorded_at=recorded,
        valid_from=valid,
    )
    for rb in people(50, seed=4).to_batches():
        loader.stage(rb)
    assert loader.apply().inserted == 50
    rows = db.execute(
        text("SELECT DISTINCT _batch_id, _recorded_at, _valid_from, _version FROM ds_population")
    ).all()
    assert len(rows) == 1
    got_batch, got_recorded, got_valid, version = rows[0]
    assert (got_batch, got_recorded, got_valid, version) == (str(batch_id), recorded, valid, 1)


def test_a_sqlite_load_reaches_the_table_by_key_and_never_scans_it(sqlite_engine: Engine) -> None:
    # Scanning the current table per batch made every SQLite load as slow as the table was big
    # (2,000 updated rows into a 68k-row table: 24 s; 100k onto 100k: minutes).
    residents = people(400, seed=5)
    moved = residents.set_column(
        residents.schema.get_field_index("address"), "address", pa.array(["迁入新址"] * 400)
    )
    gone = residents.slice(0, 50).append_column("_op", pa.array(["delete"] * 50))
    plans: dict[str, list[str]] = {}

    def explain(_c: object, cursor: Any, sql: str, params: Any, _ctx: object, many: bool) -> None:
        if "_stage_" in sql and sql.lstrip().startswith(("INSERT", "UPDATE")) and not many:
            raw = cursor.connection.execute(f"EXPLAIN QUERY PLAN {sql}", params)
            plans[sql] = [row[-1] for row in raw.fetchall()]

    with sqlite_engine.connect() as conn:
        outer = conn.begin()
        with Session(conn) as db:
            load_rows(db, "population", residents)
            event.listen(conn, "before_cursor_execute", explain)
            load_rows(db, "population", moved)
            load_rows(db, "population", gone)
            event.remove(conn, "before_cursor_execute", explain)
            assert count(db, "ds_population", "_deleted") == 50
            assert count(db, "ds_population__hist") == 450
        outer.rollback()
    assert len(plans) >= 4  # archive and upsert, archive and delete
    for sql, plan in plans.items():
        scans = [step for step in plan if step.startswith("SCAN") and "_stage_" not in step]
        scans = [step for step in scans if step != "SCAN s"]
        assert not scans, (sql[:80], plan)


def count(db: Session, table: str, where: str = "true") -> int:
    return db.execute(text(f"SELECT count(*) FROM {table} WHERE {where}")).scalar_one()
