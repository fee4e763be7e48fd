"""The embedded default (a SQLite file and a local payload folder, what `hub demo` serves) under
concurrent use, on real processes: callers wait for the one writer or are told to retry, and
never get a 5xx."""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from bench.loadgen import load
from bench.sharing import CALL_HEADERS, prepare_sharing, start_server
from exchange.core.db import session_scope
from exchange.core.ratelimit import RateCounter
from exchange.core.runtime import build_runtime
from exchange.core.settings import Settings
from exchange.platforms.sharing.models import AuditEntry, AuditSeal
from exchange.testing.postgres import free_port

SECRET = "embedded-default-test-secret-0123456789"


@dataclass
class Node:
    base: str
    port: int
    settings: Settings
    keys: list[str]
    headers: dict[str, str]


@pytest.fixture
def sqlite_node(tmp_path: Path) -> Iterator[Node]:
    """A city on SQLite with 2,000 residents, 民政局 granted population, served by `hub serve`
    with the audit sealer on every 0.2 s (the demo's default is 1 s)."""
    settings = Settings(env="test", var_dir=tmp_path, secret_key=SECRET, relay_interval_s=0)
    rt = build_runtime(settings)
    try:
        keys, client_id, secret = prepare_sharing(rt, 2_000)
    finally:
        rt.close()
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")} | {
        "HUB_ENV": "test",
        "HUB_VAR_DIR": str(tmp_path),
        "HUB_SECRET_KEY": SECRET,
        "HUB_RELAY_INTERVAL_S": "0",
        "HUB_SHARING__SEAL_INTERVAL_S": "0.2",
        "HUB_LOG_LEVEL": "WARNING",
    }
    with ExitStack() as stack:
        start_server(stack, ["exchange.cli", "serve", "--port", str(port)], env, port)
        base = f"http://127.0.0.1:{port}"
        token = httpx.post(
            f"{base}/sharing/v1/token",
            data={
                "grant_type": "client_credentials",
                "client_id": client_id,
                "client_secret": secret,
            },
        ).json()["access_token"]
        headers = {"Authorization": f"Bearer {token}", **CALL_HEADERS}
        yield Node(base, port, settings, keys, headers)


def count(settings: Settings, what: object) -> int:
    rt = build_runtime(settings)
    try:
        with session_scope(rt.sessions) as s:
            return s.scalar(select(what)) or 0  # type: ignore[call-overload,no-any-return]
    finally:
        rt.close()


@pytest.mark.slow
def test_concurrent_keyed_reads_while_the_sealer_and_quota_merges_write_get_no_5xx(
    sqlite_node: Node,
) -> None:
    # Before: 11 of 20 reads spaced 1.5 s apart failed with 500 "database is locked" (the
    # read's audit INSERT in a deferred transaction while the sealer or a quota merge wrote).
    node = sqlite_node
    paths = [f"/sharing/v1/resources/population/records/{k}" for k in node.keys]
    result = load(node.port, paths, headers=node.headers, clients=16, warmup=0.5, seconds=8)
    assert result.requests > 100
    assert result.statuses == {200: result.requests}
    # The writers were at work meanwhile: every read was audited and the chain kept up.
    audited = count(node.settings, func.count(AuditEntry.id))
    assert audited >= result.requests
    assert count(node.settings, func.max(AuditSeal.high_id)) > 0
    assert count(node.settings, func.count(RateCounter.key)) > 0  # quota counts merged
