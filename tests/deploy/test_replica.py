"""Reads go to a streaming replica while it is fresh; writes always to the primary."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from exchange.app import create_app
from exchange.core.db import session_scope
from exchange.core.runtime import build_runtime
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.lifecycle import prepare_database
from exchange.testing.postgres import LocalPostgres

pytestmark = pytest.mark.slow


@pytest.fixture(scope="module")
def pair(pg_server: LocalPostgres) -> Iterator[tuple[LocalPostgres, LocalPostgres]]:
    pg_server.create_database("replicated")
    replica = pg_server.start_replica()
    try:
        yield pg_server, replica
    finally:
        replica.stop()


def settings_for(pair: tuple[LocalPostgres, LocalPostgres], tmp_path: Path) -> Settings:
    primary, replica = pair
    return Settings(
        env="test",
        secret_key="x" * 40,
        var_dir=tmp_path,
        database_url=primary.url("replicated"),
        read_replica_url=replica.url("replicated"),
        replica_max_lag_s=5,
        relay_interval_s=0,
    )


def test_reads_use_the_replica_and_see_what_the_primary_wrote(
    pair: tuple[LocalPostgres, LocalPostgres], tmp_path: Path
) -> None:
    rt = build_runtime(settings_for(pair, tmp_path))
    try:
        prepare_database(rt.engine, rt.schemas)
        with session_scope(rt.sessions) as s:
            seed_demo_city(s, rt.settings, rt.schemas)
        deadline = time.monotonic() + 30
        while not rt.reads.fresh():
            assert time.monotonic() < deadline, f"replica never caught up: {rt.reads.lag()}"
            time.sleep(0.2)
        reads = rt.reads.read_sessions()
        assert reads is rt.reads.replica
        # Fresh means at most replica_max_lag_s behind, so the writes show up within that bound.
        while True:
            with reads() as s:
                in_recovery = s.execute(text("SELECT pg_is_in_recovery()")).scalar_one()
                titles = s.execute(text("SELECT count(*) FROM resource")).scalar_one()
            if titles == 7 or time.monotonic() > deadline:
                break
            time.sleep(0.1)
        assert in_recovery is True and titles == 7
        with TestClient(create_app(rt.settings, runtime=rt)) as c:
            assert c.get("/sharing/v1/catalog", params={"q": "人口"}).json()["total"] >= 1
    finally:
        rt.close()


def test_a_replica_that_is_down_sends_reads_to_the_primary(
    pair: tuple[LocalPostgres, LocalPostgres], tmp_path: Path
) -> None:
    _, replica = pair
    rt = build_runtime(settings_for(pair, tmp_path))
    try:
        replica.stop_server()
        rt.reads._checked_at = 0.0  # look again now, not in a second
        assert rt.reads.read_sessions() is rt.sessions
        with rt.reads.read_sessions()() as s:
            assert s.execute(text("SELECT pg_is_in_recovery()")).scalar_one() is False
    finally:
        replica.start()
        rt.close()
