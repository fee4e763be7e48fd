"""A province, a city and a district as separate processes: data moves level by level."""

from __future__ import annotations

import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange import cluster
from exchange.core import signing
from exchange.core.signing import KeyPair
from exchange.platforms.exchange.lineage.service import verify as verify_receipt
from exchange.testing.postgres import free_port

pytestmark = pytest.mark.slow

DISTRICT = "330102000000"


class Topology:
    def __init__(self, root: Path) -> None:
        self.nodes = cluster.plan(1, free_port(), root)
        # plan() numbers ports upwards from the base; make sure all of them are free.
        self.nodes = [
            cluster.ClusterNode(n.code, n.level, free_port(), n.home, n.parent, n.children)
            for n in self.nodes
        ]
        self.by_code = {n.code: n for n in self.nodes}
        self.procs: list[subprocess.Popen[bytes]] = []

    def env(self, code: str) -> dict[str, str]:
        return cluster.node_env(self.by_code[code], self.nodes, None)

    def hub(self, code: str, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            cluster.hub(*args), env=self.env(code), capture_output=True, text=True, timeout=120
        )

    def url(self, code: str) -> str:
        return self.by_code[code].url


@pytest.fixture(scope="module")
def topo(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Topology]:
    t = Topology(tmp_path_factory.mktemp("cluster"))
    t.procs = cluster.start(t.nodes, None, ["macro_indicator"])
    try:
        cluster.wait_ready(t.nodes)
        yield t
    finally:
        cluster.stop(t.procs)


def connector(topo: Topology, code: str, department: str, folder: Path) -> Path:
    r = topo.hub(
        code,
        "connector",
        "register",
        "--hub",
        topo.url(code),
        "--department",
        department,
        "--dir",
        str(folder),
    )
    assert r.returncode == 0, r.stderr
    assert topo.hub(code, "connector", "approve", r.stdout.strip()).returncode == 0
    return folder


def batch_at(topo: Topology, code: str, batch_id: str, timeout_s: float = 40) -> dict:
    """Poll a node for a batch, signing as that node's parent or child (an adjacent caller)."""
    node = topo.by_code[code]
    caller = node.parent or node.children[0]
    keys = KeyPair.load(topo.by_code[caller].home / "node.key")
    target = f"/exchange/v1/batches/{batch_id}"
    deadline = time.monotonic() + timeout_s
    while True:
        auth = signing.authorization_header(caller, keys, "GET", target)
        r = httpx.get(node.url + target, headers={"Authorization": auth})
        if r.status_code == 200 and r.json()["status"] != "receiving":
            return r.json()
        assert time.monotonic() < deadline, f"batch {batch_id} never reached {code}: {r.text}"
        time.sleep(0.5)


def test_a_district_batch_is_relayed_up_to_the_province(topo: Topology, tmp_path: Path) -> None:
    folder = connector(topo, DISTRICT, "TJ", tmp_path / "tj")
    csv = tmp_path / "gdp.csv"
    csv.write_text(
        "indicator,division,period,value,unit,source\n"
        "GDP,330102000000,2024,1234.5,亿元,上城区统计局\n"
    )
    pushed = topo.hub(
        DISTRICT,
        "connector",
        "push",
        "--resource",
        "macro_indicator",
        str(csv),
        "--dir",
        str(folder),
    )
    assert pushed.returncode == 0, pushed.stderr
    batch_id = pushed.stdout.split()[0]

    at_province = batch_at(topo, cluster.PROVINCE, batch_id)
    assert at_province["status"] == "accepted" and at_province["rows"] == 1
    hops = [(step["node"], step["action"]) for step in at_province["lineage"]]
    assert hops[:2] == [(DISTRICT, "received"), (DISTRICT, "accepted")]
    assert (cluster.CITY, "accepted") in hops and (cluster.CITY, "queued") in hops
    assert hops[-2:] == [(cluster.PROVINCE, "received"), (cluster.PROVINCE, "accepted")]
    for step in at_province["lineage"]:  # every hop's receipt verifies with that node's key
        assert verify_receipt(step, batch_id, step["public_key"]), step
    assert at_province["origin"].startswith(f"{DISTRICT}/TJ/")
    at_district = batch_at(topo, DISTRICT, batch_id)  # the sender sees the next hop's receipt
    delivery = at_district["deliveries"][0]
    assert delivery["node_code"] == cluster.CITY and delivery["state"] == "delivered"
    assert delivery["remote_receipt"]["status"] == "accepted"


def test_an_addressed_batch_passes_through_without_being_loaded(
    topo: Topology, tmp_path: Path
) -> None:
    folder = connector(topo, DISTRICT, "ZRZY", tmp_path / "zrzy")
    csv = tmp_path / "poi.csv"
    csv.write_text(
        "address_id,kind,name,division,longitude,latitude\n"
        "A1,school,上城区实验小学,330102000000,120.17,30.24\n"
    )
    pushed = topo.hub(
        DISTRICT,
        "connector",
        "push",
        "--resource",
        "geo_address",
        str(csv),
        "--destination",
        cluster.PROVINCE,
        "--dir",
        str(folder),
    )
    assert pushed.returncode == 0, pushed.stderr
    batch_id = pushed.stdout.split()[0]
    assert batch_at(topo, cluster.PROVINCE, batch_id)["status"] == "accepted"
    assert batch_at(topo, cluster.CITY, batch_id)["status"] == "forwarded"
    assert batch_at(topo, DISTRICT, batch_id)["status"] == "forwarded"


def test_a_direct_call_across_two_levels_is_refused(topo: Topology) -> None:
    keys = KeyPair.load(topo.by_code[DISTRICT].home / "node.key")
    target = "/exchange/v1/batches/00000000-0000-0000-0000-000000000000"
    auth = signing.authorization_header(DISTRICT, keys, "GET", target)
    r = httpx.get(topo.url(cluster.PROVINCE) + target, headers={"Authorization": auth})
    assert r.status_code == 403
    assert r.json()["error"] == "NotAdjacent" and "level by level" in r.json()["detail"]
