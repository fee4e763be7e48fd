"""A first load on PostgreSQL goes into an unindexed twin that then replaces the empty table."""

from __future__ import annotations

import uuid
from typing import Any

import psycopg
from sqlalchemy import text
from sqlalchemy.orm import Session

from basebases.synthetic import people
from exchange.core.db import make_engine, utcnow
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.datastore.loader import BatchLoader
from exchange.datastore.tables import tables_for
from exchange.lifecycle import prepare_database
from exchange.testing.postgres import LocalPostgres
from tests.builders import load_rows


def shape(db: Session, table: str) -> dict[str, Any]:
    """What a reader or a later load relies on: columns, indexes, constraints."""

    def rows(sql: str) -> list[tuple[Any, ...]]:
        return [tuple(r) for r in db.execute(text(sql), {"t": table}).all()]

    return {
        "columns": rows(
            "SELECT column_name, data_type, is_nullable, column_default "
            "FROM information_schema.columns WHERE table_name = :t ORDER BY ordinal_position"
        ),
        "indexes": rows("SELECT indexdef FROM pg_indexes WHERE tablename = :t ORDER BY 1"),
        "constraints": rows(
            "SELECT conname, contype, pg_get_constraintdef(oid) FROM pg_constraint "
            "WHERE conrelid = to_regclass(:t) ORDER BY 1"
        ),
    }


def oid(db: Session, table: str) -> int:
    return db.execute(text("SELECT to_regclass(:t)::oid"), {"t": table}).scalar_one()


def test_the_twin_takes_the_tables_place_with_the_same_shape(db: Session) -> None:
    before, before_oid = shape(db, "ds_population"), oid(db, "ds_population")
    load_rows(db, "population", people(2_000, seed=8))
    assert oid(db, "ds_population") != before_oid  # swapped, not copied into in place
    assert shape(db, "ds_population") == before
    assert db.execute(text("SELECT count(*) FROM ds_population")).scalar_one() == 2_000
    leftovers = db.execute(text("SELECT count(*) FROM pg_class WHERE relname LIKE '\\_load\\_%'"))
    assert leftovers.scalar_one() == 0


def test_a_table_carrying_a_grant_is_loaded_in_place_and_keeps_it(db: Session) -> None:
    # A swap would drop what an operator attached to the table; such a table takes the stage.
    db.execute(text("CREATE ROLE hub_test_reporting NOLOGIN"))
    db.execute(text("GRANT SELECT ON ds_population TO hub_test_reporting"))
    before_oid = oid(db, "ds_population")
    load_rows(db, "population", people(500, seed=9))
    assert oid(db, "ds_population") == before_oid
    granted = "SELECT has_table_privilege('hub_test_reporting', 'ds_population', 'SELECT')"
    assert db.execute(text(granted)).scalar_one()
    assert db.execute(text("SELECT count(*) FROM ds_population")).scalar_one() == 500


def test_readers_are_not_held_up_and_see_the_rows_once_committed(pg_server: LocalPostgres) -> None:
    url = pg_server.create_database(f"first_load_{uuid.uuid4().hex[:8]}")
    engine = make_engine(url)
    schemas = load_all(SCHEMAS_DIR)
    prepare_database(engine, schemas)
    residents = people(3_000, seed=10)
    count = "SELECT count(*) FROM ds_population WHERE status = %s"
    dsn = url.replace("postgresql+psycopg", "postgresql")
    with psycopg.connect(dsn, autocommit=True) as reader:
        reader.execute("SET lock_timeout = '2s'")
        # Prepared on the server (as a pooled API worker's statements are) before the swap.
        assert reader.execute(count, ("living",), prepare=True).fetchone() == (0,)
        with engine.connect() as conn:
            loader = BatchLoader(
                conn, tables_for(schemas["population"]), batch_id=uuid.uuid4(), recorded_at=utcnow()
            )
            for rb in residents.to_batches(max_chunksize=1_000):
                loader.stage(rb)
            loader.settle()
            # Mid-load, the table is still the empty one, readable without waiting.
            assert reader.execute(count, ("living",), prepare=True).fetchone() == (0,)
            assert loader.apply().inserted == 3_000
            conn.commit()
        living = residents["status"].to_pylist().count("living")
        assert reader.execute(count, ("living",), prepare=True).fetchone() == (living,)
    engine.dispose()
