"""`hub connector run` against a running node, as real processes.

Each test tags its rows through the `source` column of macro_indicator, so the node's datastore
(its SQLite file) can be counted per test although the node is shared by the module.
"""

from __future__ import annotations

import json
import os
import signal
import sqlite3
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from pathlib import Path

import httpx
import pyarrow as pa
import pytest

from exchange.testing.postgres import free_port

pytestmark = pytest.mark.slow

HUB = [sys.executable, "-m", "exchange.cli"]
HEADER = "indicator,division,period,value,unit,source\n"


class Node:
    def __init__(self, home: Path) -> None:
        self.home = home
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
        self.env.update({"HUB_VAR_DIR": str(home / "var"), "HUB_BASE_URL": self.url})
        self.proc: subprocess.Popen[bytes] | None = None

    def hub(self, *args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*HUB, *args], cwd=self.home, env=self.env, capture_output=True, text=True, timeout=120
        )

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [*HUB, "serve", "--port", str(self.port)],
            cwd=self.home,
            env=self.env,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(f"{self.url}/readyz").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline and self.proc.poll() is None, "node did not start"
            time.sleep(0.3)

    def stop(self) -> None:
        assert self.proc is not None
        self.proc.terminate()
        self.proc.wait(timeout=30)

    def query(self, sql: str, *params: object) -> list[tuple[object, ...]]:
        with sqlite3.connect(self.home / "var" / "hub.db") as db:
            return db.execute(sql, params).fetchall()

    def rows(self, tag: str) -> dict[str, float]:
        """period -> value of the live macro_indicator rows tagged `tag`."""
        found = self.query(
            "SELECT period, value FROM ds_macro_indicator WHERE source = ? AND NOT _deleted", tag
        )
        return {str(p): float(v) for p, v in found}  # type: ignore[arg-type]

    def connector(self, department: str, folder: Path) -> Path:
        r = self.hub(
            "connector",
            "register",
            "--hub",
            self.url,
            "--department",
            department,
            "--dir",
            str(folder),
        )
        assert r.returncode == 0, r.stderr
        assert self.hub("connector", "approve", r.stdout.strip()).returncode == 0
        return folder

    def run_once(self, folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
        return self.hub(
            "connector", "run", "--dir", str(folder), "--once", "--settle", "0.3", *args
        )


@pytest.fixture(scope="module")
def node(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Node]:
    n = Node(tmp_path_factory.mktemp("node"))
    assert n.hub("db", "upgrade").returncode == 0
    assert n.hub("node", "init").returncode == 0
    n.start()
    yield n
    n.stop()


@pytest.fixture(scope="module")
def tj(node: Node) -> Path:
    """统计局 (TJ), the provider of macro_indicator."""
    return node.connector("TJ", node.home / "tj-connector")


@pytest.fixture
def drop(tmp_path: Path) -> Path:
    (tmp_path / "drop" / "macro_indicator").mkdir(parents=True)
    return tmp_path / "drop"


def export(drop: Path, name: str, tag: str, *rows: str) -> Path:
    path = drop / "macro_indicator" / name
    path.write_text(HEADER + "".join(f"{r},亿元,{tag}\n" for r in rows))
    return path


def test_a_dropped_file_is_pushed_and_moved_to_done(node: Node, tj: Path, drop: Path) -> None:
    export(drop, "gdp.csv", "watch", "GDP,330106000000,2023,2100.5", "GDP,330106000000,2024,2230.1")
    half = drop / "macro_indicator" / "next.csv.part"  # an exporter still writing
    half.write_text(HEADER)
    r = node.run_once(tj, "--watch", str(drop))
    assert r.returncode == 0, r.stderr
    assert "pushed macro_indicator" in r.stderr and "rows=2" in r.stderr and "gdp.csv" in r.stderr
    assert (drop / "macro_indicator" / "done" / "gdp.csv").exists()
    assert not (drop / "macro_indicator" / "gdp.csv").exists()
    assert half.exists()
    assert node.rows("watch") == {"2023": 2100.5, "2024": 2230.1}
    assert list((tj / "outbox").glob("*.arrow")) == []


def test_a_refused_file_goes_to_rejected_with_its_reasons(node: Node, tj: Path, drop: Path) -> None:
    export(drop, "unknown_division.csv", "refused", "GDP,339999000000,2023,1.0")
    r = node.run_once(tj, "--watch", str(drop))
    assert r.returncode == 1
    assert "refused macro_indicator" in r.stderr and "BatchQuarantined" in r.stderr
    rejected = drop / "macro_indicator" / "rejected"
    assert (rejected / "unknown_division.csv").exists()
    reasons = (rejected / "unknown_division.csv.error.json").read_text()
    assert '"rule": "division"' in reasons and '"field": "division"' in reasons
    assert '"row": 2' in reasons  # the file's line: the header is line 1
    assert node.rows("refused") == {}


def test_a_source_table_is_pushed_incrementally_without_skips_or_repeats(
    node: Node, tj: Path, tmp_path: Path
) -> None:
    db = tmp_path / "stats.db"
    with sqlite3.connect(db) as conn:
        conn.execute(
            "CREATE TABLE stats (indicator TEXT, division TEXT, period TEXT, value REAL, "
            "unit TEXT, source TEXT, updated_at TEXT)"
        )

    def add(*rows: tuple[str, float, str]) -> None:
        with sqlite3.connect(db) as conn:
            conn.executemany(
                "INSERT INTO stats VALUES ('GDP', '330106000000', ?, ?, '亿元', 'db', ?)", rows
            )

    source = (
        "--source-url",
        f"sqlite:///{db}",
        "--source-table",
        "stats",
        "--watermark",
        "updated_at",
        "--resource",
        "macro_indicator",
    )
    add(("2020", 1.0, "2024-05-01 10:00:00"), ("2022", 2.0, "2024-05-01 11:00:00"))
    add(("2023", 3.0, "2024-05-01 11:00:00"))
    first = node.run_once(tj, *source)
    assert first.returncode == 0, first.stderr
    assert "3 new rows spooled" in first.stderr and "pushed macro_indicator" in first.stderr
    # Between passes: a row tied with the last watermark whose key sorts lower, a newer row,
    # and an update of an earlier row.
    add(("2021", 4.0, "2024-05-01 11:00:00"), ("2024", 5.0, "2024-05-01 12:00:00"))
    with sqlite3.connect(db) as conn:
        conn.execute(
            "UPDATE stats SET value = 10.0, updated_at = '2024-05-01 12:00:00' "
            "WHERE period = '2020'"
        )
    second = node.run_once(tj, *source)
    assert second.returncode == 0, second.stderr
    assert "3 new rows spooled" in second.stderr  # 2021, 2024 and the updated 2020: no repeats
    assert "watermark now '2024-05-01 12:00:00'" in second.stderr
    third = node.run_once(tj, *source)
    assert third.returncode == 0 and "spooled" not in third.stderr
    assert node.rows("db") == {"2020": 10.0, "2021": 4.0, "2022": 2.0, "2023": 3.0, "2024": 5.0}


def test_a_delivery_is_written_then_acked_and_not_received_twice(
    node: Node, tj: Path, drop: Path, tmp_path: Path
) -> None:
    for department in ("GA", "FG"):
        added = node.hub(
            "subscription", "add", "--resource", "macro_indicator", "--department", department
        )
        assert added.returncode == 0, added.stderr
    ga = node.connector("GA", tmp_path / "ga-connector")
    fg = node.connector("FG", tmp_path / "fg-connector")
    export(
        drop,
        "cpi.csv",
        "delivered",
        "CPI,330106000000,2024-01,101.2",
        "CPI,330106000000,2024-02,100.9",
    )
    pushed = node.run_once(tj, "--watch", str(drop))
    assert pushed.returncode == 0, pushed.stderr
    [batch_id] = node.query(
        "SELECT _batch_id FROM ds_macro_indicator WHERE source = 'delivered' LIMIT 1"
    )[0]

    inbox = tmp_path / "ga-inbox"
    received = node.run_once(ga, "--inbox-dir", str(inbox))
    assert received.returncode == 0, received.stderr
    assert (
        f"received macro_indicator {batch_id}" in received.stderr and "(acked)" in received.stderr
    )
    with pa.OSFile(str(inbox / "macro_indicator" / f"{batch_id}.arrow")) as fh:
        table = pa.ipc.open_stream(fh).read_all()
    assert sorted(table.column("period").to_pylist()) == ["2024-01", "2024-02"]
    states = node.query(
        "SELECT d.state FROM delivery d JOIN department p ON p.id = d.department_id "
        "WHERE d.batch_id = ? AND p.code = 'GA'",
        uuid.UUID(batch_id).hex,
    )
    assert states == [("delivered",)]
    files = sorted((inbox / "macro_indicator").iterdir())
    again = node.run_once(ga, "--inbox-dir", str(inbox))
    assert again.returncode == 0 and "received" not in again.stderr
    assert sorted((inbox / "macro_indicator").iterdir()) == files

    target = tmp_path / "fg.db"
    into_table = node.run_once(fg, "--target-url", f"sqlite:///{target}")
    assert into_table.returncode == 0, into_table.stderr
    with sqlite3.connect(target) as conn:
        got = conn.execute(
            "SELECT period, value FROM macro_indicator WHERE source = 'delivered' ORDER BY period"
        ).fetchall()
    assert got == [("2024-01", 101.2), ("2024-02", 100.9)]


def test_while_the_hub_is_down_the_batch_waits_in_the_outbox(
    node: Node, tj: Path, drop: Path
) -> None:
    export(drop, "retail.csv", "outage", "RETAIL,330106000000,2024Q1,88.0")
    node.stop()
    try:
        down = node.run_once(tj, "--watch", str(drop))
    finally:
        node.start()
    assert down.returncode == 1
    assert "the hub cannot take batches now (ConnectError" in down.stderr
    assert len(list((tj / "outbox").glob("*.arrow"))) == 1
    assert not (drop / "macro_indicator" / "retail.csv").exists()  # spooled: the name is free
    up = node.run_once(tj, "--watch", str(drop))
    assert up.returncode == 0, up.stderr
    assert (drop / "macro_indicator" / "done" / "retail.csv").exists()
    assert list((tj / "outbox").glob("*.arrow")) == []
    assert node.rows("outage") == {"2024Q1": 88.0}


def test_the_loop_runs_until_sigterm_and_keeps_the_heartbeat(
    node: Node, tj: Path, drop: Path
) -> None:
    key = uuid.UUID(json.loads((tj / "connector.json").read_text())["connector_id"]).hex
    proc = subprocess.Popen(
        [*HUB, "connector", "run", "--dir", str(tj), "--watch", str(drop), "--interval", "0.2"],
        cwd=node.home,
        env=node.env,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        time.sleep(1.0)  # a few passes over an empty folder
        export(drop, "pop.csv", "loop", "POP,330106000000,2024,123.4")
        done = drop / "macro_indicator" / "done" / "pop.csv"
        deadline = time.monotonic() + 30
        while not done.exists():
            assert time.monotonic() < deadline and proc.poll() is None, "file not pushed"
            time.sleep(0.2)
        [(pushed_at,)] = node.query("SELECT last_seen_at FROM connector WHERE id = ?", key)
        busy = node.run_once(tj)  # meanwhile the loop passes over an empty folder
        assert busy.returncode == 2 and "another `hub connector run` is using" in busy.stderr
        [(later,)] = node.query("SELECT last_seen_at FROM connector WHERE id = ?", key)
        assert str(later) > str(pushed_at)  # each pass is a heartbeat, pushes or not
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=30)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 0, err
    assert "SIGTERM" in err and "stopped" in err
    assert node.rows("loop") == {"2024": 123.4}


def test_a_suspended_connector_keeps_its_batches_until_reactivated(
    node: Node, drop: Path, tmp_path: Path
) -> None:
    folder = node.connector("TJ", tmp_path / "tj-2")
    connector_id = json.loads((folder / "connector.json").read_text())["connector_id"]
    node.hub("connector", "suspend", connector_id)
    export(drop, "suspended.csv", "suspended", "GDP,330106000000,2019,1.5")
    suspended = node.run_once(folder, "--watch", str(drop))
    assert suspended.returncode == 1
    assert "403 ConnectorNotActive" in suspended.stderr
    assert len(list((folder / "outbox").glob("*.arrow"))) == 1  # not set aside as refused
    node.hub("connector", "approve", connector_id)
    active = node.run_once(folder, "--watch", str(drop))
    assert active.returncode == 0, active.stderr
    assert (drop / "macro_indicator" / "done" / "suspended.csv").exists()
    assert node.rows("suspended") == {"2019": 1.5}
