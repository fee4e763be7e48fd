"""Calls across levels: a keyed lookup by a district department for a province resource,
through district -> city -> province, against the same lookup made at the province directly.

Three `hub serve` processes (one worker each) on one throwaway PostgreSQL (a database per
node), loopback. Latency runs use one client (what a hop adds, without queueing); throughput
runs use 32 keep-alive clients. Runs alternate, median of the rounds.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import subprocess
import tempfile
import time
from contextlib import ExitStack
from pathlib import Path

import httpx
from sqlalchemy import create_engine

from bench.loadgen import Result, load
from bench.report import Row, print_table
from bench.sharing import median_run
from exchange import cluster
from exchange.testing.grants import direct_grant
from exchange.testing.postgres import LocalPostgres, free_port

PROVINCE, CITY, DISTRICT = cluster.PROVINCE, cluster.CITY, "330102000000"
FIELDS = ("address_id", "kind", "name", "division", "longitude", "latitude")
HOPS = 2  # district -> city, city -> province


def _hub(env: dict[str, str], *args: str) -> str:
    done = subprocess.run(cluster.hub(*args), env=env, capture_output=True, text=True, timeout=600)
    if done.returncode != 0:
        raise RuntimeError(f"hub {' '.join(args)}: {done.stderr[-2000:]}")
    return done.stdout


def _publish(env: dict[str, str], url: str, folder: Path, rows: int) -> list[str]:
    out = _hub(env, "connector", "register", "--hub", url, "--department", "ZRZY",
               "--dir", str(folder))  # fmt: skip
    _hub(env, "connector", "approve", out.strip())
    csv = folder / "addresses.csv"
    keys = [f"ZJ-B-{i:07d}" for i in range(rows)]
    with csv.open("w") as fh:
        fh.write("address_id,kind,name,division,longitude,latitude\n")
        for i, k in enumerate(keys):
            fh.write(f"{k},school,学校{i},330106000000,120.08,30.30\n")
    _hub(env, "connector", "push", "--resource", "geo_address", str(csv), "--dir", str(folder))
    return keys


def _token(env: dict[str, str], url: str, department: str) -> str:
    import json

    client = json.loads(_hub(env, "client", "add", f"bench-{department}", "--department",
                             department))  # fmt: skip
    r = httpx.post(f"{url}/sharing/v1/token", data={"grant_type": "client_credentials", **client})
    return str(r.json()["access_token"])


def _wait_loaded(url: str, path: str, headers: dict[str, str]) -> None:
    deadline = time.monotonic() + 120
    while (r := httpx.get(url + path, headers=headers, timeout=30)).status_code != 200:
        if time.monotonic() > deadline:
            raise RuntimeError(f"never loaded: {r.status_code} {r.text[:300]}")
        time.sleep(0.5)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--warmup", type=float, default=2.0)
    parser.add_argument("--rounds", type=int, default=3)
    args = parser.parse_args(argv)

    with (
        ExitStack() as stack,
        tempfile.TemporaryDirectory(
            prefix="hub-bench-vertical-", ignore_cleanup_errors=True
        ) as tmp,
    ):
        pg = LocalPostgres()
        pg.start()
        stack.callback(pg.stop)
        root = Path(tmp)
        nodes = [
            cluster.ClusterNode(n.code, n.level, free_port(), n.home, n.parent, n.children)
            for n in cluster.plan(1, free_port(), root)
        ]
        for n in nodes:
            pg.create_database(f"hub_{n.code}")
        template = pg.url("hub_{code}")
        quiet = {"log_level": "WARNING", "relay_interval_s": 0.5}
        procs = cluster.start(nodes, template, [], extra={n.code: quiet for n in nodes})
        stack.callback(cluster.stop, procs)
        cluster.wait_ready(nodes)
        by = {n.code: n for n in nodes}
        envs = {c: cluster.node_env(by[c], nodes, template) for c in by}

        keys = _publish(envs[PROVINCE], by[PROVINCE].url, root / "zrzy", args.rows)
        engine = create_engine(pg.url(f"hub_{PROVINCE}"))
        for consumer in ((PROVINCE, "TJ"), (DISTRICT, "JY")):
            if consumer[0] == DISTRICT:
                _hub(envs[DISTRICT], "department", "add", "JY", "上城区教育局")
            direct_grant(
                engine, provider=(PROVINCE, "ZRZY"), consumer=consumer, resource="geo_address",
                fields=FIELDS, rate_per_minute=10**9, rows_per_day=10**12,
            )  # fmt: skip
        engine.dispose()
        direct = {"Authorization": f"Bearer {_token(envs[PROVINCE], by[PROVINCE].url, 'TJ')}"}
        relayed = {
            "Authorization": f"Bearer {_token(envs[DISTRICT], by[DISTRICT].url, 'JY')}",
            "X-Provider-Node": PROVINCE,
        }
        paths = [
            f"/sharing/v1/resources/geo_address/records/{k}"
            for k in keys[:: max(1, args.rows // 5000)]
        ]
        _wait_loaded(by[PROVINCE].url, paths[-1], direct)
        _wait_loaded(by[DISTRICT].url, paths[-1], relayed)

        p_port, d_port = by[PROVINCE].port, by[DISTRICT].port
        one = {"clients": 1, "warmup": args.warmup, "seconds": args.seconds}
        many = {"clients": args.clients, "warmup": args.warmup, "seconds": args.seconds}
        runs: dict[str, list[Result]] = {"d1": [], "r1": [], "dn": [], "rn": []}
        for _ in range(args.rounds):  # alternated, so both see the same machine
            runs["d1"].append(load(p_port, paths, headers=direct, **one))
            runs["r1"].append(load(d_port, paths, headers=relayed, **one))
            runs["dn"].append(load(p_port, paths, headers=direct, **many))
            runs["rn"].append(load(d_port, paths, headers=relayed, **many))
        d1, r1, dn, rn = (median_run(runs[k]) for k in ("d1", "r1", "dn", "rn"))
        bad = {k: sum(n for s, n in median_run(v).statuses.items() if s != 200)
               for k, v in runs.items()}  # fmt: skip

    p50_hop = (r1.p50 - d1.p50) / HOPS
    p99_hop = (r1.percentile(99) - d1.percentile(99)) / HOPS
    print(
        f"\nkeyed lookup of one address among {args.rows:,} province rows; district -> city -> "
        f"province vs the province directly; {args.seconds:g} s measured after {args.warmup:g} s "
        f"warm-up, median of {args.rounds} alternating rounds; non-200 answers: {bad}"
    )
    print_table(
        f"calls across levels ({dt.date.today()})",
        [
            Row("p50 through 2 hops, 1 client", r1.p50, "ms", d1.p50, "at the province"),
            Row(
                "p99 through 2 hops, 1 client",
                r1.percentile(99),
                "ms",
                d1.percentile(99),
                "at the province",
            ),
            Row("added p50 per hop", p50_hop, "ms", target="< 3 ms", ok=p50_hop < 3),
            Row("added p99 per hop", p99_hop, "ms", target="< 15 ms", ok=p99_hop < 15),
            Row(
                f"throughput through 2 hops, {args.clients} clients",
                rn.rate,
                "req/s",
                dn.rate,
                "at the province",
            ),
            Row(
                f"p99 through 2 hops, {args.clients} clients",
                rn.percentile(99),
                "ms",
                dn.percentile(99),
                "at the province",
            ),
        ],
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
