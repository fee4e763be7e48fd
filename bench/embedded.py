"""The embedded default (SQLite file + local payload folder): loads through the intake.

python -m bench.embedded [--rows 100000] [--small 2000]

Pushes N synthetic residents through the intake (quality gate, load with history, receipts)
into a fresh SQLite node, then the same N residents each with a changed address (N updates
onto an N-row table), then `--small` updates onto that table. The baseline is a raw
`executemany` of the same N rows into a SQLite table with the same columns and key, in a
file of its own, measured in the same run. Issue 18's bound: the N-row update under 30 s.
"""

from __future__ import annotations

import argparse
import sqlite3
import tempfile
import time
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from basebases.synthetic import people
from bench.report import Row, print_table
from exchange.core.db import session_scope
from exchange.core.runtime import build_runtime
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.lifecycle import prepare_database
from exchange.seed import load_divisions, push_table


def moved(table: pa.Table, mark: str) -> pa.Table:
    address = pc.binary_join_element_wise(table["address"], pa.scalar(mark), "")
    return table.set_column(table.schema.get_field_index("address"), "address", address)


def raw_executemany_seconds(path: Path, table: pa.Table) -> float:
    """The same rows into a plain SQLite table with the same key: the floor for a load."""
    columns = []
    for col in table.columns:
        if pa.types.is_date(col.type) or pa.types.is_timestamp(col.type):
            col = col.cast(pa.string())
        columns.append(col.to_pylist())
    names = table.column_names
    with sqlite3.connect(path, isolation_level=None) as conn:
        conn.execute("PRAGMA journal_mode=WAL")
        conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute(f"CREATE TABLE raw ({', '.join(names)}, PRIMARY KEY ({names[0]}))")
        start = time.perf_counter()
        conn.execute("BEGIN IMMEDIATE")
        insert = f"INSERT INTO raw VALUES ({', '.join('?' for _ in names)})"  # noqa: S608 (marks)
        conn.executemany(insert, list(zip(*columns, strict=True)))
        conn.execute("COMMIT")
        return time.perf_counter() - start


def timed_push(settings: Settings, table: pa.Table) -> tuple[float, dict[str, Any]]:
    rt = build_runtime(settings)
    try:
        start = time.perf_counter()
        result = push_table(rt, "population", table)
        took = time.perf_counter() - start
    finally:
        rt.close()
    assert result["status"] == "accepted", result
    return took, result


def main(argv: list[str] | None = None) -> list[Row]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=100_000)
    ap.add_argument("--small", type=int, default=2_000)
    args = ap.parse_args(argv)
    n = args.rows
    residents = people(n, seed=1)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="hub-bench-embedded-") as tmp:
        settings = Settings(
            env="test", var_dir=Path(tmp), secret_key="bench-embedded-" * 3, relay_interval_s=0
        )
        rt = build_runtime(settings)
        try:
            prepare_database(rt.engine, rt.schemas)
            with session_scope(rt.sessions) as s:
                seed_demo_city(s, settings, rt.schemas)
            load_divisions(rt)
        finally:
            rt.close()
        raw = raw_executemany_seconds(Path(tmp) / "raw.db", residents)
        raw_small = raw_executemany_seconds(
            Path(tmp) / "raw_small.db", residents.slice(0, args.small)
        )

        first, _ = timed_push(settings, residents)
        rows.append(
            Row(
                f"SQLite: first load of {n:,} residents (intake, gate included)",
                first,
                "s",
                raw,
                "s raw executemany",
            )
        )
        update, result = timed_push(settings, moved(residents, "(迁)"))
        assert result["load"]["updated"] == n, result
        rows.append(
            Row(
                f"SQLite: {n:,}-row update of a {n:,}-row table (intake)",
                update,
                "s",
                raw,
                "s raw executemany",
                target="< 30 s",
                ok=update < 30,
            )
        )
        small, result = timed_push(settings, moved(residents.slice(0, args.small), "(再迁)"))
        assert result["load"]["updated"] == args.small, result
        rows.append(
            Row(
                f"SQLite: {args.small:,}-row update of the same table",
                small,
                "s",
                raw_small,
                "s raw executemany",
            )
        )
    print_table("embedded default (SQLite)", rows)
    return rows


if __name__ == "__main__":
    main()
