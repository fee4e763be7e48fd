"""Key rotation under load: a connector and a node relay keep calling while their keys change.

A city (two workers) and one of its districts run as real processes on PostgreSQL. A connector at
the city lists its inbox in a loop; a connector at the district pushes batches in a loop, which
the district's relay forwards to the city, signed with the district's node key. Meanwhile
`hub connector rotate-key` and `hub node rotate-key` run. Not one call may fail; after the
overlap the old keys get 401; what the old keys signed still verifies.
"""

from __future__ import annotations

import subprocess
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import httpx
import psycopg
import pyarrow as pa
import pytest

from exchange import cluster
from exchange.connector.client import HubClient, HubUnavailable, PushRefused
from exchange.connector.config import KEY_FILE, load_keys, outbox_dir
from exchange.connector.spool import spool
from exchange.core import signing
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.signing import KeyPair
from exchange.platforms.exchange.lineage.service import verify as verify_receipt
from exchange.testing.postgres import LocalPostgres, free_port

pytestmark = pytest.mark.slow

CITY, DISTRICT = cluster.CITY, "330106000000"
GRACE_S = 4


@dataclass
class Pair:
    city: cluster.ClusterNode
    district: cluster.ClusterNode
    nodes: list[cluster.ClusterNode]
    database_url: str
    procs: list[subprocess.Popen[bytes]] = field(default_factory=list)

    def env(self, node: cluster.ClusterNode) -> dict[str, str]:
        env = cluster.node_env(node, self.nodes, self.database_url)
        env |= {"HUB_LOG_LEVEL": "WARNING", "HUB_RELAY_INTERVAL_S": "0.2"}
        return env

    def hub(self, node: cluster.ClusterNode, *args: str) -> str:
        done = subprocess.run(
            cluster.hub(*args), env=self.env(node), capture_output=True, text=True, timeout=120
        )
        assert done.returncode == 0, f"hub {' '.join(args)}: {done.stderr}"
        return done.stdout.strip()

    def dsn(self, node: cluster.ClusterNode) -> str:
        url = self.database_url.format(code=node.code)
        return url.replace("postgresql+psycopg://", "postgresql://")


@pytest.fixture(scope="module")
def pair(pg_server: LocalPostgres, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Pair]:
    root = tmp_path_factory.mktemp("rotation")
    city = cluster.ClusterNode(CITY, "city", free_port(), root / CITY, None, (DISTRICT,))
    district = cluster.ClusterNode(DISTRICT, "district", free_port(), root / DISTRICT, CITY, ())
    for node in (city, district):
        node.home.mkdir()
        pg_server.create_database(f"rot_{node.code}")
    p = Pair(city, district, [city, district], pg_server.url("rot_{code}"))
    for node in p.nodes:
        p.hub(node, "db", "upgrade")
        p.hub(node, "node", "init")
    p.hub(district, "subscription", "add", "--resource", "macro_indicator", "--node", CITY)
    for node, workers in ((city, "2"), (district, "1")):
        log = (node.home / "node.log").open("ab")
        p.procs.append(
            subprocess.Popen(
                cluster.hub("serve", "--port", str(node.port), "--workers", workers),
                env=p.env(node),
                stdout=log,
                stderr=log,
            )
        )
    try:
        cluster.wait_ready(p.nodes)
        yield p
    finally:
        cluster.stop(p.procs)


def connector_at(p: Pair, node: cluster.ClusterNode, department: str, folder: Path) -> str:
    connector_id = p.hub(
        node, "connector", "register", "--hub", node.url, "--department", department,
        "--dir", str(folder),
    )  # fmt: skip
    p.hub(node, "connector", "approve", connector_id)
    return connector_id


def indicator_batch(i: int) -> pa.Table:
    schema = load_all(SCHEMAS_DIR)["macro_indicator"].arrow_schema()
    return pa.table(
        {
            "indicator": ["GDP"],
            "division": [DISTRICT],
            "period": [str(1000 + i)],
            "value": [float(i)],
            "unit": ["亿元"],
            "source": ["西湖区统计局"],
        },
        schema=schema,
    )


@dataclass
class Load:
    calls: int = 0
    failures: list[str] = field(default_factory=list)
    batches: list[str] = field(default_factory=list)
    stop: threading.Event = field(default_factory=threading.Event)


def list_inbox(url: str, connector_id: str, folder: Path, load: Load) -> None:
    client = HubClient(url, connector_id, load_keys(folder), timeout_s=30)
    try:
        while not load.stop.is_set():
            try:
                r = client.get("/exchange/v1/inbox")
                ok = r.status_code == 200
                problem = f"{r.status_code} {r.text[:200]}"
            except httpx.HTTPError as exc:
                ok, problem = False, f"{type(exc).__name__}: {exc}"
            load.calls += 1
            if not ok:
                load.failures.append(problem)
            time.sleep(0.02)
    finally:
        client.close()


def push_batches(p: Pair, connector_id: str, folder: Path, load: Load) -> None:
    client = HubClient(p.district.url, connector_id, load_keys(folder), timeout_s=30)
    schema = load_all(SCHEMAS_DIR)["macro_indicator"].arrow_schema()
    origin = f"{DISTRICT}/TJ/{connector_id}"
    try:
        i = 0
        while not load.stop.is_set():
            rows = indicator_batch(i).to_batches()
            batch = spool(rows, schema, outbox_dir(folder), "macro_indicator")
            try:
                receipt = client.push(batch, origin=origin)
                load.batches.append(receipt["batch_id"])
            except (PushRefused, HubUnavailable) as exc:
                load.failures.append(str(exc))
            load.calls += 1
            i += 1
            time.sleep(0.1)
    finally:
        client.close()


def deliveries(p: Pair) -> list[tuple[str, int, str | None]]:
    with psycopg.connect(p.dsn(p.district)) as conn:
        rows = conn.execute(
            "SELECT state, attempts, last_error FROM delivery WHERE node_code = %s", (CITY,)
        ).fetchall()
    return [(r[0], r[1], r[2]) for r in rows]


def signed_get(url: str, key_id: str, pair: KeyPair, target: str) -> httpx.Response:
    auth = signing.authorization_header(key_id, pair, "GET", target)
    return httpx.get(url + target, headers={"Authorization": auth}, timeout=30)


def test_rotating_connector_and_node_keys_under_load_fails_no_call(
    pair: Pair, tmp_path: Path
) -> None:
    p = pair
    city_folder, district_folder = tmp_path / "city-fg", tmp_path / "district-tj"
    city_connector = connector_at(p, p.city, "FG", city_folder)
    district_connector = connector_at(p, p.district, "TJ", district_folder)
    old_connector_key = KeyPair.load(city_folder / KEY_FILE)
    old_node_key = KeyPair.load(p.district.home / "node.key")

    inbox, pushes = Load(), Load()
    threads = [
        threading.Thread(target=list_inbox, args=(p.city.url, city_connector, city_folder, inbox)),
        threading.Thread(
            target=push_batches, args=(p, district_connector, district_folder, pushes)
        ),
    ]
    for t in threads:
        t.start()
    try:
        time.sleep(1.5)  # calls with the old keys
        grace = str(GRACE_S)
        new_connector_key_id = p.hub(
            p.city, "connector", "rotate-key", "--dir", str(city_folder), "--grace", grace
        )
        new_node_key_id = p.hub(p.district, "node", "rotate-key", "--grace", grace)
        time.sleep(GRACE_S + 1.5)  # the overlap ends while the calls go on
    finally:
        for load in (inbox, pushes):
            load.stop.set()
        for t in threads:
            t.join(timeout=60)

    assert inbox.failures == [] and pushes.failures == []
    assert inbox.calls > 50 and len(pushes.batches) > 20
    assert KeyPair.load(city_folder / KEY_FILE).key_id == new_connector_key_id
    assert KeyPair.load(p.district.home / "node.key").key_id == new_node_key_id

    deadline = time.monotonic() + 30
    sent = deliveries(p)
    while any(state != "delivered" for state, _, _ in sent):
        assert time.monotonic() < deadline, f"relay stalled: {sent}"
        time.sleep(0.3)
        sent = deliveries(p)
    assert len(sent) == len(pushes.batches)
    assert all(attempts == 1 and error is None for _, attempts, error in sent), sent

    # After the overlap the old keys are refused, by key id, at the hub that verifies them.
    old = signed_get(
        p.city.url,
        signing.qualified_key_id(city_connector, old_connector_key),
        old_connector_key,
        "/exchange/v1/inbox",
    )
    assert old.status_code == 401 and old.json()["error"] == "KeyRetired"
    target = f"/exchange/v1/batches/{pushes.batches[0]}"
    old = signed_get(
        p.city.url, signing.qualified_key_id(DISTRICT, old_node_key), old_node_key, target
    )
    assert old.status_code == 401 and old.json()["error"] == "KeyRetired"

    # The first batch was relayed with the old district key: its lineage still verifies, with
    # keys the district publishes as its history.
    new_node_key = KeyPair.load(p.district.home / "node.key")
    first = signed_get(
        p.city.url, signing.qualified_key_id(DISTRICT, new_node_key), new_node_key, target
    )
    assert first.status_code == 200, first.text
    history = {k["key_id"]: k for k in httpx.get(f"{p.district.url}/exchange/v1/node/keys").json()}
    assert history[old_node_key.key_id]["state"] == "retired"
    assert history[new_node_key_id]["state"] == "current"
    district_steps = [s for s in first.json()["lineage"] if s["node"] == DISTRICT]
    assert district_steps and all(s["key_id"] == old_node_key.key_id for s in district_steps)
    for step in first.json()["lineage"]:
        assert verify_receipt(step, pushes.batches[0], step["public_key"]), step
        if step["node"] == DISTRICT:
            assert step["public_key"] == history[step["key_id"]]["public_key"]
    city_keys = httpx.get(f"{p.city.url}/exchange/v1/nodes/{DISTRICT}/keys").json()
    assert [(k["key_id"], k["state"]) for k in city_keys] == [
        (old_node_key.key_id, "retired"),
        (new_node_key_id, "current"),
    ]


def test_a_rotation_signed_by_another_principal_changes_nothing(pair: Pair, tmp_path: Path) -> None:
    p = pair
    victim = connector_at(p, p.city, "GA", tmp_path / "victim")
    intruder = connector_at(p, p.city, "TJ", tmp_path / "intruder")
    intruder_keys = KeyPair.load(tmp_path / "intruder" / KEY_FILE)
    client = HubClient(p.city.url, intruder, intruder_keys, timeout_s=30)
    try:
        body = {"public_key": KeyPair.generate().public_b64}
        r = client.post_json(f"/exchange/v1/connectors/{victim}/keys", body)
    finally:
        client.close()
    assert r.status_code == 403 and r.json()["error"] == "NotKeyOwner"
    victim_keys = KeyPair.load(tmp_path / "victim" / KEY_FILE)
    mine = signed_get(
        p.city.url,
        signing.qualified_key_id(victim, victim_keys),
        victim_keys,
        f"/exchange/v1/connectors/{victim}/keys",
    )
    assert [(k["key_id"], k["state"]) for k in mine.json()] == [(victim_keys.key_id, "current")]
