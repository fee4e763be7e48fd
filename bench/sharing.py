"""Keyed record lookup through the whole sharing path, against a bare FastAPI + psycopg lookup.

    python -m bench.sharing [--rows N] [--clients C] [--seconds S]

Loads N synthetic residents (basebases.synthetic.people) through the intake into a throwaway
PostgreSQL, grants the 民政局 (MZ) the population resource, starts `hub serve` (one uvicorn
worker, the audit sealer on) and the bare baseline (bench.sharing_bare, one worker) as real
processes, and drives each with C keep-alive clients asking for random residents by ID number.
The sharing path is the production one: bearer token, grant check, call headers, quota,
masking and the durable audit entry committed before the response. Prints req/s, p50, p99
and the ratios. No timing is asserted anywhere; tests run it small to keep it working.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import func, select

from basebases.synthetic import people
from bench.loadgen import Result, load
from exchange.core.db import session_scope
from exchange.core.runtime import Runtime, build_runtime
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.directory import repository as directory
from exchange.directory import service as directory_service
from exchange.lifecycle import prepare_database
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Role
from exchange.platforms.sharing.applications import service as applications
from exchange.platforms.sharing.applications.schemas import ApplicationCreate, Approval
from exchange.platforms.sharing.models import AuditEntry, AuditSeal
from exchange.seed import load_divisions, push_table
from exchange.testing.postgres import LocalPostgres, free_port

SECRET = "bench-secret-bench-secret-bench-secret"
FIELDS = ["id_number", "name", "gender", "household_division", "phone", "status"]
CALL_HEADERS = {"X-Purpose": "%E6%A0%B8%E9%AA%8C", "X-Case-Number": "BENCH-1"}


def prepare_sharing(rt: Runtime, rows: int) -> tuple[list[str], str, str]:
    """The city, N residents, an MZ client granted population; returns keys and credentials."""
    prepare_database(rt.engine, rt.schemas)
    with session_scope(rt.sessions) as s:
        seed_demo_city(s, rt.settings, rt.schemas)
        node = directory.get_node(s, rt.settings.node_code)
        assert node is not None
        directory_service.ensure_department(s, node, "MZ", "民政局")
    load_divisions(rt)  # residents' household divisions must exist in the geospatial registry
    started = time.perf_counter()
    table = people(rows, seed=1)
    result = push_table(rt, "population", table)
    assert result["status"] == "accepted", result
    print(f"loaded {rows:,} residents through the intake in {time.perf_counter() - started:.1f} s")
    node_code = rt.settings.node_code
    with session_scope(rt.sessions) as s:
        mz, secret = credentials.create_client(
            s, node_code, name="bench MZ", role=Role.department, department="MZ", by="bench"
        )
        ga, _ = credentials.create_client(
            s, node_code, name="bench GA", role=Role.department, department="GA", by="bench"
        )
        ctx = applications.Context(rt.settings.sharing, rt.schemas, rt.store)
        app = applications.apply(
            s,
            ctx,
            credentials.client_principal(mz, node_code),
            ApplicationCreate(
                resource="population",
                purpose="核验低保申请人身份",
                legal_basis="《社会救助暂行办法》",
                fields=FIELDS,
                duration_days=30,
            ),
        )
        applications.approve(
            s,
            ctx,
            credentials.client_principal(ga, node_code),
            app.id,
            Approval(rate_per_minute=10**9, rows_per_day=10**12),
        )
        client_id = str(mz.id)
    step = max(rows // 20_000, 1)
    keys = [str(k) for k in table["id_number"].to_pylist()[::step]]
    return keys, client_id, secret


def serve_env(var_dir: Path | str, secret: str, **settings: str) -> dict[str, str]:
    """The environment of a `hub serve` child: this one without its HUB_* settings, a test
    node in `var_dir`, no relay loop, no access log line per request; plus `settings`."""
    return {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        "HUB_ENV": "test",
        "HUB_VAR_DIR": str(var_dir),
        "HUB_SECRET_KEY": secret,
        "HUB_RELAY_INTERVAL_S": "0",
        "HUB_LOG_LEVEL": "WARNING",
        **settings,
    }


def start_server(
    stack: ExitStack, args: list[str], env: dict[str, str], port: int
) -> subprocess.Popen[bytes]:
    """`python -m ARGS` as a child process, stopped when `stack` closes; returns once it answers."""
    proc = subprocess.Popen(
        [sys.executable, "-m", *args], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )

    def stop() -> None:
        proc.terminate()
        proc.wait(timeout=30)

    stack.callback(stop)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{args[0]} exited: {proc.stderr.read().decode()[-2000:]}")  # type: ignore[union-attr]
        try:
            httpx.get(f"http://127.0.0.1:{port}/openapi.json", timeout=2)
            return proc
        except httpx.TransportError:
            time.sleep(0.3)
    raise RuntimeError(f"{args[0]} did not come up on port {port}")


def median_run(runs: list[Result]) -> Result:
    """The run with the median throughput (its own p50 and p99 go with it)."""
    return sorted(runs, key=lambda r: r.rate)[len(runs) // 2]


def _row(name: str, r: Result) -> str:
    bad = sum(n for status, n in r.statuses.items() if status != 200)
    return f"{name:<44} {r.rate:>8,.0f} {r.p50:>8.1f} {r.percentile(99):>8.1f} {bad:>8}"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--clients", type=int, default=64)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--warmup", type=float, default=3.0)
    parser.add_argument("--rounds", type=int, default=3, help="alternating runs of each")
    args = parser.parse_args(argv)

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="hub-bench-") as tmp:
        pg = LocalPostgres()
        pg.start()
        stack.callback(pg.stop)
        url = pg.create_database("bench_sharing")
        settings = Settings(
            env="test", database_url=url, var_dir=Path(tmp), secret_key=SECRET, relay_interval_s=0
        )
        rt = build_runtime(settings)
        stack.callback(rt.close)
        keys, client_id, secret = prepare_sharing(rt, args.rows)
        # What autovacuum would long have done in production, so that it does not run, for
        # the freshly loaded table, in the middle of the first measurements.
        with rt.engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
            conn.exec_driver_sql("VACUUM (ANALYZE)")

        hub_port, bare_port = free_port(), free_port()
        env = serve_env(tmp, SECRET, HUB_DATABASE_URL=url)  # the bare app logs no line either
        start_server(stack, ["exchange.cli", "serve", "--port", str(hub_port)], env, hub_port)
        dsn = pg.dsn("bench_sharing")
        start_server(stack, ["bench.sharing_bare", dsn, str(bare_port)], env, bare_port)

        token = httpx.post(
            f"http://127.0.0.1:{hub_port}/sharing/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", **CALL_HEADERS}
        sample = httpx.get(
            f"http://127.0.0.1:{hub_port}/sharing/v1/resources/population/records/{keys[0]}",
            headers=headers,
        ).json()["record"]
        assert sample["id_number"] != keys[0] and "*" in sample["id_number"], "masked"

        with session_scope(rt.sessions) as s:
            audit_before = s.scalar(select(func.count()).select_from(AuditEntry)) or 0
        opts = {"clients": args.clients, "warmup": args.warmup, "seconds": args.seconds}
        paths = [f"/sharing/v1/resources/population/records/{k}" for k in keys]
        bares, fulls = [], []
        for _ in range(args.rounds):  # alternated, so both see the same machine
            bares.append(load(bare_port, [f"/records/{k}" for k in keys], **opts))
            fulls.append(load(hub_port, paths, headers=headers, **opts))
        bare, full = median_run(bares), median_run(fulls)
        time.sleep(max(settings.sharing.seal_interval_s * 2, 1))
        with session_scope(rt.sessions) as s:
            audited = (s.scalar(select(func.count()).select_from(AuditEntry)) or 0) - audit_before
            sealed_to = s.scalar(select(func.max(AuditSeal.high_id))) or 0
            last_id = s.scalar(select(func.max(AuditEntry.id))) or 0

    print(
        f"\nkeyed lookup of one resident among {args.rows:,}; {args.clients} keep-alive clients; "
        f"{args.seconds:g} s measured after {args.warmup:g} s warm-up; one server worker each; "
        f"median of {args.rounds} alternating runs"
    )
    for i, (b, f) in enumerate(zip(bares, fulls, strict=True), 1):
        print(f"  run {i}: bare {b.rate:,.0f} req/s, sharing {f.rate:,.0f} req/s")
    print(f"{'':<44} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8} {'non-200':>8}")
    print(_row("bare FastAPI + psycopg (same SELECT)", bare))
    print(_row("sharing API: token, grant, quota, mask, audit", full))
    rate_ratio = full.rate / bare.rate
    p99_ratio = full.percentile(99) / bare.percentile(99)
    print(f"{'ratio sharing / bare':<44} {rate_ratio:>8.2f} {'':>8} {p99_ratio:>8.2f}")
    print(
        f"audit entries written during the runs: {audited:,}, one per sharing request "
        f"(incl. warm-ups); sealed up to id {sealed_to:,} of {last_id:,}"
    )
    print(
        f"targets: throughput ratio >= 0.50 ({'met' if rate_ratio >= 0.5 else 'NOT met'}), "
        f"p99 ratio <= 2.00 ({'met' if p99_ratio <= 2 else 'NOT met'})"
    )


if __name__ == "__main__":
    main()
