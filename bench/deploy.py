"""Scale-out: the shared API on 1, 2 and 4 workers with and without a read replica; relay and
intake with payloads on an S3-compatible store against a local folder.

    python -m bench.deploy [--rows N] [--workers 1 2 4] [--clients C] [--seconds S]
                           [--rounds R] [--batches B] [--batch-mb M]

Shared API: N synthetic residents loaded through the intake into a throwaway PostgreSQL, a
department granted the population resource (as in bench.sharing), then `hub serve --workers W`
as a real process for each W, first on the primary alone, then with a streaming replica
(`pg_basebackup -R` from the system binaries, `LocalPostgres.start_replica`) configured as
`HUB_READ_REPLICA_URL`. Two loads per configuration from C keep-alive clients: keyed record
lookups (`/sharing/v1/resources/population/records/{id}`, the production path with token, grant,
quota, masking and the audit entry committed before the response: always on the primary) and
catalogue searches (`/sharing/v1/catalog?q=...`: read-only, on the replica when there is one).
Baseline: one worker, no replica, same run; each figure is the median of R rounds through every
configuration (the replica is stopped for the rounds without it). Also the resident memory of
each worker after load.

Relay and intake: a district and its city as `hub serve` processes, each with its payload store
in a local folder, then on moto's S3 server (`exchange.testing.s3`). A connector pushes B
batches of M MB addressed to the province, so each node stores and checks the payload and
forwards it without loading rows: the store is what differs. Intake: connector -> district.
Relay: the district's outbox drained to the city (`relay.run_once`, one batch at a time).
Baseline: the local folder.

Everything shares this machine's cores: the load generator, the workers, the primary and the
replica. No timing is asserted anywhere; a test runs it tiny to keep it working.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import quote

import httpx
import psycopg
import pyarrow as pa
from sqlalchemy import select

from bench.exchange import register
from bench.loadgen import Result, load
from bench.report import Row, print_table
from bench.sharing import CALL_HEADERS, SECRET, prepare_sharing, start_server
from exchange import cluster
from exchange.core.runtime import build_runtime
from exchange.core.settings import Settings
from exchange.testing.postgres import LocalPostgres, free_port
from exchange.testing.s3 import moto_server

CITY, DISTRICT = cluster.CITY, "330106000000"
CATALOGUE_QUERIES = ["人口", "法人", "信用", "地址", "宏观", "材料", "population", "GDP"]


# -- shared API ----------------------------------------------------------------------------
@dataclass
class ApiRun:
    workers: int
    replica: bool
    records: Result
    catalogue: Result
    rss_mb: float  # per worker, after the loads
    replica_xacts: int  # transactions the replica served during the catalogue load


def worker_pids(server: subprocess.Popen[bytes], workers: int) -> list[int]:
    if workers == 1:
        return [server.pid]
    out = subprocess.run(["pgrep", "-P", str(server.pid)], capture_output=True, text=True).stdout
    pids = []
    for pid in map(int, out.split()):
        cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        if b"spawn_main" in cmdline or b"multiprocessing" in cmdline:
            pids.append(pid)
    return pids


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


def replica_xacts(replica: LocalPostgres, dbname: str) -> int:
    with psycopg.connect(replica.dsn(dbname), autocommit=True) as conn:
        conn.execute("SELECT pg_stat_clear_snapshot()")
        row = conn.execute(
            "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = %s",
            (dbname,),
        ).fetchone()
    return int(row[0]) if row else 0


def wait_replayed(primary: LocalPostgres, replica: LocalPostgres, timeout_s: float = 60) -> None:
    with psycopg.connect(primary.dsn()) as conn:
        lsn = conn.execute("SELECT pg_current_wal_lsn()").fetchone()[0]  # type: ignore[index]
    deadline = time.monotonic() + timeout_s
    with psycopg.connect(replica.dsn(), autocommit=True) as conn:
        while True:
            behind = conn.execute(
                "SELECT pg_wal_lsn_diff(%s::pg_lsn, pg_last_wal_replay_lsn())", (str(lsn),)
            ).fetchone()[0]  # type: ignore[index]
            if behind is not None and behind <= 0:
                return
            if time.monotonic() > deadline:
                raise TimeoutError(f"replica still {behind} bytes behind")
            time.sleep(0.2)


def api_run(
    env: dict[str, str],
    workers: int,
    replica: LocalPostgres | None,
    dbname: str,
    paths: list[str],
    client: tuple[str, str],
    opts: dict[str, float | int],
) -> ApiRun:
    if replica is not None:
        env = env | {"HUB_READ_REPLICA_URL": replica.url(dbname)}
    port = free_port()
    with ExitStack() as stack:
        args = ["exchange.cli", "serve", "--port", str(port), "--workers", str(workers)]
        server = start_server(stack, args, env, port)
        deadline = time.monotonic() + 60
        while len(worker_pids(server, workers)) < workers:
            if time.monotonic() > deadline:
                raise RuntimeError(f"{workers} workers did not start")
            time.sleep(0.2)
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{base}/sharing/v1/token",
            data={"grant_type": "client_credentials", "client_id": client[0],
                  "client_secret": client[1]},
        ).json()["access_token"]  # fmt: skip
        headers = {"Authorization": f"Bearer {token}", **CALL_HEADERS}
        records = load(port, paths, headers=headers, **opts)  # type: ignore[arg-type]
        searches = [f"/sharing/v1/catalog?q={quote(q)}" for q in CATALOGUE_QUERIES]
        before = replica_xacts(replica, dbname) if replica else 0
        catalogue = load(port, searches, headers=headers, **opts)  # type: ignore[arg-type]
        served = replica_xacts(replica, dbname) - before if replica else 0
        pids = worker_pids(server, workers)
        memory = sum(rss_mb(p) for p in pids) / len(pids)
    return ApiRun(workers, replica is not None, records, catalogue, memory, served)


def shared_api(pg: LocalPostgres, root: Path, args: argparse.Namespace) -> list[ApiRun]:
    dbname = "bench_deploy"
    url = pg.create_database(dbname)
    settings = Settings(
        env="test", database_url=url, var_dir=root, secret_key=SECRET, relay_interval_s=0
    )
    rt = build_runtime(settings)
    try:
        keys, client_id, secret = prepare_sharing(rt, args.rows)
    finally:
        rt.close()
    paths = [f"/sharing/v1/resources/population/records/{k}" for k in keys]
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        "HUB_ENV": "test",
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(root),
        "HUB_SECRET_KEY": SECRET,
        "HUB_RELAY_INTERVAL_S": "0",
        "HUB_LOG_LEVEL": "WARNING",
    }
    opts = {"clients": args.clients, "warmup": args.warmup, "seconds": args.seconds}
    client = (client_id, secret)
    rounds: dict[tuple[int, bool], list[ApiRun]] = {}
    replica = pg.start_replica()  # made once; running only for the configurations that use it
    try:
        replica.stop_server()
        for _ in range(args.rounds):  # every configuration once per round: same machine state
            for workers in args.workers:
                run = api_run(env, workers, None, dbname, paths, client, opts)
                rounds.setdefault((workers, False), []).append(run)
            replica.start()
            wait_replayed(pg, replica)
            for workers in args.workers:
                run = api_run(env, workers, replica, dbname, paths, client, opts)
                rounds.setdefault((workers, True), []).append(run)
            replica.stop_server()
    finally:
        replica.stop()
    return [_median(runs) for runs in rounds.values()]


def _median(runs: list[ApiRun]) -> ApiRun:
    """Per measure, the round with the median throughput (its p50 and p99 go with it)."""
    mid = len(runs) // 2
    records = sorted((r.records for r in runs), key=lambda x: x.rate)[mid]
    catalogue = sorted((r.catalogue for r in runs), key=lambda x: x.rate)[mid]
    memory = sorted(r.rss_mb for r in runs)[mid]
    xacts = sorted(r.replica_xacts for r in runs)[mid]
    return ApiRun(runs[0].workers, runs[0].replica, records, catalogue, memory, xacts)


def _setup(r: ApiRun) -> str:
    return f"{r.workers} worker{'s' * (r.workers > 1)}" + (" + replica" if r.replica else "")


def api_rows(runs: list[ApiRun]) -> list[Row]:
    """Each configuration against the first (the baseline: one worker, no replica)."""
    base = runs[0]
    ref = _setup(base)
    rows: list[Row] = []
    for name, pick in (
        ("records by key", lambda r: r.records),
        ("catalogue search", lambda r: r.catalogue),
    ):
        b = pick(base)
        for r in runs:
            res = pick(r)
            bad = sum(n for status, n in res.statuses.items() if status != 200)
            label = f"{name}, {_setup(r)}" + (f" ({bad} non-200)" if bad else "")
            rows += [
                Row(label, res.rate, "req/s", b.rate, ref),
                Row("  p50", res.p50, "ms", b.p50, ref),
                Row("  p99", res.percentile(99), "ms", b.percentile(99), ref),
            ]
    for r in runs:
        rows.append(Row(f"memory per worker, {_setup(r)}", r.rss_mb, "MB RSS after load"))
    return rows


# -- relay and intake: S3-compatible store vs local folder -----------------------------------
@dataclass
class StoreRun:
    store: str
    batches: int
    megabytes: float
    intake_s: float
    relay_s: float


def indicator_table(rows: int, seed: int) -> pa.Table:
    from exchange.core.resource_schema import SCHEMAS_DIR, load_all

    rng = random.Random(seed)
    schema = load_all(SCHEMAS_DIR)["macro_indicator"].arrow_schema()
    return pa.table(
        {
            "indicator": [rng.choice(["GDP", "CPI", "POP", "EMP"]) for _ in range(rows)],
            "division": [DISTRICT] * rows,
            "period": [str(rng.randrange(1900, 2100)) for _ in range(rows)],
            "value": [rng.random() * 1e4 for _ in range(rows)],
            "unit": ["亿元"] * rows,
            "source": [f"西湖区统计局 {seed}"] * rows,
        },
        schema=schema,
    )


def node_env(
    node: cluster.ClusterNode,
    plan: list[cluster.ClusterNode],
    database_url: str,
    store: str,
    endpoint: str,
) -> dict[str, str]:
    env = cluster.node_env(node, plan, database_url)
    env |= {"HUB_RELAY_INTERVAL_S": "0", "HUB_LOG_LEVEL": "WARNING"}
    if store == "s3":
        env |= {
            "HUB_STORE_URL": f"s3://hub/{node.code}",
            "HUB_STORE_OPTIONS": json.dumps({"endpoint_url": endpoint}),
        }
    return env


def store_run(
    pg: LocalPostgres, root: Path, store: str, endpoint: str, args: argparse.Namespace
) -> StoreRun:
    from exchange.connector.client import HubClient
    from exchange.connector.config import ConnectorConfig, load_keys, outbox_dir
    from exchange.connector.spool import spool
    from exchange.core.db import session_scope
    from exchange.core.settings import load_settings
    from exchange.platforms.exchange.models import Delivery
    from exchange.platforms.exchange.relay import service as relay

    node = cluster.ClusterNode
    province = node(cluster.PROVINCE, "province", free_port(), root / "p", None, (CITY,))
    city = node(CITY, "city", free_port(), root / CITY, cluster.PROVINCE, (DISTRICT,))
    district = node(DISTRICT, "district", free_port(), root / DISTRICT, CITY, ())
    plan = [province, city, district]
    template = pg.url(f"bench_{store}_{{code}}")
    envs = {}
    with ExitStack() as stack:
        for n in (city, district):  # the province is only the batches' address
            n.home.mkdir(parents=True, exist_ok=True)
            pg.create_database(f"bench_{store}_{n.code}")
            envs[n.code] = env = node_env(n, plan, template, store, endpoint)
            for cmd in (("db", "upgrade"), ("node", "init")):
                subprocess.run(cluster.hub(*cmd), env=env, check=True, capture_output=True)
            start_server(stack, ["exchange.cli", "serve", "--port", str(n.port)], env, n.port)
        folder = root / "tj"
        (root / "probe").mkdir()
        register(envs[DISTRICT], district.url, "TJ", folder)
        cfg = ConnectorConfig.load(folder)
        sample = indicator_table(5000, 0)  # zstd-compressed on the wire: measure, not guess
        probe = spool(sample.to_batches(), sample.schema, root / "probe", "macro_indicator")
        rows = max(int(args.batch_mb * 2**20 / (probe.size / sample.num_rows)), 10)
        spooled = [
            spool(
                indicator_table(rows, i).to_batches(max_chunksize=65_536),
                sample.schema,
                outbox_dir(folder),
                "macro_indicator",
                destination=cluster.PROVINCE,
            )
            for i in range(args.batches)
        ]
        megabytes = sum(b.size for b in spooled) / 2**20
        origin = f"{DISTRICT}/TJ/{cfg.connector_id}"
        errors: list[str] = []

        def push(part: list[Any]) -> None:
            client = HubClient(district.url, cfg.connector_id, load_keys(folder), timeout_s=300)
            try:
                for b in part:
                    receipt = client.push(b, origin=origin)
                    if receipt.get("status") != "forwarded":
                        errors.append(str(receipt)[:300])
            finally:
                client.close()

        start = time.perf_counter()
        threads = [threading.Thread(target=push, args=(spooled[i::2],)) for i in range(2)]
        for t in threads:
            t.start()
        for t in threads:
            t.join()
        intake_s = time.perf_counter() - start
        if errors:
            raise RuntimeError(f"intake refused batches: {errors[:3]}")

        saved = dict(os.environ)
        os.environ.update(envs[DISTRICT])
        try:
            rt = build_runtime(load_settings())
        finally:
            os.environ.clear()
            os.environ.update(saved)
        try:
            start = time.perf_counter()
            with httpx.Client(timeout=httpx.Timeout(30.0, read=600.0)) as http:
                while relay.run_once(rt, http, limit=100):
                    pass
            relay_s = time.perf_counter() - start
            with session_scope(rt.sessions) as s:
                states = list(s.scalars(select(Delivery.state)))
        finally:
            rt.close()
        if states.count("delivered") != args.batches:
            raise RuntimeError(f"relay did not deliver every batch: {states}")
    return StoreRun(store, args.batches, megabytes, intake_s, relay_s)


def store_rows(runs: list[StoreRun]) -> list[Row]:
    local, s3 = runs
    rows = []
    phases = (("intake connector -> district", "intake_s"), ("relay district -> city", "relay_s"))
    for name, field in phases:
        local_s, s3_s = getattr(local, field), getattr(s3, field)
        rows += [
            Row(f"{name}, S3 store", s3.megabytes / s3_s, "MB/s", local.megabytes / local_s,
                "local folder"),
            Row(f"{name}, S3 store", s3.batches / s3_s, "batches/s", local.batches / local_s,
                "local folder"),
        ]  # fmt: skip
    return rows


def main(argv: list[str] | None = None) -> list[Row]:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2, 4])
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3, help="median of this many per setup")
    parser.add_argument("--batches", type=int, default=24)
    parser.add_argument("--batch-mb", type=float, default=4.0)
    args = parser.parse_args(argv)

    with ExitStack() as stack, tempfile.TemporaryDirectory(prefix="hub-bench-deploy-") as tmp:
        pg = LocalPostgres()
        pg.start()
        stack.callback(pg.stop)
        api = shared_api(pg, Path(tmp) / "api", args)
        with moto_server() as endpoint:
            stores = [
                store_run(pg, Path(tmp) / store, store, endpoint, args) for store in ("local", "s3")
            ]

    cores = os.cpu_count() or 1
    print(
        f"\nshared API: {args.rows:,} residents; {args.clients} keep-alive clients; "
        f"{args.seconds:g} s measured after {args.warmup:g} s warm-up per configuration, median "
        f"of {args.rounds} rounds through all configurations; "
        f"this machine has {cores} cores shared by the load generator, the workers, the primary "
        f"and the replica, so workers beyond {cores} cannot add throughput here"
    )
    for r in api:
        if r.replica:
            print(
                f"  {r.workers} worker(s) with replica: {r.replica_xacts:,} transactions served "
                f"by the replica during the catalogue load"
            )
    print(
        f"relay and intake: {args.batches} batches of {stores[0].megabytes / args.batches:.1f} MB "
        f"(macro_indicator, addressed to the province), {stores[0].megabytes:.1f} MB in all, "
        "through a local folder and through moto's S3 server on loopback"
    )
    rows = api_rows(api) + store_rows(stores)
    print_table("Scale-out: workers, read replica, S3-compatible payload store", rows)
    return rows


if __name__ == "__main__":
    main(sys.argv[1:])
