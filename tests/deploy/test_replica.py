"""Reads go to a streaming replica while it is fresh; writes always to the primary."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import text

from exchange.app import create_app
from exchange.core.db import session_scope
from exchange.core.runtime import Runtime, build_runtime
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.lifecycle import prepare_database
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Role
from exchange.testing.postgres import LocalPostgres
from tests.platforms.sharing.builders import token_for

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
        janitor_interval_s=0,
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
            found = c.get("/sharing/v1/catalog", params={"q": "人口"}, headers=_bearer(rt, c))
            assert found.json()["total"] >= 1
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


def _bearer(rt: Runtime, c: TestClient) -> dict[str, str]:
    """A government caller's header: the sharing catalogue is not public."""
    with session_scope(rt.sessions) as s:
        client, secret = credentials.create_client(
            s, rt.settings.node_code, name="auditor", role=Role.auditor, department=None, by="test"
        )
    return {"Authorization": f"Bearer {token_for(c, client.id, secret)}"}


def _replica_sql(replica: LocalPostgres, sql: str) -> object:
    with psycopg.connect(replica.dsn("replicated"), autocommit=True) as conn:
        row = conn.execute(sql).fetchone()
    return row[0] if row else None


def _titles(c: TestClient) -> tuple[str, str, bool]:
    """The macro indicators' title as the sharing catalogue, the CKAN API and the portal
    page show it (the page: whether it shows the marker)."""
    entry = c.get("/sharing/v1/catalog/macro_indicator", headers=_bearer(c.app.state.runtime, c))
    ckan = c.get("/api/3/action/package_show", params={"id": "macro_indicator"})
    page = c.get("/datasets/macro_indicator")
    assert entry.status_code == ckan.status_code == page.status_code == 200, page.text[:300]
    return entry.json()["title"], ckan.json()["result"]["title"], MARKER in page.text


MARKER = "宏观经济指标（标记）"


def test_portal_and_catalogue_reads_come_from_the_replica_writes_from_the_primary(
    pair: tuple[LocalPostgres, LocalPostgres], tmp_path: Path
) -> None:
    _, replica = pair
    # A generous bound: a replica whose replay we pause still counts as fresh (see below for
    # a tight one).
    settings = settings_for(pair, tmp_path).model_copy(update={"replica_max_lag_s": 3600})
    rt = build_runtime(settings)
    primary_only = build_runtime(settings.model_copy(update={"read_replica_url": None}))
    try:
        prepare_database(rt.engine, rt.schemas)
        with session_scope(rt.sessions) as s:
            seed_demo_city(s, rt.settings, rt.schemas)
            title = s.execute(text("SELECT title FROM resource WHERE code = 'macro_indicator'"))
            original = title.scalar_one()
        deadline = time.monotonic() + 30
        while _replica_sql(replica, "SELECT count(*) FROM resource") != 7:
            assert time.monotonic() < deadline, "replica never caught up"
            time.sleep(0.1)

        _replica_sql(replica, "SELECT pg_wal_replay_pause()")
        try:
            with session_scope(rt.sessions) as s:  # written on the primary only, for now
                s.execute(
                    text("UPDATE resource SET title = :t WHERE code = 'macro_indicator'"),
                    {"t": MARKER},
                )
            rt.reads._checked_at = 0.0
            with TestClient(create_app(settings, runtime=rt)) as c:
                assert _titles(c) == (original, original, False), "served by the replica"
            with TestClient(create_app(primary_only.settings, runtime=primary_only)) as c:
                assert _titles(c) == (MARKER, MARKER, True), "the primary has the marker"

            # The CKAN call and the page views counted against rate limits: those writes are
            # on the primary (the replica refuses writes; its replay is paused anyway).
            counted = (
                "SELECT coalesce(sum(count), 0) FROM rate_counter WHERE key LIKE 'od:api-ms:%'"
            )
            with session_scope(rt.sessions) as s:
                assert s.execute(text(counted)).scalar_one() >= 2
            assert _replica_sql(replica, counted) == 0

            # A tight bound: once the replica is further behind than it, reads go to the primary.
            tight = build_runtime(settings.model_copy(update={"replica_max_lag_s": 0.5}))
            try:
                time.sleep(1.0)
                assert tight.reads.read_sessions() is tight.sessions
                with TestClient(create_app(tight.settings, runtime=tight)) as c:
                    assert _titles(c)[0] == MARKER
            finally:
                tight.close()
        finally:
            _replica_sql(replica, "SELECT pg_wal_replay_resume()")
        deadline = time.monotonic() + 30
        rt.reads._checked_at = 0.0
        with TestClient(create_app(settings, runtime=rt)) as c:
            while _titles(c)[0] != MARKER:  # replayed: the replica serves the new title
                assert time.monotonic() < deadline, "replica never replayed the marker"
                time.sleep(0.2)
    finally:
        with session_scope(primary_only.sessions) as s:
            s.execute(
                text("UPDATE resource SET title = :t WHERE code = 'macro_indicator'"),
                {"t": original},
            )
        primary_only.close()
        rt.close()
