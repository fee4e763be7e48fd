"""`hub cluster up`: a province, its city and N districts as separate processes on loopback.

Each node has its own database, payload store and key; neighbours know each other's URL and
public key, exactly as separately deployed nodes would be configured.
"""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

import httpx

from exchange.core import divisions
from exchange.core.signing import KeyPair

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


def plan(districts: int, base_port: int, root: Path) -> list[ClusterNode]:
    chosen = tuple(d.code for d in divisions.children_of(CITY)[:districts])
    nodes = [
        ClusterNode(PROVINCE, "province", base_port, root / PROVINCE, None, (CITY,)),
        ClusterNode(CITY, "city", base_port + 1, root / CITY, PROVINCE, chosen),
    ]
    for i, code in enumerate(chosen):
        nodes.append(ClusterNode(code, "district", base_port + 2 + i, root / code, CITY, ()))
    return nodes


def node_env(
    node: ClusterNode, nodes: list[ClusterNode], database_url: str | None
) -> dict[str, str]:
    by_code = {n.code: n for n in nodes}
    keys = {n.code: KeyPair.load_or_create(n.home / "node.key").public_b64 for n in nodes}

    def ref(code: str) -> dict[str, str]:
        return {"code": code, "url": by_code[code].url, "public_key": keys[code]}

    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    env.update(
        {
            "HUB_NODE_CODE": node.code,
            "HUB_NODE_LEVEL": node.level,
            "HUB_BASE_URL": node.url,
            "HUB_VAR_DIR": str(node.home),
            "HUB_CHILDREN": json.dumps([ref(c) for c in node.children]),
        }
    )
    if node.parent:
        env["HUB_PARENT"] = json.dumps(ref(node.parent))
    if database_url:
        env["HUB_DATABASE_URL"] = database_url.format(code=node.code)
    return env


def hub(*args: str) -> list[str]:
    return [sys.executable, "-m", "exchange.cli", *args]


def start(
    nodes: list[ClusterNode],
    database_url: str | None,
    relay_up: list[str],
    extra_env: dict[str, str] | None = None,
) -> list[subprocess.Popen[bytes]]:
    procs = []
    for node in nodes:
        node.home.mkdir(parents=True, exist_ok=True)
        env = {**node_env(node, nodes, database_url), **(extra_env or {})}
        subprocess.run(hub("db", "upgrade"), env=env, check=True, capture_output=True)
        subprocess.run(hub("node", "init"), env=env, check=True, capture_output=True)
        if node.parent:
            for resource in relay_up:
                subprocess.run(
                    hub("subscription", "add", "--resource", resource, "--node", node.parent),
                    env=env,
                    check=True,
                    capture_output=True,
                )
        log = (node.home / "node.log").open("ab")
        procs.append(
            subprocess.Popen(
                hub("serve", "--port", str(node.port)), env=env, stdout=log, stderr=log
            )
        )
    return procs


def wait_ready(nodes: list[ClusterNode], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    for node in nodes:
        while True:
            try:
                if httpx.get(f"{node.url}/readyz", timeout=2).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            if time.monotonic() > deadline:
                raise TimeoutError(f"node {node.code} not ready at {node.url}; see {node.home}")
            time.sleep(0.3)


def stop(procs: list[subprocess.Popen[bytes]]) -> None:
    for p in procs:
        if p.poll() is None:
            p.send_signal(signal.SIGTERM)
    for p in procs:
        try:
            p.wait(timeout=20)
        except subprocess.TimeoutExpired:
            p.kill()
