"""`hub cluster up`: a province, its city and N districts as separate processes on loopback.

Each node has its own folder (`var/cluster/<code>/`): a settings file, its database (SQLite by
default), payload store, key, log and process id. Neighbours know each other's URL and public
key, exactly as separately deployed nodes would be configured; `hub --node-dir FOLDER ...` runs
any node command against one of them, and `hub cluster restart CODE` restarts one alone.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import httpx

from exchange.core import divisions
from exchange.core.cli import NODE_SETTINGS
from exchange.core.signing import KeyPair, set_clock_offset

PROVINCE, CITY = "330000000000", "330100000000"


@dataclass(frozen=True)
class ClusterNode:
    code: str
    level: str
    port: int
    home: Path
    parent: str | None
    children: tuple[str, ...]

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def settings_file(self) -> Path:
        return self.home / NODE_SETTINGS

    @property
    def log_file(self) -> Path:
        return self.home / "node.log"

    @property
    def pid_file(self) -> Path:
        return self.home / "node.pid"


def plan(districts: int, base_port: int, root: Path) -> list[ClusterNode]:
    chosen = tuple(d.code for d in divisions.children_of(CITY)[:districts])
    root = root.resolve()
    nodes = [
        ClusterNode(PROVINCE, "province", base_port, root / PROVINCE, None, (CITY,)),
        ClusterNode(CITY, "city", base_port + 1, root / CITY, PROVINCE, chosen),
    ]
    for i, code in enumerate(chosen):
        nodes.append(ClusterNode(code, "district", base_port + 2 + i, root / code, CITY, ()))
    return nodes


def settings_for(
    node: ClusterNode,
    nodes: list[ClusterNode],
    database_url: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> dict[str, Any]:
    """The node's settings, as its settings file states them."""
    by_code = {n.code: n for n in nodes}
    keys = {n.code: KeyPair.load_or_create(n.home / "node.key").public_b64 for n in nodes}

    def ref(code: str) -> dict[str, str]:
        return {"code": code, "url": by_code[code].url, "public_key": keys[code]}

    data: dict[str, Any] = {
        "node_code": node.code,
        "node_level": node.level,
        "base_url": node.url,
        "var_dir": str(node.home),
    }
    if database_url:
        data["database_url"] = database_url.format(code=node.code)
    if node.parent:
        data["parent"] = ref(node.parent)
    data["children"] = [ref(c) for c in node.children]
    data.update(extra or {})
    return data


def write_settings(
    node: ClusterNode,
    nodes: list[ClusterNode],
    database_url: str | None = None,
    extra: Mapping[str, Any] | None = None,
) -> Path:
    node.home.mkdir(parents=True, exist_ok=True)
    text = "".join(
        f"{k} = {_toml(v)}\n" for k, v in settings_for(node, nodes, database_url, extra).items()
    )
    staged = node.settings_file.with_suffix(".toml.tmp")
    staged.write_text(
        "# Written by `hub cluster up`; HUB_* variables override it.\n" + text, "utf-8"
    )
    os.replace(staged, node.settings_file)
    return node.settings_file


def _toml(value: Any) -> str:
    """A TOML value: JSON's strings and numbers are TOML's; tables are written inline."""
    if isinstance(value, dict):
        return "{" + ", ".join(f"{k} = {_toml(v)}" for k, v in value.items()) + "}"
    if isinstance(value, list):
        return "[" + ", ".join(_toml(v) for v in value) + "]"
    if isinstance(value, bool):
        return "true" if value else "false"
    return json.dumps(value, ensure_ascii=False)


def node_env(
    node: ClusterNode, nodes: list[ClusterNode] | None = None, database_url: str | None = None
) -> dict[str, str]:
    """The environment a node's processes run with: its settings file, no stray HUB_* value."""
    if not node.settings_file.exists():
        write_settings(node, nodes or [node], database_url)
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env["HUB_SETTINGS_FILE"] = str(node.settings_file)
    if database_url:  # as the file says; named here too for callers that connect themselves
        env["HUB_DATABASE_URL"] = database_url.format(code=node.code)
    return env


def hub(*args: str) -> list[str]:
    return [sys.executable, "-m", "exchange.cli", *args]


def prepare(node: ClusterNode, relay_up: list[str]) -> None:
    """Migrate, initialise and subscribe the node, in this process (one import for all nodes:
    a `hub` process per step per node took minutes on a busy 2-core machine)."""
    from exchange.core.runtime import build_runtime
    from exchange.core.settings import Settings
    from exchange.lifecycle import init_node, prepare_database
    from exchange.platforms.exchange.relay.routing import subscribe

    data = tomllib.loads(node.settings_file.read_text("utf-8"))
    # model_validate reads no HUB_* variable: the node is what its file says, as in `start`.
    rt = build_runtime(Settings.model_validate(data))
    try:
        prepare_database(rt.engine, rt.schemas)
        init_node(rt)
        if node.parent:
            from exchange.core.db import session_scope

            with session_scope(rt.sessions) as session:
                for resource in relay_up:
                    subscribe(session, rt, resource, node_code=node.parent)
    finally:
        rt.close()
        set_clock_offset(0)  # a node's test offset is its own, not this process's


def launch(node: ClusterNode) -> subprocess.Popen[bytes]:
    """Start the node's server, in its own session (a restart from another shell outlives that
    shell; Ctrl-C reaches `hub cluster up`, which stops every node)."""
    with node.log_file.open("ab") as log:
        proc = subprocess.Popen(
            hub("serve", "--port", str(node.port)),
            env=node_env(node),
            stdout=log,
            stderr=log,
            start_new_session=True,
        )
    node.pid_file.write_text(str(proc.pid))
    return proc


def start(
    nodes: list[ClusterNode],
    database_url: str | None,
    relay_up: list[str],
    extra: Mapping[str, Mapping[str, Any]] | None = None,
    on_start: Callable[[ClusterNode], None] | None = None,
) -> list[subprocess.Popen[bytes]]:
    """Write every node's settings, then prepare and start each node. `extra`: settings per
    node code beyond the topology (e.g. a test's clock offset)."""
    for node in nodes:
        write_settings(node, nodes, database_url, (extra or {}).get(node.code))
    procs = []
    for node in nodes:
        prepare(node, relay_up)
        # Started at once: its server imports while the next node is being prepared.
        procs.append(launch(node))
        if on_start is not None:
            on_start(node)
    return procs


def wait_ready(nodes: list[ClusterNode], timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    for node in nodes:
        while True:
            try:
                if httpx.get(f"{node.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {node.code} not ready at {node.url}; see {node.log_file}")
            time.sleep(0.3)


def load_node(root: Path, code: str) -> ClusterNode:
    """A node of a cluster made before, read back from its settings file."""
    home = (root / code).resolve()
    settings_file = home / NODE_SETTINGS
    if not settings_file.is_file():
        raise FileNotFoundError(f"no cluster node {code} under {root} ({settings_file} missing)")
    data = tomllib.loads(settings_file.read_text("utf-8"))
    port = urlsplit(data["base_url"]).port or 80
    parent = data.get("parent", {}).get("code")
    children = tuple(c["code"] for c in data.get("children", []))
    return ClusterNode(code, data["node_level"], port, home, parent, children)


def running_pid(node: ClusterNode) -> int | None:
    try:
        pid = int(node.pid_file.read_text().strip())
    except (FileNotFoundError, ValueError):
        return None
    return pid if _alive(pid) else None


def _alive(pid: int) -> bool:
    """Running, and not a zombie waiting for its parent (`hub cluster up`) to reap it."""
    try:
        with open(f"/proc/{pid}/stat") as fh:
            return fh.read().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False
    except OSError:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return False
        return True


def terminate(pid: int, timeout_s: float = 20) -> None:
    try:
        os.kill(pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    deadline = time.monotonic() + timeout_s
    while _alive(pid):
        if time.monotonic() > deadline:
            os.kill(pid, signal.SIGKILL)
            deadline += timeout_s
        time.sleep(0.1)


def restart(node: ClusterNode) -> subprocess.Popen[bytes]:
    """Stop the node's server (if it runs) and start it again with its settings file as it is
    now; the other nodes keep running, and their relays retry until it answers."""
    pid = running_pid(node)
    if pid is not None:
        terminate(pid)
    proc = launch(node)
    wait_ready([node])
    return proc


def stop(procs: list[subprocess.Popen[bytes]], nodes: list[ClusterNode] | None = None) -> None:
    """Stop the servers started here and, with `nodes`, any restarted since (by pid file)."""
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
    for node in nodes or []:
        pid = running_pid(node)
        if pid is not None:
            terminate(pid)
