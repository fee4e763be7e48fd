"""Deliveries written into a department's database, and into a folder: idempotent by design."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from exchange.connector.inbox import Delivery, DeliveryError, FolderSink
from exchange.connector.target import TableSink
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.testing.postgres import LocalPostgres

SCHEMAS = load_all(SCHEMAS_DIR)
SCHEMA = SCHEMAS["macro_indicator"]


@pytest.fixture(params=["sqlite", "postgresql"])
def target_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'target.db'}"
    pg: LocalPostgres = request.getfixturevalue("pg_server")
    return pg.create_database("connector_target")


def payload(path: Path, rows: list[tuple[str, float, str | None]]) -> Path:
    """An Arrow stream of macro_indicator rows (period, value, op)."""
    table = pa.table(
        {
            "indicator": ["GDP"] * len(rows),
            "division": ["330106000000"] * len(rows),
            "period": [r[0] for r in rows],
            "value": [r[1] for r in rows],
            "unit": ["亿元"] * len(rows),
            "source": [None] * len(rows),
            "_op": [r[2] for r in rows],
        }
    )
    target = SCHEMA.arrow_schema().append(pa.field("_op", pa.string()))
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, target) as w:
        w.write_table(table.cast(target), max_chunksize=1)  # one record batch per row
    return path


def delivery(batch_id: str) -> Delivery:
    return Delivery(1, batch_id, "macro_indicator", "0" * 64, None)


def rows(url: str) -> list[tuple[str, float]]:
    engine = sa.create_engine(url)
    with engine.connect() as conn:
        found = conn.execute(sa.text("SELECT period, value FROM macro_indicator ORDER BY period"))
        result = [(r[0], r[1]) for r in found]
    engine.dispose()
    return result


def test_a_delivery_is_upserted_by_key_and_applying_it_twice_changes_nothing(
    target_url: str, tmp_path: Path
) -> None:
    sink = TableSink(target_url, SCHEMAS)
    first = payload(tmp_path / "a.arrow", [("2022", 1.0, None), ("2023", 2.0, "upsert")])
    sink.write(delivery("a"), first)
    second = payload(tmp_path / "b.arrow", [("2023", 20.0, None), ("2022", 0.0, "delete")])
    sink.write(delivery("b"), second)
    sink.write(delivery("b"), second)  # re-delivered after a crash before the ack
    sink.close()
    assert rows(target_url) == [("2023", 20.0)]


def test_a_failing_delivery_leaves_the_table_as_it_was(target_url: str, tmp_path: Path) -> None:
    sink = TableSink(target_url, SCHEMAS)
    sink.write(delivery("a"), payload(tmp_path / "a.arrow", [("2022", 1.0, None)]))
    truncated = tmp_path / "t.arrow"
    good = payload(tmp_path / "full.arrow", [("2023", 2.0, None), ("2024", 3.0, None)])
    truncated.write_bytes(good.read_bytes()[:-40])
    with pytest.raises(DeliveryError):
        sink.write(delivery("t"), truncated)
    sink.close()
    assert rows(target_url) == [("2022", 1.0)]


def test_a_folder_delivery_is_replaced_whole_under_its_batch_id(tmp_path: Path) -> None:
    sink = FolderSink(tmp_path / "inbox")
    data = payload(tmp_path / "p.arrow", [("2022", 1.0, None)])
    first = sink.write(delivery("b1"), data)
    again = sink.write(delivery("b1"), data)
    assert first == again == str(tmp_path / "inbox" / "macro_indicator" / "b1.arrow")
    assert sorted(p.name for p in (tmp_path / "inbox" / "macro_indicator").iterdir()) == [
        "b1.arrow"
    ]
    assert Path(first).read_bytes() == data.read_bytes()


def test_a_delivery_cut_to_a_grant_makes_a_table_of_the_delivered_fields(
    target_url: str, tmp_path: Path
) -> None:
    """A masked grant's delivery: key in plain, a masked numeric field as text, others absent."""
    schema = pa.schema(
        [
            ("indicator", pa.string()),
            ("division", pa.string()),
            ("period", pa.string()),
            ("value", pa.string()),  # masked at the sender: "1****"
            ("_op", pa.string()),
        ]
    )
    path = tmp_path / "cut.arrow"
    table = pa.table(
        {
            "indicator": ["GDP", "GDP"],
            "division": ["330106000000"] * 2,
            "period": ["2022", "2023"],
            "value": ["1****", "2****"],
            "_op": [None, None],
        },
        schema=schema,
    )
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, schema) as w:
        w.write_table(table)
    sink_ = TableSink(target_url, SCHEMAS)
    sink_.write(delivery("cut"), path)
    sink_.write(delivery("cut"), path)
    sink_.close()
    engine = sa.create_engine(target_url)
    columns = [c["name"] for c in sa.inspect(engine).get_columns("macro_indicator")]
    engine.dispose()
    assert columns == ["indicator", "division", "period", "value"]
    assert rows(target_url) == [("2022", "1****"), ("2023", "2****")]


def test_a_delivery_without_its_key_columns_is_refused(target_url: str, tmp_path: Path) -> None:
    path = tmp_path / "nokey.arrow"
    table = pa.table({"indicator": ["GDP"], "value": [1.0]})
    with pa.OSFile(str(path), "wb") as sink, pa.ipc.new_stream(sink, table.schema) as w:
        w.write_table(table)
    sink_ = TableSink(target_url, SCHEMAS)
    with pytest.raises(DeliveryError, match=r"key column.*division, period"):
        sink_.write(delivery("nokey"), path)
    sink_.close()
