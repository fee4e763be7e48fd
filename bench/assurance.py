"""Assurance benchmark on PostgreSQL: the population standards suite over a million rows.

    python -m bench.assurance [--rows 1000000]

Times `validate_stored` (the suite run by Great Expectations inside the database) against a
hand-written one-pass SQL query computing the same checks in the same run (target: within 2x),
then the security PII scan over every open dataset of the seeded demo city.
"""

from __future__ import annotations

import argparse
import tempfile
import time
import uuid
from pathlib import Path

import pyarrow as pa
from sqlalchemy import text

from basebases.synthetic import people
from bench.report import Row, print_table
from exchange.core import codelists, divisions
from exchange.core.db import make_engine, utcnow
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.datastore.loader import BatchLoader
from exchange.datastore.tables import tables_for
from exchange.lifecycle import prepare_database
from exchange.quality import sql_checks as s
from exchange.quality.rules import RIC_FORMAT
from exchange.seed import division_table
from exchange.testing.postgres import LocalPostgres, running_postgres


def _load(engine: object, resource: str, table: pa.Table) -> None:
    schemas = load_all(SCHEMAS_DIR)
    with engine.begin() as conn:  # type: ignore[attr-defined]
        loader = BatchLoader(
            conn, tables_for(schemas[resource]), batch_id=uuid.uuid4(), recorded_at=utcnow()
        )
        for rb in table.to_batches(max_chunksize=65_536):
            loader.stage(rb)
        loader.apply()


def one_pass_sql() -> str:
    """The population rules written by hand: one scan with a counter per rule, plus the
    reference anti-join (the same conditions the suite runs, without any framework)."""
    ric = "id_number"
    checks = {
        "required": " OR ".join(
            f"{c} IS NULL"
            for c in ("id_number", "name", "gender", "birth_date", "household_division", "status")
        ),
        "enum_gender": "gender NOT IN ('0','1','2','9')",
        "enum_status": "status NOT IN ('living','deceased','moved_out')",
        "phone": "phone IS NOT NULL AND NOT phone ~ '^(?:1[3-9][0-9]{9})$'",
        "format": f"NOT {s.matches(ric, RIC_FORMAT)}",
        "checksum": f"NOT {s.ric_checksum_ok(ric)}",
        "region": f"NOT {s.ric_region_ok(ric)}",
        "birth": f"NOT {s.ric_birth_date_ok('birth_date', ric)}",
        "gender": f"NOT {s.ric_gender_ok('gender', ric)}",
        "gender_stated": f"NOT {s.ric_gender_stated('gender', ric, ('0', '9'))}",
        "ethnicity": f"ethnicity NOT IN {s.in_list(sorted(codelists.get('GB/T 3304')))}",
        "division": f"household_division NOT IN {s.in_list(sorted(divisions.table()))}",
    }
    counters = ", ".join(f"count(*) FILTER (WHERE {c}) AS {n}" for n, c in checks.items())
    return f"SELECT {counters} FROM ds_population WHERE NOT _deleted"  # noqa: S608 (constants)


REFERENCE_SQL = (
    "SELECT count(*) FROM ds_population p WHERE NOT p._deleted AND NOT EXISTS ("
    "SELECT 1 FROM ds_geo_division g WHERE g.code = p.household_division AND NOT g._deleted)"
)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    args = parser.parse_args(argv)
    schemas = load_all(SCHEMAS_DIR)
    with running_postgres() as pg:
        engine = make_engine(pg.create_database("bench_assurance"))
        prepare_database(engine, schemas)
        _load(engine, "geo_division", division_table("330100000000", schemas["geo_division"]))
        start = time.perf_counter()
        _load(engine, "population", people(args.rows, seed=1))
        print(f"loaded {args.rows:,} people in {time.perf_counter() - start:.1f} s")
        with engine.connect() as conn:
            conn.execute(text("ANALYZE"))

        from exchange.quality import gx_suite  # noqa: F401  (GE's import is not the suite's time)
        from exchange.quality.stored import validate_stored

        validate_stored(engine, schemas["geo_division"])  # warm the GE context machinery
        start = time.perf_counter()
        report = validate_stored(engine, schemas["population"]).report
        suite_s = time.perf_counter() - start
        start = time.perf_counter()
        with engine.connect() as conn:
            counts = conn.exec_driver_sql(one_pass_sql().replace("%", "%%")).one()
            missing = conn.execute(text(REFERENCE_SQL)).scalar_one()
        sql_s = time.perf_counter() - start
        assert report.passed and not any(counts) and missing == 0, "a clean table should pass"
        pii_s, datasets = _pii_scan_seconds(pg)
    rows = [
        Row(
            "population suite (GE, in database)",
            suite_s,
            "s",
            sql_s,
            "one-pass SQL",
            "<= 2x",
            suite_s <= 2 * sql_s,
        ),
        Row("population suite throughput", args.rows / suite_s, "rows/s"),
        Row("one-pass SQL throughput", args.rows / sql_s, "rows/s"),
        Row(f"PII scan, {datasets} open datasets of the demo city", pii_s, "s"),
    ]
    print_table(f"Assurance on PostgreSQL, {args.rows:,} population rows", rows)


def _pii_scan_seconds(pg: LocalPostgres) -> tuple[float, int]:
    from exchange import seed as seeding
    from exchange.core.db import session_scope
    from exchange.core.runtime import build_runtime
    from exchange.core.settings import Settings
    from exchange.demo import seed_demo_city
    from exchange.pipelines import security

    var = Path(tempfile.mkdtemp(prefix="bench-assurance-"))
    settings = Settings(
        env="test",
        secret_key="bench-secret-not-for-production",
        database_url=pg.create_database("bench_demo_city"),
        var_dir=var,
        relay_interval_s=0,
    )
    rt = build_runtime(settings)
    try:
        prepare_database(rt.engine, rt.schemas)
        with session_scope(rt.sessions) as session:
            seed_demo_city(session, settings, rt.schemas)
        seeding.load_divisions(rt)
        seeding.seed(rt, 1)
        start = time.perf_counter()
        result = security.check_pii(rt)
        took = time.perf_counter() - start
        assert not result.issues, "the seeded demo city leaks nothing"
        return took, int(result.gauges[0].value)
    finally:
        rt.close()


if __name__ == "__main__":
    main()
