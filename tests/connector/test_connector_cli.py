"""A department's operator registers a connector and pushes files to a running node (real HTTP)."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from exchange.core.signing import KeyPair
from exchange.testing.postgres import free_port

pytestmark = pytest.mark.slow

HUB = [sys.executable, "-m", "exchange.cli"]


class Node:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        self.env.update({"HUB_VAR_DIR": str(home / "var"), "HUB_BASE_URL": self.url})

    def hub(self, *args: str, cwd: Path | None = None) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*HUB, *args],
            cwd=cwd or self.home,
            env=self.env,
            capture_output=True,
            text=True,
            timeout=120,
        )


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    n = Node(tmp_path_factory.mktemp("node"))
    assert n.hub("db", "upgrade").returncode == 0
    assert n.hub("node", "init").returncode == 0
    proc = subprocess.Popen(
        [*HUB, "serve", "--port", str(n.port)],
        cwd=n.home,
        env=n.env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.monotonic() + 60
    while True:
        try:
            if httpx.get(f"{n.url}/readyz").status_code == 200:
                break
        except httpx.TransportError:
            pass
        assert time.monotonic() < deadline and proc.poll() is None, "node did not start"
        time.sleep(0.3)
    yield n
    proc.terminate()
    proc.wait(timeout=30)


@pytest.fixture(scope="module")
def connector(node: Node) -> Path:
    folder = node.home / "tj-connector"
    r = node.hub(
        "connector",
        "register",
        "--hub",
        node.url,
        "--department",
        "TJ",
        "--name",
        "统计局前置机",
        "--dir",
        str(folder),
    )
    assert r.returncode == 0, r.stderr
    connector_id = r.stdout.strip()
    assert oct((folder / "connector.key").stat().st_mode)[-3:] == "600"
    approved = node.hub("connector", "approve", connector_id)
    assert approved.stdout.strip() == f"{connector_id} active", approved.stderr
    return folder


def write_csv(path: Path, rows: list[str]) -> Path:
    path.write_text("indicator,division,period,value,unit,source\n" + "\n".join(rows) + "\n")
    return path


def test_push_a_csv_file(node: Node, connector: Path) -> None:
    csv = write_csv(
        node.home / "gdp.csv",
        [
            "GDP,330106000000,2023,2100.5,亿元,杭州市统计局",
            "GDP,330106000000,2024,2230.1,亿元,杭州市统计局",
        ],
    )
    r = node.hub(
        "connector", "push", "--resource", "macro_indicator", str(csv), "--dir", str(connector)
    )
    assert r.returncode == 0, r.stderr
    assert " accepted rows=2 inserted=2" in r.stdout
    again = node.hub(
        "connector", "push", "--resource", "macro_indicator", str(csv), "--dir", str(connector)
    )
    assert again.returncode == 0  # the same batch, replayed: nothing loaded twice
    assert "already accepted at 20" in again.stdout and "nothing written" in again.stdout
    assert "inserted" not in again.stdout
    assert list((connector / "outbox").glob("*.arrow")) == []


def test_a_malformed_file_fails_locally_naming_row_and_field(node: Node, connector: Path) -> None:
    csv = write_csv(
        node.home / "bad.csv",
        [
            "GDP,330106000000,2023,2100.5,亿元,x",
            "GDP,330106000000,2024,lots,亿元,x",
        ],
    )
    r = node.hub(
        "connector", "push", "--resource", "macro_indicator", str(csv), "--dir", str(connector)
    )
    assert r.returncode == 2
    assert "bad.csv row 3, field value" in r.stderr  # the file's line, header counted


def test_a_batch_failing_the_gate_is_reported_and_set_aside(node: Node, connector: Path) -> None:
    csv = write_csv(node.home / "unknown_division.csv", ["GDP,339999000000,2023,1.0,亿元,x"])
    r = node.hub(
        "connector", "push", "--resource", "macro_indicator", str(csv), "--dir", str(connector)
    )
    assert r.returncode == 1
    assert "BatchQuarantined" in r.stderr and "division" in r.stderr and "row 2" in r.stderr
    assert len(list((connector / "rejected").glob("*.arrow"))) == 1


def test_a_suspended_connector_is_refused(node: Node, tmp_path: Path) -> None:
    folder = tmp_path / "c2"
    r = node.hub(
        "connector", "register", "--hub", node.url, "--department", "TJ", "--dir", str(folder)
    )
    connector_id = r.stdout.strip()
    node.hub("connector", "approve", connector_id)
    node.hub("connector", "suspend", connector_id)
    csv = write_csv(tmp_path / "gdp.csv", ["GDP,330106000000,2020,1.0,亿元,x"])
    pushed = node.hub(
        "connector", "push", "--resource", "macro_indicator", str(csv), "--dir", str(folder)
    )
    assert pushed.returncode == 1
    assert "403 ConnectorNotActive" in pushed.stderr
    # The refusal is the connector's, not the batch's: it waits in the outbox, as under `run`.
    assert len(list((folder / "outbox").glob("*.arrow"))) == 1
    assert list((folder / "rejected").glob("*.arrow")) == []
    node.hub("connector", "approve", connector_id)
    flushed = node.hub("connector", "flush", "--dir", str(folder))
    assert flushed.returncode == 0, flushed.stderr
    assert " accepted rows=1 inserted=1" in flushed.stdout
    assert list((folder / "outbox").glob("*.arrow")) == []


def test_a_batch_with_a_bad_signature_stays_in_the_outbox(node: Node, connector: Path) -> None:
    csv = write_csv(node.home / "gdp_2019.csv", ["GDP,330106000000,2019,1.0,亿元,x"])
    key = connector / "connector.key"
    real = key.read_bytes()
    rejected_before = len(list((connector / "rejected").glob("*.arrow")))

    KeyPair.generate().save(key)  # a key the hub does not know: 401 InvalidSignature
    try:
        pushed = node.hub(
            "connector", "push", "--resource", "macro_indicator", str(csv), "--dir", str(connector)
        )
    finally:
        key.unlink()
        key.write_bytes(real)
        key.chmod(0o600)
    assert pushed.returncode == 1
    assert "401" in pushed.stderr
    assert len(list((connector / "outbox").glob("*.arrow"))) == 1
    assert len(list((connector / "rejected").glob("*.arrow"))) == rejected_before
    flushed = node.hub("connector", "flush", "--dir", str(connector))
    assert flushed.returncode == 0, flushed.stderr
    assert list((connector / "outbox").glob("*.arrow")) == []


def test_an_operator_lists_quarantined_batches_connectors_and_departments(
    node: Node, connector: Path
) -> None:
    csv = write_csv(node.home / "bad_division.csv", ["GDP,339998000000,2022,1.0,亿元,x"])
    node.hub(
        "connector", "push", "--resource", "macro_indicator", str(csv), "--dir", str(connector)
    )
    listed = node.hub("batch", "list", "--status", "quarantined", "--resource", "macro_indicator")
    assert listed.returncode == 0, listed.stderr
    lines = listed.stdout.splitlines()
    assert lines[0].split("\t")[1:3] == ["quarantined", "macro_indicator"]
    # Numbered as the file: the header is line 1, the one row line 2.
    assert lines[1].strip().startswith("division row 2, field division")
    shown = node.hub("batch", "show", lines[0].split("\t")[0])
    assert shown.returncode == 0 and '"status": "quarantined"' in shown.stdout
    assert node.hub("batch", "show", "nope").returncode == 2
    connectors = node.hub("connector", "list", "--state", "active").stdout
    assert "\tactive\tTJ\t统计局前置机\t" in connectors
    assert any(
        line.startswith("TJ\t") for line in node.hub("department", "list").stdout.splitlines()
    )
    assert node.hub("delivery", "list", "--state", "rejected").returncode == 0
    assert (
        node.hub("delivery", "retry", "--all-rejected").stdout.strip() == "no rejected deliveries"
    )
