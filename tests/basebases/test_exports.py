"""Full snapshot + daily delta as Parquet with a manifest: previous + delta == next."""

from __future__ import annotations

import hashlib
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from sqlalchemy.orm import Session

from basebases import synthetic
from basebases.exports import Manifest, apply_delta, export_delta, export_full
from basebases.registry import REGISTRIES
from exchange.core.settings import Settings
from tests.builders import seed_city

pytestmark = pytest.mark.both_backends


def reader(table: pa.Table) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches())


def test_previous_snapshot_plus_delta_is_the_next_snapshot(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    seed_city(db, settings)
    population = REGISTRIES["population"]
    schema = population.schema
    people = synthetic.people(600, seed=11)
    assert population.load(db, reader(people.slice(0, 500))).accepted

    first = export_full(db.connection(), schema, tmp_path / "day1")
    assert first.rows == 500 and first.since_seq is None
    stored = (tmp_path / "day1" / first.file).read_bytes()
    assert hashlib.sha256(stored).hexdigest() == first.sha256
    assert Manifest.read(tmp_path / "day1" / first.file.replace(".parquet", ".json")) == first

    changed = people.slice(0, 10)
    changed = changed.set_column(
        changed.schema.get_field_index("address"),
        "address",
        pa.array([f"新地址{i}号" for i in range(10)]),
    )
    deleted = people.slice(10, 5).append_column("_op", pa.array(["delete"] * 5))
    assert population.load(db, reader(changed)).accepted
    assert population.load(db, reader(deleted)).accepted
    assert population.load(db, reader(people.slice(500, 100))).accepted

    delta = export_delta(db.connection(), schema, first.until_seq, tmp_path / "delta")
    assert delta.rows == 10 + 5 + 100 and delta.since_seq == first.until_seq
    second = export_full(db.connection(), schema, tmp_path / "day2")
    assert second.rows == 500 - 5 + 100 and second.until_seq == delta.until_seq

    previous = pq.read_table(tmp_path / "day1" / first.file)
    changes = pq.read_table(tmp_path / "delta" / delta.file)
    nxt = pq.read_table(tmp_path / "day2" / second.file)
    assert apply_delta(previous, changes, schema.primary_key).equals(nxt)


def test_a_snapshot_keeps_nulls_and_empty_strings_apart(
    db: Session, settings: Settings, tmp_path: Path
) -> None:
    seed_city(db, settings)
    people = synthetic.people(3, seed=12)
    people = people.set_column(
        people.schema.get_field_index("phone"), "phone", pa.array([None, "", "13800001234"])
    )
    REGISTRIES["population"].load(db, reader(people))
    m = export_full(db.connection(), REGISTRIES["population"].schema, tmp_path)
    phones = sorted(pq.read_table(tmp_path / m.file)["phone"].to_pylist(), key=str)
    assert phones == ["", "13800001234", None]
