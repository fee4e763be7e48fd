"""Operating a running cluster for real: a skewed clock reported before and mended after, one
node restarted alone, the whole cluster restarted, a batch's trail asked across the levels."""

from __future__ import annotations

import json
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange import cluster
from exchange.core import signing
from exchange.testing.postgres import free_port

pytestmark = pytest.mark.slow

DISTRICT = "330102000000"
FAST_RETRY = {"relay_max_backoff_s": 1.0}


class Cluster:
    def __init__(self, root: Path) -> None:
        self.root = root
        planned = cluster.plan(1, 0, root)
        self.nodes = [
            cluster.ClusterNode(n.code, n.level, free_port(), n.home, n.parent, n.children)
            for n in planned
        ]
        self.by_code = {n.code: n for n in self.nodes}
        self.procs: list[subprocess.Popen[bytes]] = []

    def hub(self, code: str, *args: str) -> subprocess.CompletedProcess[str]:
        """A `hub` command run the operator's way: `hub --node-dir FOLDER ...`."""
        node = self.by_code[code]
        return subprocess.run(
            cluster.hub("--node-dir", str(node.home), *args),
            env=cluster.node_env(node),
            capture_output=True,
            text=True,
            timeout=180,
        )

    def start(self, extra: dict[str, dict[str, object]]) -> None:
        self.procs = cluster.start(self.nodes, None, ["macro_indicator"], extra=extra)
        cluster.wait_ready(self.nodes)

    def stop(self) -> None:
        cluster.stop(self.procs, self.nodes)


def settings(**city: object) -> dict[str, dict[str, object]]:
    extra = {n: dict(FAST_RETRY) for n in (cluster.PROVINCE, cluster.CITY, DISTRICT)}
    extra[cluster.CITY].update(city)
    return extra


@pytest.fixture(scope="module")
def skewed(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Cluster]:
    """The city's clock 400 s ahead of the others (beyond the 300 s signatures allow)."""
    c = Cluster(tmp_path_factory.mktemp("ops-cluster"))
    c.start(settings(clock_offset_s=400))
    try:
        yield c
    finally:
        c.stop()


def push(c: Cluster, folder: Path, csv: Path) -> str:
    pushed = c.hub(
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
    return pushed.stdout.split()[0]


def view(c: Cluster, code: str, batch_id: str, timeout_s: float = 90) -> dict:
    """The node's own view of the batch once it is past receiving (`hub batch show --local`)."""
    deadline = time.monotonic() + timeout_s
    while True:
        r = c.hub(code, "batch", "show", "--local", batch_id)
        if r.returncode == 0 and json.loads(r.stdout)["status"] != "receiving":
            return json.loads(r.stdout)
        assert time.monotonic() < deadline, f"batch {batch_id} never reached {code}: {r.stderr}"
        time.sleep(1)


def deliveries(c: Cluster, code: str, state: str) -> list[list[str]]:
    r = c.hub(code, "delivery", "list", "--state", state)
    assert r.returncode == 0, r.stderr
    return [line.split("\t") for line in r.stdout.splitlines() if line.strip()]


def test_a_skewed_city_is_reported_then_receives_every_batch_once_fixed(
    skewed: Cluster, tmp_path: Path
) -> None:
    c = skewed
    r = c.hub(
        DISTRICT,
        "connector",
        "register",
        "--hub",
        c.by_code[DISTRICT].url,
        "--department",
        "TJ",
        "--dir",
        str(tmp_path / "tj"),
    )
    assert r.returncode == 0, r.stderr
    assert c.hub(DISTRICT, "connector", "approve", r.stdout.strip()).returncode == 0
    csv = tmp_path / "gdp.csv"
    csv.write_text(
        "indicator,division,period,value,unit,source\nGDP,330102000000,2024,1.5,亿元,上城区统计局\n"
    )
    first = push(c, tmp_path / "tj", csv)

    # Meanwhile: the district's relay to the city is refused (401) and retried, and the check
    # reports the skew, measured by the signed handshake, as critical.
    check = c.hub(DISTRICT, "check", "ops")
    assert check.returncode == 1, check.stdout + check.stderr
    skew = [line for line in check.stdout.splitlines() if "node.clock_skew" in line]
    assert skew and "critical" in skew[0] and cluster.CITY in skew[0], check.stdout
    deadline = time.monotonic() + 60
    while not any(d[4] == first and "401" in d[6] for d in deliveries(c, DISTRICT, "pending")):
        assert time.monotonic() < deadline, deliveries(c, DISTRICT, "pending")
        time.sleep(1)

    # The fix: the city's clock right again, the city restarted alone.
    city = c.by_code[cluster.CITY]
    cluster.write_settings(city, c.nodes, None, FAST_RETRY)
    restarted = subprocess.run(
        cluster.hub("cluster", "restart", cluster.CITY, "--root", str(c.root)),
        env=cluster.node_env(city),
        capture_output=True,
        text=True,
        timeout=180,
    )
    assert restarted.returncode == 0, restarted.stderr
    assert view(c, cluster.CITY, first)["status"] == "accepted"
    at_province = view(c, cluster.PROVINCE, first)
    assert at_province["status"] == "accepted" and at_province["rows"] == 1
    hops = [(s["node"], s["action"]) for s in at_province["lineage"]]
    assert hops.count((cluster.CITY, "received")) == 1
    assert hops.count((cluster.PROVINCE, "received")) == 1
    assert deliveries(c, DISTRICT, "pending") == []

    # The trail, asked from the district: every level's view, one signed call per level, and
    # the department's own signature, verifiable by anyone with the batch view alone.
    shown = c.hub(DISTRICT, "batch", "show", first)
    assert shown.returncode == 0, shown.stderr
    batch = json.loads(shown.stdout)
    assert [(t["node"], t["batch"]["status"]) for t in batch["trail"]] == [
        (cluster.CITY, "accepted"),
        (cluster.PROVINCE, "accepted"),
    ]
    message = signing.batch_message(first, "macro_indicator", batch["sha256"], batch["origin"])
    assert signing.verify(batch["origin_public_key"], message, batch["signature"])
    assert batch["origin_key_id"] == signing.fingerprint(batch["origin_public_key"])

    # The whole cluster restarted (as `hub cluster up` again): each batch still relayed once.
    c.stop()
    c.start(settings())
    csv.write_text(
        "indicator,division,period,value,unit,source\nGDP,330102000000,2025,2.5,亿元,上城区统计局\n"
    )
    second = push(c, tmp_path / "tj", csv)
    at_province = view(c, cluster.PROVINCE, second)
    assert at_province["status"] == "accepted"
    at_city = view(c, cluster.CITY, second)
    assert [d["node_code"] for d in at_city["deliveries"]] == [cluster.PROVINCE]
    hops = [(s["node"], s["action"]) for s in at_province["lineage"]]
    assert hops.count((cluster.PROVINCE, "received")) == 1
