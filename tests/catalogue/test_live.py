"""Every worker agrees: a resource published through one is served by the others within a
second, without a restart. Two runtimes on one committed PostgreSQL database stand for two
`hub serve` workers (each its own engine, pools and live view)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from exchange.catalogue import service as catalogue
from exchange.core.db import make_engine, make_sessionmaker, session_scope
from exchange.core.live_schemas import LiveSchemas
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.store import PayloadStore
from exchange.directory import service as directory
from exchange.lifecycle import prepare_database
from exchange.testing.postgres import LocalPostgres
from tests.catalogue.builders import BUREAU, PROVIDER, actor, descriptor


@pytest.fixture
def workers(pg_server: LocalPostgres, settings: Settings) -> Iterator[tuple[Runtime, Runtime]]:
    url = pg_server.create_database("catalogue_live")
    made = []
    for _ in range(2):
        engine = make_engine(url)
        made.append(
            Runtime(
                settings=settings,
                engine=engine,
                sessions=make_sessionmaker(engine),
                store=PayloadStore(settings.resolved_store_url),
            )
        )
    prepare_database(made[0].engine, load_all(SCHEMAS_DIR))
    yield made[0], made[1]
    for rt in made:
        rt.close()


def _wait_for(check: object, seconds: float) -> float:
    assert callable(check)
    start = time.monotonic()
    while time.monotonic() - start < seconds:
        if check():
            return time.monotonic() - start
        time.sleep(0.01)
    raise AssertionError(f"not seen within {seconds} s")


def test_a_resource_published_in_one_worker_is_served_by_another_within_a_second(
    workers: tuple[Runtime, Runtime],
) -> None:
    a, b = workers
    assert isinstance(b.schemas, LiveSchemas)
    assert "bus_stop" not in b.schemas and len(b.schemas) == 7  # the files alone
    with session_scope(a.sessions) as s:
        node = directory.sync_topology(s, a.settings)
        provider = actor(directory.ensure_department(s, node, PROVIDER, "规划和自然资源局"))
        reviewer = actor(directory.ensure_department(s, node, BUREAU, "数据资源管理局"), "u:r")
        ctx = catalogue.Context(node_code=node.code, schemas=a.schemas)
        r = catalogue.create(s, ctx, provider, descriptor())
        catalogue.submit(s, ctx, provider, r.code)
        catalogue.approve(s, ctx, reviewer, r.code)
    b.schemas.keys()  # b has looked at the counter: only the interval lets it see the news
    with session_scope(a.sessions) as s:
        catalogue.publish(s, ctx, reviewer, "bus_stop")
    # iteration checks on the interval only (a miss would check at once)
    took = _wait_for(lambda: "bus_stop" in list(b.schemas), 1.0)
    assert took < 1.0
    assert b.schemas["bus_stop"].catalog.title == "公交站点"
    with session_scope(a.sessions) as s:
        catalogue.withdraw(s, ctx, reviewer, "bus_stop", "停止维护")
    assert isinstance(b.schemas, LiveSchemas)
    live_b = b.schemas
    _wait_for(lambda: live_b.is_withdrawn("bus_stop"), 1.0)


def test_a_worker_on_a_database_without_the_catalogue_still_serves_the_files(
    tmp_path: Path, settings: Settings
) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/empty.db")  # never migrated
    rt = Runtime(
        settings=settings,
        engine=engine,
        sessions=make_sessionmaker(engine),
        store=PayloadStore(settings.resolved_store_url),
    )
    try:
        assert sorted(rt.schemas) == sorted(load_all(SCHEMAS_DIR))
        assert "nothing_here" not in rt.schemas
    finally:
        rt.close()
