"""Kill -9 the city node while it receives and while it relays: nothing lost, nothing doubled.

A connector pushes batches into the city (on PostgreSQL) while a killer thread SIGKILLs and
restarts the city at random moments; then the district comes up and the city is killed again
while it drains its relay outbox. Afterwards every batch is in both nodes exactly once.
"""

from __future__ import annotations

import random
import subprocess
import threading
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psycopg
import pyarrow as pa
import pytest

from exchange import cluster
from exchange.connector.client import HubClient, HubUnavailable
from exchange.connector.config import outbox_dir
from exchange.connector.spool import spool
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.signing import KeyPair
from exchange.testing.postgres import LocalPostgres, free_port

pytestmark = pytest.mark.slow

CITY, DISTRICT = cluster.CITY, "330106000000"
BATCHES, ROWS = 12, 2_000
KILLS_WHILE_RECEIVING, KILLS_WHILE_RELAYING = 6, 5


class Node:
    def __init__(self, node: cluster.ClusterNode, env: dict[str, str]) -> None:
        self.node, self.env = node, env
        self.proc: subprocess.Popen[bytes] | None = None

    def hub(self, *args: str) -> str:
        r = subprocess.run(cluster.hub(*args), env=self.env, capture_output=True, text=True)
        assert r.returncode == 0, r.stderr
        return r.stdout.strip()

    def start(self) -> None:
        log = (self.node.home / "node.log").open("ab")
        self.proc = subprocess.Popen(
            cluster.hub("serve", "--port", str(self.node.port)),
            env=self.env,
            stdout=log,
            stderr=log,
        )
        cluster.wait_ready([self.node])

    def kill(self) -> None:
        assert self.proc is not None
        self.proc.kill()  # SIGKILL: no cleanup, no graceful shutdown
        self.proc.wait()

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(timeout=30)


@pytest.fixture
def nodes(tmp_path: Path, pg_server: LocalPostgres) -> Iterator[tuple[Node, Node]]:
    plan = [
        cluster.ClusterNode(CITY, "city", free_port(), tmp_path / CITY, None, (DISTRICT,)),
        cluster.ClusterNode(DISTRICT, "district", free_port(), tmp_path / DISTRICT, CITY, ()),
    ]
    made = []
    for n in plan:
        n.home.mkdir(parents=True, exist_ok=True)
        env = cluster.node_env(n, plan, pg_server.create_database(f"crash_{n.code}"))
        env.update({"HUB_RELAY_INTERVAL_S": "0.2", "HUB_RELAY_MAX_BACKOFF_S": "1"})
        node = Node(n, env)
        node.hub("db", "upgrade")
        node.hub("node", "init")
        made.append(node)
    city, district = made
    city.hub("subscription", "add", "--resource", "geo_address", "--node", DISTRICT)
    yield city, district
    city.stop()
    district.stop()


def addresses(batch: int) -> pa.Table:
    schema = load_all(SCHEMAS_DIR)["geo_address"].arrow_schema()
    return pa.table(
        {
            "address_id": [f"b{batch:03d}-{i:05d}" for i in range(ROWS)],
            "kind": ["address"] * ROWS,
            "name": [f"西湖区文三路{i}号" for i in range(ROWS)],
            "division": [DISTRICT] * ROWS,
            "longitude": [120.13] * ROWS,
            "latitude": [30.26] * ROWS,
        },
        schema=schema,
    )


def killer(node: Node, kills: int, stop: threading.Event, done: list[int]) -> None:
    rng = random.Random(42)
    for _ in range(kills):
        if stop.wait(rng.uniform(0.2, 1.2)):
            return
        node.kill()
        done.append(1)
        node.start()


def push_all(city: Node, folder: Path, connector_id: str, killing: threading.Event) -> list[str]:
    """At least BATCHES batches, and more while the killer is still at work: every kill of this
    phase then lands while the city is receiving, however fast it got."""
    keys = KeyPair.load(folder / "connector.key")
    client = HubClient(city.node.url, connector_id, keys, timeout_s=30)
    schema = load_all(SCHEMAS_DIR)["geo_address"].arrow_schema()
    origin = f"{CITY}/ZRZY/{connector_id}"
    ids = []
    try:
        b = 0
        while b < BATCHES or killing.is_set():
            b += 1
            spooled = spool(addresses(b).to_batches(), schema, outbox_dir(folder), "geo_address")
            while True:  # the connector's at-least-once loop
                try:
                    client.push(spooled, origin=origin)
                    break
                except HubUnavailable:
                    time.sleep(0.2)
            ids.append(spooled.batch_id)
    finally:
        client.close()
    return ids


def count(url: str, sql: str) -> int:
    conninfo = url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(conninfo) as conn:
        row = conn.execute(sql).fetchone()
    return int(row[0]) if row else 0


def test_kill_minus_nine_loses_and_doubles_nothing(
    nodes: tuple[Node, Node], tmp_path: Path
) -> None:
    city, district = nodes
    folder = tmp_path / "zrzy"
    city.start()
    registered = subprocess.run(
        cluster.hub(
            "connector",
            "register",
            "--hub",
            city.node.url,
            "--department",
            "ZRZY",
            "--dir",
            str(folder),
        ),
        env=city.env,
        capture_output=True,
        text=True,
    )
    assert registered.returncode == 0, registered.stderr
    connector_id = registered.stdout.strip()
    city.hub("connector", "approve", connector_id)

    # Phase 1: kill the city while it receives (the district is down: the outbox fills up).
    kills: list[int] = []
    killing = threading.Event()
    killing.set()

    def kill_while_receiving() -> None:
        killer(city, KILLS_WHILE_RECEIVING, threading.Event(), kills)
        killing.clear()

    t = threading.Thread(target=kill_while_receiving)
    t.start()
    batch_ids = push_all(city, folder, connector_id, killing)
    t.join()

    # Phase 2: the district comes up; kill the city while it relays the backlog.
    district.start()
    stop2 = threading.Event()
    t2 = threading.Thread(target=killer, args=(city, KILLS_WHILE_RELAYING, stop2, kills))
    t2.start()
    t2.join()
    assert len(kills) >= 10, f"only {len(kills)} kills happened"

    city_db, district_db = city.env["HUB_DATABASE_URL"], district.env["HUB_DATABASE_URL"]
    deadline = time.monotonic() + 120
    while count(city_db, "SELECT count(*) FROM delivery WHERE state <> 'delivered'") > 0:
        assert time.monotonic() < deadline, "relay backlog not drained after restarts"
        time.sleep(0.5)

    pushed = len(batch_ids)
    total = pushed * ROWS
    for db in (city_db, district_db):
        accepted = (
            "SELECT count(*) FROM batch WHERE status = 'accepted' AND resource_code = 'geo_address'"
        )
        assert count(db, accepted) == pushed
        assert count(db, "SELECT count(*) FROM batch WHERE status = 'quarantined'") == 0
        assert count(db, "SELECT count(*) FROM ds_geo_address") == total
        # No batch applied twice: every address has exactly one version.
        assert count(db, "SELECT count(*) FROM ds_geo_address WHERE _version = 1") == total
        assert count(db, "SELECT count(*) FROM ds_geo_address__hist") == 0
    assert count(city_db, "SELECT count(*) FROM delivery") == pushed
    assert len(set(batch_ids)) == pushed >= BATCHES
    assert httpx.get(f"{city.node.url}/readyz").json()["status"] == "ready"
