"""Four workers behind one port on PostgreSQL: kill one under load, lose nothing acknowledged."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx
import psycopg
import pyarrow as pa
import pytest

from exchange.connector.client import HubClient, HubUnavailable
from exchange.connector.spool import spool
from exchange.core.db import session_scope
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.runtime import build_runtime
from exchange.core.settings import load_settings
from exchange.seed import seed_connector
from exchange.testing.postgres import LocalPostgres, free_port

pytestmark = pytest.mark.slow
THREADS, PER_THREAD = 8, 15


def worker_pids(parent: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(parent)], capture_output=True, text=True).stdout
    pids = []
    for pid in map(int, out.split()):
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except FileNotFoundError:  # a child that exited since pgrep listed it
            continue
        if b"spawn_main" in cmdline or b"multiprocessing" in cmdline:
            pids.append(pid)
    return pids


def batch(thread: int, i: int) -> pa.Table:
    schema = load_all(SCHEMAS_DIR)["macro_indicator"].arrow_schema()
    year = str(1700 + thread * PER_THREAD + i)
    return pa.table(
        {
            "indicator": ["GDP", "POP"],
            "division": ["330106000000"] * 2,
            "period": [year] * 2,
            "value": [1.0, 2.0],
            "unit": ["亿元", "万人"],
            "source": ["test"] * 2,
        },
        schema=schema,
    )


def test_killing_a_worker_under_load_loses_no_acknowledged_batch(
    pg_server: LocalPostgres, tmp_path: Path
) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_DATABASE_URL": pg_server.create_database("workers"),
            "HUB_VAR_DIR": str(tmp_path / "var"),
            "HUB_LOG_LEVEL": "WARNING",
        }
    )
    hub = [sys.executable, "-m", "exchange.cli"]
    for args in (["db", "upgrade"], ["node", "init"]):
        subprocess.run([*hub, *args], env=env, check=True, capture_output=True)
    os.environ.update({k: env[k] for k in ("HUB_DATABASE_URL", "HUB_VAR_DIR")})
    try:
        rt = build_runtime(load_settings())
        with session_scope(rt.sessions) as s:
            caller, keys = seed_connector(s, rt, "TJ")
        rt.close()
    finally:
        for k in ("HUB_DATABASE_URL", "HUB_VAR_DIR"):
            os.environ.pop(k, None)

    port = free_port()
    server = subprocess.Popen(
        [*hub, "serve", "--port", str(port), "--workers", "4"],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while len(worker_pids(server.pid)) < 4 or not _ready(url):
            assert time.monotonic() < deadline and server.poll() is None, "workers did not start"
            time.sleep(0.3)

        acknowledged: set[str] = set()
        errors: list[str] = []
        lock = threading.Lock()
        schema = load_all(SCHEMAS_DIR)["macro_indicator"].arrow_schema()

        def load(thread: int) -> None:
            client = HubClient(url, caller.key_id, keys, timeout_s=30)
            outbox = tmp_path / f"outbox-{thread}"
            outbox.mkdir()
            for i in range(PER_THREAD):
                spooled = spool(batch(thread, i).to_batches(), schema, outbox, "macro_indicator")
                for _attempt in range(50):  # a connector retries until acknowledged
                    try:
                        client.push(spooled, origin=caller.path)
                        with lock:
                            acknowledged.add(spooled.batch_id)
                        break
                    except HubUnavailable as exc:
                        with lock:
                            errors.append(str(exc))
                        time.sleep(0.2)
            client.close()

        threads = [threading.Thread(target=load, args=(t,)) for t in range(THREADS)]
        for t in threads:
            t.start()
        while len(acknowledged) < 10:
            time.sleep(0.05)
        victim = worker_pids(server.pid)[0]
        os.kill(victim, signal.SIGKILL)  # mid-load, no warning
        for t in threads:
            t.join(timeout=300)

        assert len(acknowledged) == THREADS * PER_THREAD
        conninfo = env["HUB_DATABASE_URL"].replace("postgresql+psycopg://", "postgresql://")
        with psycopg.connect(conninfo) as conn:
            stored = {
                str(r[0])
                for r in conn.execute("SELECT id FROM batch WHERE status = 'accepted'").fetchall()
            }
            rows = conn.execute("SELECT count(*) FROM ds_macro_indicator").fetchone()
        assert acknowledged <= stored
        assert rows is not None and rows[0] == THREADS * PER_THREAD * 2  # each batch once
        deadline = time.monotonic() + 30
        while len(worker_pids(server.pid)) < 4:  # the supervisor replaced the killed worker
            assert time.monotonic() < deadline, "the killed worker was not replaced"
            time.sleep(0.3)
        assert victim not in worker_pids(server.pid)
        metrics = httpx.get(f"{url}/metrics").text
        assert 'route="/exchange/v1/batches/{batch_id}"' in metrics
    finally:
        server.terminate()
        server.wait(timeout=60)


def _ready(url: str) -> bool:
    try:
        return httpx.get(f"{url}/readyz", timeout=2).status_code == 200
    except httpx.TransportError:
        return False
