"""Fixtures: a real PostgreSQL started from the system's binaries, SQLite for the core.

Every test runs inside a transaction that is rolled back; requests made through the test
client join it through savepoints, so their commits are real but vanish after the test.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from exchange.app import create_app
from exchange.core.db import make_engine
from exchange.core.resource_schema import SCHEMAS_DIR, load_all
from exchange.core.runtime import Runtime
from exchange.core.settings import Settings
from exchange.core.store import PayloadStore
from exchange.lifecycle import prepare_database
from exchange.testing.postgres import LocalPostgres, PostgresUnavailable
from exchange.wiring import wire

# The seeded cities of the assurance tests, shared by tests/pipelines and tests/dags.
pytest_plugins = ["tests.pipelines.fixtures"]

BACKENDS = ("postgresql", "sqlite")
# Tests that start real processes (nodes, Airflow, browsers) run one after another on one
# xdist worker: they time things and would disturb each other on two cores. The Airflow run
# (`own_lane`) has a lane of its own beside them. The rest is spread over every worker
# (`make test` runs `-n 2 --dist loadgroup`).
SERIAL_GROUP = "processes"
_pg_version: list[str] = []


def pytest_generate_tests(metafunc: pytest.Metafunc) -> None:
    if "backend" in metafunc.fixturenames:
        both = metafunc.definition.get_closest_marker("both_backends") is not None
        metafunc.parametrize("backend", BACKENDS if both else BACKENDS[:1], scope="session")


@pytest.hookimpl(tryfirst=True)  # before xdist reads the groups off the markers
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        if item.get_closest_marker("own_lane") is not None:
            # long and self-contained (Airflow): beside the process lane, not in its queue,
            # or that one worker's queue alone outlasts the rest of the suite
            item.add_marker(pytest.mark.xdist_group(item.name))
        elif item.get_closest_marker("slow") is not None:
            item.add_marker(pytest.mark.xdist_group(SERIAL_GROUP))
        callspec = getattr(item, "callspec", None)
        values = [v for v in callspec.params.values() if isinstance(v, str)] if callspec else []
        # carried by each report, so the count below also works across xdist workers
        if "postgresql" in values or "pg_server" in getattr(item, "fixturenames", ()):
            item.user_properties.append(("backend", "postgresql"))
        elif "sqlite" in values:
            item.user_properties.append(("backend", "sqlite"))


def pytest_sessionfinish(session: pytest.Session) -> None:
    workeroutput = getattr(session.config, "workeroutput", None)
    if workeroutput is not None and _pg_version:
        workeroutput["pg_version"] = _pg_version[0]


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: object, error: object) -> None:
    version = getattr(node, "workeroutput", {}).get("pg_version")
    if version and not _pg_version:
        _pg_version.append(version)


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    counts = dict.fromkeys(BACKENDS, 0)
    for report in terminalreporter.stats.get("passed", []):
        backend = dict(report.user_properties).get("backend")
        if backend in counts and report.when == "call":
            counts[backend] += 1
    version = _pg_version[0] if _pg_version else "not started"
    terminalreporter.write_line(
        f"database backends: {counts['postgresql']} tests passed against PostgreSQL "
        f"{version}, {counts['sqlite']} against SQLite"
    )


@pytest.fixture(scope="session")
def pg_server() -> Iterator[LocalPostgres]:
    try:
        pg = LocalPostgres()
        pg.start()
    except PostgresUnavailable as exc:
        # Never skip: a missing database is a failed run, not a green one.
        pytest.fail(f"PostgreSQL could not be started: {exc}", pytrace=False)
    _pg_version.append(pg.version())
    yield pg
    pg.stop()


@pytest.fixture(scope="session")
def pg_engine(pg_server: LocalPostgres) -> Iterator[Engine]:
    engine = make_engine(pg_server.create_database("hub_test"))
    prepare_database(engine, load_all(SCHEMAS_DIR))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def sqlite_engine(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Engine]:
    engine = make_engine(f"sqlite:///{tmp_path_factory.mktemp('sqlite')}/hub.db")
    prepare_database(engine, load_all(SCHEMAS_DIR))
    yield engine
    engine.dispose()


@pytest.fixture(scope="session")
def engine(backend: str, request: pytest.FixtureRequest) -> Engine:
    return request.getfixturevalue("pg_engine" if backend == "postgresql" else "sqlite_engine")


@pytest.fixture
def db_sessions(engine: Engine) -> Iterator[sessionmaker[Session]]:
    """Sessions bound to one connection whose outer transaction is rolled back afterwards."""
    with engine.connect() as conn:
        outer = conn.begin()
        yield sessionmaker(
            bind=conn, join_transaction_mode="create_savepoint", expire_on_commit=False
        )
        outer.rollback()


@pytest.fixture
def db(db_sessions: sessionmaker[Session]) -> Iterator[Session]:
    with db_sessions() as session:
        yield session


@pytest.fixture(scope="session", autouse=True)
def _wired() -> None:
    """Tests call services directly, without the entry points that wire the ports."""
    wire()


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    return Settings(
        env="test",
        secret_key="test-secret-not-for-production",
        var_dir=tmp_path,
        store_url=(tmp_path / "payloads").as_uri(),
        relay_interval_s=0,  # tests drive the relay themselves
        janitor_interval_s=0,
        sharing={"seal_interval_s": 0},  # tests seal the audit log themselves
    )


@pytest.fixture
def runtime(settings: Settings, engine: Engine, db_sessions: sessionmaker[Session]) -> Runtime:
    return Runtime(
        settings=settings,
        engine=engine,
        sessions=db_sessions,
        store=PayloadStore(settings.resolved_store_url),
    )


@pytest.fixture
def client(settings: Settings, runtime: Runtime) -> Iterator[TestClient]:
    with TestClient(create_app(settings, runtime=runtime)) as c:
        yield c
