"""Base registry benchmark on PostgreSQL: bulk load with history, keyed lookups, delta export.

python -m bench.registries [--rows 1000000] [--lookups 5000]
"""

from __future__ import annotations

import argparse
import io
import random
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psycopg
import pyarrow as pa
import pyarrow.csv as pacsv

from basebases.exports import export_delta, export_full
from basebases.registry import REGISTRIES
from basebases.synthetic import people
from bench.baseline import create_raw_table
from bench.report import Row, print_table
from exchange.core.db import make_engine, make_sessionmaker, utcnow
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.lifecycle import prepare_database
from exchange.seed import division_table
from exchange.testing.postgres import LocalPostgres


def reader(table: pa.Table) -> pa.RecordBatchReader:
    return pa.RecordBatchReader.from_batches(table.schema, table.to_batches(max_chunksize=65_536))


def raw_copy_seconds(pg: LocalPostgres, dbname: str, table: pa.Table) -> float:
    buf = io.BytesIO()
    pacsv.write_csv(table, buf, pacsv.WriteOptions(include_header=False))
    with psycopg.connect(pg.dsn(dbname)) as conn:
        create_raw_table(conn, "ds_population", "raw_population")
        start = time.perf_counter()
        with conn.cursor().copy(
            f"COPY raw_population ({', '.join(table.column_names)}) FROM STDIN (FORMAT csv)"
        ) as copy:
            copy.write(buf.getbuffer())
        conn.commit()
        took = time.perf_counter() - start
        conn.execute("DROP TABLE raw_population")
        conn.commit()
    return took


def percentiles(samples: list[float]) -> tuple[float, float]:
    ordered = sorted(samples)
    return statistics.median(ordered) * 1000, ordered[int(len(ordered) * 0.99)] * 1000


def main(argv: list[str] | None = None) -> list[Row]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--lookups", type=int, default=5_000)
    args = ap.parse_args(argv)
    schemas = load_all(SCHEMAS_DIR)
    population = REGISTRIES["population"]
    rows: list[Row] = []
    pg = LocalPostgres()
    pg.start()
    try:
        engine = make_engine(pg.create_database("bench_registries"))
        prepare_database(engine, schemas)
        sessions = make_sessionmaker(engine)
        with sessions.begin() as s:
            REGISTRIES["geospatial"].load(
                s,
                reader(division_table("330100000000", schemas["geo_division"])),
                resource="geo_division",
            )
        table = people(args.rows, seed=1)
        raw = raw_copy_seconds(pg, "bench_registries", table)

        start = time.perf_counter()
        with sessions.begin() as s:
            outcome = population.load(s, reader(table))
        took = time.perf_counter() - start
        assert outcome.accepted, outcome.gate
        rows.append(
            Row(
                f"load {args.rows:,} population rows with history (gate included)",
                args.rows / took,
                "rows/s",
                args.rows / raw,
                "raw COPY rows/s",
                target=">= 0.4",
                ok=raw / took >= 0.4,
            )
        )

        keys = random.Random(1).sample(table["id_number"].to_pylist(), args.lookups)
        as_of = utcnow()
        for label, at in (("keyed lookup", None), ("keyed lookup as of", as_of)):
            samples = []
            with sessions() as s:
                for key in keys:
                    t0 = time.perf_counter()
                    assert population.lookup(s, key, as_of=at) is not None
                    samples.append(time.perf_counter() - t0)
            p50, p99 = percentiles(samples)
            rows.append(Row(f"{label}: p50", p50, "ms"))
            rows.append(Row(f"{label}: p99", p99, "ms", target="< 2 ms", ok=p99 < 2))

        with tempfile.TemporaryDirectory() as tmp, sessions.begin() as s:
            start = time.perf_counter()
            full = export_full(s.connection(), population.schema, Path(tmp))
            full_s = time.perf_counter() - start
            changed = table.slice(0, args.rows // 100)
            changed = changed.set_column(
                changed.schema.get_field_index("address"),
                "address",
                pa.array(["迁入新址"] * changed.num_rows),
            )
            start = time.perf_counter()
            population.load(s, reader(changed))
            update_s = time.perf_counter() - start
            start = time.perf_counter()
            delta = export_delta(s.connection(), population.schema, full.until_seq, Path(tmp))
            delta_s = time.perf_counter() - start
        rows.append(
            Row(
                f"update {changed.num_rows:,} rows of {args.rows:,} (history closed and appended)",
                changed.num_rows / update_s,
                "rows/s",
            )
        )
        rows.append(Row(f"full snapshot export ({full.rows:,} rows, Parquet)", full_s, "s"))
        rows.append(
            Row(
                f"delta export, 1% changed ({delta.rows:,} rows)",
                delta_s,
                "s",
                target="< 3 s",
                ok=delta_s < 3,
            )
        )
        engine.dispose()
    finally:
        pg.stop()
    print_table("Base registries", rows)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
