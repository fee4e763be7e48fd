"""Exchange platform benchmark: connector -> node throughput, memory on a big batch, relay per hop.

    python -m bench.exchange [--rows 1000000] [--big-mb 1024] [--relay-mb 100]

Everything runs for real: a throwaway PostgreSQL, `hub serve` node processes, the `hub connector
push` command. Baselines are measured in the same run on the same server.
"""

from __future__ import annotations

import argparse
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pyarrow.csv as pacsv

from bench.baseline import checkpoint, create_raw_table
from bench.report import Row, print_table
from exchange import cluster
from exchange.testing.postgres import LocalPostgres, free_port

CITY, DISTRICT = cluster.CITY, "330106000000"


@dataclass
class Proc:
    popen: subprocess.Popen[bytes]

    def peak_rss_mb(self) -> float:
        for line in Path(f"/proc/{self.popen.pid}/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) / 1024
        return float("nan")

    def reset_peak(self) -> None:
        Path(f"/proc/{self.popen.pid}/clear_refs").write_text("5")

    def stop(self) -> None:
        self.popen.terminate()
        self.popen.wait(timeout=60)


def run_timed(cmd: list[str], env: dict[str, str]) -> tuple[float, float, str]:
    """Wall seconds, peak RSS in MB and stdout of a child process.

    The peak is the child's own VmHWM, polled while it runs. wait4's ru_maxrss would be wrong:
    a child forked from this (large) benchmark process starts with its parent's resident pages
    and the kernel carries that high-water mark across exec.
    """
    start = time.perf_counter()
    with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
        p = subprocess.Popen(cmd, env=env, stdout=out, stderr=err)
        status = Path(f"/proc/{p.pid}/status")
        peak_kb = 0
        while p.poll() is None:
            try:
                for line in status.read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peak_kb = max(peak_kb, int(line.split()[1]))
            except (OSError, ValueError):
                pass
            time.sleep(0.02)
        elapsed = time.perf_counter() - start
        out.seek(0)
        err.seek(0)
        stdout, stderr = out.read().decode(), err.read().decode()
    if p.returncode != 0:
        raise RuntimeError(f"{' '.join(cmd[-6:])} failed: {stderr[-2000:]}")
    return elapsed, peak_kb / 1024, stdout


def start_nodes(
    pg: LocalPostgres, root: Path, plan: list[cluster.ClusterNode], relay_up: list[str]
) -> tuple[dict[str, dict[str, str]], dict[str, Proc]]:
    envs, procs = {}, {}
    for n in plan:
        n.home.mkdir(parents=True, exist_ok=True)
        env = cluster.node_env(n, plan, pg.create_database(f"bench_{n.code}"))
        env.update({"HUB_RELAY_INTERVAL_S": "0.1", "HUB_LOG_LEVEL": "WARNING"})
        for args in (("db", "upgrade"), ("node", "init")):
            subprocess.run(cluster.hub(*args), env=env, check=True, capture_output=True)
        if n.parent:
            for resource in relay_up:
                subprocess.run(
                    cluster.hub("subscription", "add", "--resource", resource, "--node", n.parent),
                    env=env,
                    check=True,
                    capture_output=True,
                )
        log = (n.home / "node.log").open("ab")
        procs[n.code] = Proc(
            subprocess.Popen(
                cluster.hub("serve", "--port", str(n.port)), env=env, stdout=log, stderr=log
            )
        )
        envs[n.code] = env
    cluster.wait_ready(plan)
    return envs, procs


def register(env: dict[str, str], url: str, department: str, folder: Path) -> None:
    out = subprocess.run(
        cluster.hub(
            "connector", "register", "--hub", url, "--department", department, "--dir", str(folder)
        ),
        env=env,
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    subprocess.run(
        cluster.hub("connector", "approve", out), env=env, check=True, capture_output=True
    )


def people_csv(path: Path, rows: int, seed: int) -> int:
    """Synthetic residents as CSV, a chunk per city of 浙江省 so ID numbers never collide."""
    from basebases.synthetic import people
    from exchange.core import divisions

    cities = [d.code for d in divisions.children_of("330000000000")]
    per_city = -(-rows // len(cities))
    written = 0
    with pacsv.CSVWriter(path, people(1, seed=seed).schema) as w:
        for city in cities:
            chunk = min(per_city, rows - written)
            if chunk <= 0:
                break
            w.write_table(people(chunk, seed=seed, city_code=city))
            written += chunk
    return path.stat().st_size


def raw_copy_seconds(pg: LocalPostgres, dbname: str, csv: Path) -> float:
    """COPY the same CSV into a table shaped and indexed like ds_population."""
    with psycopg.connect(pg.dsn(dbname)) as conn:
        create_raw_table(conn, "ds_population", "raw_population")
        checkpoint(pg.dsn(dbname))
        header = csv.open(encoding="utf-8").readline().strip()
        start = time.perf_counter()
        with (
            conn.cursor().copy(
                f"COPY raw_population ({header}) FROM STDIN (FORMAT csv, HEADER true)"
            ) as copy,
            csv.open("rb") as fh,
        ):
            while chunk := fh.read(8 << 20):
                copy.write(chunk)
        conn.commit()
        elapsed = time.perf_counter() - start
        conn.execute("DROP TABLE raw_population")
        conn.commit()
    return elapsed


def push(
    env: dict[str, str], folder: Path, csv: Path, resource: str = "population"
) -> tuple[Any, ...]:
    return run_timed(
        cluster.hub("connector", "push", "--resource", resource, str(csv), "--dir", str(folder)),
        env,
    )


def wait_accepted(
    url: str, env: dict[str, str], batch_id: str, node: cluster.ClusterNode, timeout_s: float = 1800
) -> float:
    from exchange.core import signing
    from exchange.core.signing import KeyPair

    caller = node.parent or node.children[0]
    keys = KeyPair.load(Path(env["HUB_VAR_DIR"]).parent / caller / "node.key")
    target = f"/exchange/v1/batches/{batch_id}"
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        auth = signing.authorization_header(caller, keys, "GET", target)
        r = httpx.get(url + target, headers={"Authorization": auth}, timeout=30)
        if r.status_code == 200 and r.json()["status"] == "accepted":
            return time.perf_counter()
        time.sleep(0.05)
    raise TimeoutError(f"batch {batch_id} not accepted at {url}")


def main(argv: list[str] | None = None) -> list[Row]:
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--rows", type=int, default=1_000_000)
    ap.add_argument("--big-mb", type=int, default=1024)
    ap.add_argument("--relay-mb", type=int, default=100)
    args = ap.parse_args(argv)
    rows: list[Row] = []
    # A node's files may still be closing as the folder goes: never lose the figures to that.
    with tempfile.TemporaryDirectory(prefix="bench-exchange-", ignore_cleanup_errors=True) as tmp:
        root = Path(tmp)
        pg = LocalPostgres()
        pg.start()
        try:
            rows += throughput_and_memory(pg, root, args.rows, args.big_mb)
            rows += relay_per_hop(pg, root / "relay", args.relay_mb)
        finally:
            pg.stop()
    print_table("Exchange platform", rows)
    return rows


def throughput_and_memory(pg: LocalPostgres, root: Path, n: int, big_mb: int) -> list[Row]:
    plan = [cluster.ClusterNode(CITY, "city", free_port(), root / CITY, None, ())]
    envs, procs = start_nodes(pg, root, plan, [])
    env, node = envs[CITY], procs[CITY]
    folder = root / "ga"
    register(env, plan[0].url, "GA", folder)
    out: list[Row] = []
    try:
        csv = root / "people.csv"
        size = people_csv(csv, n, seed=1)
        raw = raw_copy_seconds(pg, f"bench_{CITY}", csv)
        checkpoint(pg.dsn(f"bench_{CITY}"))
        node.reset_peak()
        took, connector_rss, _ = push(env, folder, csv)
        out.append(
            Row(
                f"push {n:,} population rows, connector -> city (PG)",
                n / took,
                "rows/s",
                n / raw,
                "raw COPY rows/s",
                target=">= 0.5",
                ok=(raw / took) >= 0.5,
            )
        )
        csv.unlink()
        big = root / "big.csv"
        big_rows = int(n * big_mb * 2**20 / size)
        people_csv(big, big_rows, seed=7)
        node.reset_peak()
        took, connector_rss, _ = push(env, folder, big)
        big_size = big.stat().st_size / 2**20
        out.append(
            Row(
                f"{big_size:,.0f} MB batch ({big_rows:,} rows): node peak RSS",
                node.peak_rss_mb(),
                "MB",
                300,
                "target MB",
                target="< 300 MB",
                ok=node.peak_rss_mb() < 300,
            )
        )
        out.append(
            Row(
                f"{big_size:,.0f} MB batch: connector peak RSS",
                connector_rss,
                "MB",
                300,
                "target MB",
                target="< 300 MB",
                ok=connector_rss < 300,
            )
        )
        out.append(
            Row(
                f"{big_size:,.0f} MB batch end to end",
                big_rows / took,
                "rows/s",
                n / raw,
                "raw COPY rows/s",
            )
        )
    finally:
        node.stop()
    return out


def relay_per_hop(pg: LocalPostgres, root: Path, mb: int) -> list[Row]:
    plan = [
        cluster.ClusterNode(
            cluster.PROVINCE, "province", free_port(), root / cluster.PROVINCE, None, (CITY,)
        ),
        cluster.ClusterNode(CITY, "city", free_port(), root / CITY, cluster.PROVINCE, (DISTRICT,)),
        cluster.ClusterNode(DISTRICT, "district", free_port(), root / DISTRICT, CITY, ()),
    ]
    envs, procs = start_nodes(pg, root, plan, ["population"])
    by = {p.code: p for p in plan}
    folder = root / "ga"
    register(envs[DISTRICT], by[DISTRICT].url, "GA", folder)
    try:
        csv = root / "people.csv"
        rows = int(mb * 2**20 / 150)
        people_csv(csv, rows, seed=3)
        start = time.perf_counter()
        _, _, stdout = push(envs[DISTRICT], folder, csv)
        batch_id = stdout.split()[0]
        t1 = time.perf_counter()
        t2 = wait_accepted(by[CITY].url, envs[CITY], batch_id, by[CITY])
        t3 = wait_accepted(
            by[cluster.PROVINCE].url, envs[cluster.PROVINCE], batch_id, by[cluster.PROVINCE]
        )
    finally:
        for p in procs.values():
            p.stop()
    single = t1 - start
    per_hop = (t3 - t1) / 2
    return [
        Row(
            f"relay {csv.stat().st_size / 2**20:,.0f} MB ({rows:,} rows): added time per hop",
            per_hop,
            "s",
            single,
            "single hop s",
        ),
        Row("  district -> city", t2 - t1, "s", single, "single hop s"),
        Row("  city -> province", t3 - t2, "s", single, "single hop s"),
    ]


if __name__ == "__main__":
    main(sys.argv[1:])
    sys.exit(0)
