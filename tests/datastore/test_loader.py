"""The batch loader's planner hygiene on PostgreSQL (its behaviour is tested through registries)."""

from __future__ import annotations

import pyarrow as pa
from sqlalchemy import text
from sqlalchemy.orm import Session

from basebases.synthetic import people
from tests.builders import load_rows


def believed_rows(db: Session, table: str) -> float:
    return db.execute(
        text("SELECT reltuples FROM pg_class WHERE oid = to_regclass(:t)"), {"t": table}
    ).scalar_one()


def test_a_big_batch_leaves_statistics_for_the_next_one(db: Session) -> None:
    # Without them the next batch was planned as if the tables were empty, and closing its
    # superseded versions scanned the whole history once per changed row.
    residents = people(3_000, seed=3)
    load_rows(db, "population", residents)
    assert believed_rows(db, "ds_population") >= 3_000
    assert believed_rows(db, "ds_population__hist") >= 3_000

    moved = residents.slice(0, 100)
    moved = moved.set_column(
        moved.schema.get_field_index("address"), "address", pa.array(["迁入新址"] * 100)
    )
    load_rows(db, "population", moved)
    open_versions = db.execute(
        text("SELECT count(*) FROM ds_population__hist WHERE _valid_to IS NULL")
    ).scalar_one()
    closed = db.execute(
        text("SELECT count(*) FROM ds_population__hist WHERE _valid_to IS NOT NULL")
    ).scalar_one()
    assert (open_versions, closed) == (3_000, 100)
