"""Polling a source table by watermark: ties, pages, and the cursor moving only on acceptance.

The hub is played by the connector folder: a batch counts as accepted once `outbox.mark_sent`
has recorded it, exactly what the runner does when the hub answers 201.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from pathlib import Path

import pyarrow as pa
import pytest
import sqlalchemy as sa

from exchange.connector import outbox
from exchange.connector.source import Cursor, SourceError, SourcePoller, SourceSpec
from exchange.connector.spool import SpooledBatch
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.testing.postgres import LocalPostgres

SCHEMA = load_all(SCHEMAS_DIR)["macro_indicator"]
T0 = dt.datetime(2024, 5, 1, 8, 0, tzinfo=dt.UTC)


@pytest.fixture(params=["sqlite", "postgresql"])
def source_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'source.db'}"
    pg: LocalPostgres = request.getfixturevalue("pg_server")
    return pg.create_database("connector_source")


@pytest.fixture
def source(source_url: str) -> Iterator[sa.Engine]:
    engine = sa.create_engine(source_url)
    with engine.begin() as conn:
        conn.execute(
            sa.text(
                "CREATE TABLE stats (indicator TEXT, division TEXT, period TEXT, value REAL, "
                "unit TEXT, note TEXT, updated_at TIMESTAMP WITH TIME ZONE)"
                if engine.dialect.name == "postgresql"
                else "CREATE TABLE stats (indicator TEXT, division TEXT, period TEXT, "
                "value REAL, unit TEXT, note TEXT, updated_at TIMESTAMP)"
            )
        )
    yield engine
    engine.dispose()


def add(engine: sa.Engine, *rows: tuple[str, float, int]) -> None:
    """Rows (period, value, minutes after T0 as the watermark)."""
    with engine.begin() as conn:
        for period, value, minutes in rows:
            stamp = T0 + dt.timedelta(minutes=minutes)
            conn.execute(
                sa.text(
                    "INSERT INTO stats VALUES ('GDP', '330106000000', :p, :v, '亿元', 'x', :t)"
                ),
                {"p": period, "v": value, "t": stamp},
            )


def poller(engine: sa.Engine, folder: Path, **kw: int) -> SourcePoller:
    spec = SourceSpec(str(engine.url), "stats", "updated_at", "macro_indicator")
    return SourcePoller(spec, folder, SCHEMA, **kw)


def periods(batch: SpooledBatch) -> list[str]:
    with pa.OSFile(batch.path) as fh:
        table = pa.ipc.open_stream(fh).read_all()
    assert table.schema.equals(SCHEMA.arrow_schema(), check_metadata=False)
    return table.column("period").to_pylist()


def accept(p: SourcePoller, folder: Path, batch: SpooledBatch) -> Cursor | None:
    outbox.mark_sent(folder, batch)
    settled = p.settle()
    assert settled is not None and settled.accepted
    return settled.cursor


def test_ties_on_the_watermark_are_neither_skipped_nor_repeated(
    source: sa.Engine, tmp_path: Path
) -> None:
    p = poller(source, tmp_path)
    add(source, ("2020", 1.0, 0), ("2022", 2.0, 5), ("2023", 3.0, 5))
    first = p.poll()
    assert first is not None and periods(first) == ["2020", "2022", "2023"]
    accept(p, tmp_path, first)
    # Committed after the poll with the same watermark value, and a key sorting *lower*.
    add(source, ("2021", 4.0, 5), ("2024", 5.0, 9))
    second = p.poll()
    assert second is not None and periods(second) == ["2021", "2024"]
    cursor = accept(p, tmp_path, second)
    assert cursor is not None and len(cursor.keys) == 1  # only 2024 holds the latest value
    assert p.poll() is None


def test_the_cursor_moves_only_when_the_hub_accepted_the_batch(
    source: sa.Engine, tmp_path: Path
) -> None:
    p = poller(source, tmp_path)
    add(source, ("2020", 1.0, 0))
    batch = p.poll()
    assert batch is not None and p.waiting
    add(source, ("2021", 2.0, 1))
    assert p.poll() is None  # one batch in flight at a time: no overlapping batches
    assert p.settle() is None and p.cursor is None  # still in the outbox
    # A new process (after a crash) finds the same pending batch, then its acceptance.
    again = poller(source, tmp_path)
    assert again.waiting
    accept(again, tmp_path, batch)
    rest = again.poll()
    assert rest is not None and periods(rest) == ["2021"]


def test_a_refused_batch_leaves_the_cursor_and_is_read_again(
    source: sa.Engine, tmp_path: Path
) -> None:
    p = poller(source, tmp_path)
    add(source, ("2020", 1.0, 0))
    accept(p, tmp_path, p.poll() or pytest.fail("no batch"))
    add(source, ("2021", 2.0, 3))
    refused = p.poll()
    assert refused is not None
    outbox.set_aside(tmp_path, refused, 422, {"error": "BatchQuarantined", "problems": []})
    settled = p.settle()
    assert settled is not None and not settled.accepted
    assert settled.reasons is not None and settled.reasons["error"] == "BatchQuarantined"
    again = p.poll()
    assert again is not None and again.batch_id == refused.batch_id  # same rows, same id


def test_pages_and_a_row_limit_split_a_tie_group_without_losing_rows(
    source: sa.Engine, tmp_path: Path
) -> None:
    p = poller(source, tmp_path, page_rows=2, max_rows=3)
    add(source, *((str(2000 + i), float(i), 7) for i in range(7)))
    seen: list[str] = []
    while (batch := p.poll()) is not None:
        assert batch.rows <= 4  # stops at the page that reaches max_rows
        seen += periods(batch)
        accept(p, tmp_path, batch)
    assert seen == [str(2000 + i) for i in range(7)]


def test_a_bad_value_names_the_row_key_and_field(source: sa.Engine, tmp_path: Path) -> None:
    with source.begin() as conn:
        conn.execute(
            sa.text(
                "INSERT INTO stats VALUES ('GDP', '330106000000', '2020', NULL, '亿元', 'x', :t)"
            ),
            {"t": T0},
        )
    with pytest.raises(SourceError, match=r"'period': '2020'.*field value: a value is required"):
        poller(source, tmp_path).poll()
    assert list((tmp_path / "outbox").glob("*")) == []  # nothing half-spooled


def test_a_table_without_the_key_columns_is_refused(source: sa.Engine, tmp_path: Path) -> None:
    spec = SourceSpec(str(source.url), "stats", "changed", "macro_indicator")
    with pytest.raises(SourceError, match="lacks the column"):
        SourcePoller(spec, tmp_path, SCHEMA).poll()
