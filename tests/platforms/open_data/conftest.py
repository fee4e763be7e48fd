"""Open-data fixtures: a seeded city with data loaded through the real intake, per test
(rolled back), and a live `hub serve` process for the client and browser tests."""

from __future__ import annotations

import os
import subprocess
import sys
import time
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import httpx
import pytest
from sqlalchemy.orm import Session

from basebases import synthetic
from exchange.core.db import session_scope
from exchange.core.runtime import Runtime, build_runtime
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.lifecycle import prepare_database
from exchange.seed import seed
from exchange.testing.postgres import LocalPostgres, free_port
from tests.platforms.open_data.builders import load, seeded

ADDRESSES = 120
COMPANIES = 40


@pytest.fixture
def city(db: Session, settings: Settings) -> None:
    seeded(db, settings)


@pytest.fixture
def loaded(city: None, runtime: Runtime) -> dict[str, int]:
    """Rows per loaded resource: divisions, addresses, indicators, companies (and the people
    who represent them: the gate refuses representatives unknown to the population registry)."""
    code = runtime.settings.node_code
    people = synthetic.people(100, seed=3, city_code=code)
    tables = {
        "geo_division": synthetic.divisions(code),
        "population": people,
        "geo_address": synthetic.addresses(ADDRESSES, seed=3, city_code=code),
        "macro_indicator": synthetic.macro_indicators(seed=3, city_code=code),
        "legal_person": synthetic.legal_persons(COMPANIES, seed=3, people=people, city_code=code),
    }
    for resource, table in tables.items():
        load(runtime, resource, table)
    return {resource: table.num_rows for resource, table in tables.items()}


@dataclass(frozen=True)
class LivePortal:
    url: str
    settings: Settings


def _wait_until_up(proc: subprocess.Popen[bytes], url: str, timeout_s: float = 90) -> None:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            if httpx.get(f"{url}/readyz", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if proc.poll() is not None:
            out = proc.stdout.read().decode() if proc.stdout else ""
            pytest.fail(f"hub serve exited: {out[-2000:]}")
        assert time.monotonic() < deadline, "hub serve did not come up"
        time.sleep(0.3)


@pytest.fixture(scope="module")
def live_portal(
    pg_server: LocalPostgres, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[LivePortal]:
    """A real `hub serve` process over its own PostgreSQL database, seeded with the demo city
    through the intake. Shared by a module's tests, so they must not change its data."""
    root = tmp_path_factory.mktemp("live")
    url = pg_server.create_database(f"live_{uuid.uuid4().hex[:8]}")
    port = free_port()
    env = {
        "HUB_ENV": "test",
        "HUB_SECRET_KEY": "live-portal-test-secret",
        "HUB_DATABASE_URL": url,
        "HUB_VAR_DIR": str(root / "var"),
        "HUB_STORE_URL": (root / "payloads").as_uri(),
        "HUB_RELAY_INTERVAL_S": "0",
        "HUB_LOG_LEVEL": "WARNING",
        "HUB_BASE_URL": f"http://127.0.0.1:{port}",
    }
    settings = Settings(
        env="test",
        secret_key="live-portal-test-secret",
        database_url=url,
        var_dir=root / "var",
        store_url=env["HUB_STORE_URL"],
        relay_interval_s=0,
        janitor_interval_s=0,
        base_url=env["HUB_BASE_URL"],
    )
    rt = build_runtime(settings)
    prepare_database(rt.engine, rt.schemas)
    with session_scope(rt.sessions) as session:
        seed_demo_city(session, settings, rt.schemas)
    seed(rt, 1)
    rt.close()
    base_env = {k: v for k, v in os.environ.items() if not k.startswith("HUB_")}
    proc = subprocess.Popen(
        [str(Path(sys.executable).with_name("hub")), "serve", "--port", str(port)],
        env={**base_env, **env},
        cwd=root,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    base = f"http://127.0.0.1:{port}"
    try:
        _wait_until_up(proc, base)
        yield LivePortal(base, settings)
    finally:
        proc.terminate()
        proc.wait(timeout=30)
