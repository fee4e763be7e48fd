import datetime as dt
import uuid
from collections.abc import Iterator

import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, MetaData, inspect

import exchange.models  # noqa: F401
from exchange.core.db import Base, make_engine
from exchange.core.migrate import current_revision, downgrade, head_revision, heads, upgrade
from exchange.testing.postgres import LocalPostgres


@pytest.fixture
def fresh_engine(
    backend: str, request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Engine]:
    """An empty database of the backend under test, not shared with other tests."""
    if backend == "postgresql":
        pg: LocalPostgres = request.getfixturevalue("pg_server")
        url = pg.create_database(f"migrations_{request.node.name[-20:].strip('[]-')}")
    else:
        url = f"sqlite:///{tmp_path_factory.mktemp('mig')}/fresh.db"
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_there_is_exactly_one_head() -> None:
    assert len(heads()) == 1
    assert head_revision() == heads()[0]


def _revision(engine: Engine) -> str | None:
    with engine.connect() as conn:
        return current_revision(conn)


@pytest.mark.both_backends
def test_upgrade_downgrade_upgrade(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    assert _revision(fresh_engine) == head_revision()
    tables = set(inspect(fresh_engine).get_table_names())
    assert {"node", "department", "resource"} <= tables
    downgrade(fresh_engine, "base")
    assert set(inspect(fresh_engine).get_table_names()) <= {"alembic_version"}
    upgrade(fresh_engine)
    assert _revision(fresh_engine) == head_revision()


@pytest.mark.both_backends
def test_upgrade_is_idempotent(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    upgrade(fresh_engine)
    assert _revision(fresh_engine) == head_revision()


@pytest.mark.both_backends
def test_models_and_migrations_describe_the_same_schema(fresh_engine: Engine) -> None:
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        diff = compare_metadata(MigrationContext.configure(conn), Base.metadata)
    assert diff == [], f"models differ from migrations: {diff}"


def test_each_revision_downgrades_one_step_at_a_time(pg_server: LocalPostgres) -> None:
    """Walk every step down and up again on PostgreSQL, the production database."""
    from alembic.script import ScriptDirectory

    from exchange.core.migrate import alembic_config

    script = ScriptDirectory.from_config(alembic_config())
    engine = make_engine(pg_server.create_database("migrations_steps"))
    try:
        upgrade(engine)
        for rev in script.walk_revisions():  # head first
            assert _revision(engine) == rev.revision
            downgrade(engine, "-1")
            assert _revision(engine) == rev.down_revision
        upgrade(engine)
        assert _revision(engine) == head_revision()
    finally:
        engine.dispose()


@pytest.mark.both_backends
def test_0007_copies_each_single_key_into_the_key_sets(fresh_engine: Engine) -> None:
    from sqlalchemy import text

    from exchange.core.signing import KeyPair

    upgrade(fresh_engine, "0006")
    node_key, connector_key = KeyPair.generate(), KeyPair.generate()
    connector_id = uuid.uuid4()
    dept_id = uuid.uuid4()
    now = dt.datetime.now(dt.UTC)
    # The previous release's rows, written through its own tables (no model code); SQLite
    # keeps a UUID as 32 hex digits.
    pg = fresh_engine.dialect.name == "postgresql"
    dept_key, connector_key_col = (dept_id, connector_id) if pg else (dept_id.hex, connector_id.hex)
    meta = MetaData()
    meta.reflect(fresh_engine, only=["node", "department", "connector"])
    node, dept, conn_t = (meta.tables[t] for t in ("node", "department", "connector"))
    with fresh_engine.begin() as conn:
        conn.execute(
            node.insert(),
            [
                {"code": "330106000000", "level": "district", "name": "西湖区",
                 "public_key": node_key.public_b64, "is_self": False, "created_at": now},
                {"code": "330100000000", "level": "city", "name": "杭州市",
                 "public_key": None, "is_self": True, "created_at": now},
            ],
        )  # fmt: skip
        conn.execute(
            dept.insert(),
            {"id": dept_key, "node_code": "330100000000", "code": "TJ", "name": "统计局",
             "created_at": now},
        )  # fmt: skip
        conn.execute(
            conn_t.insert(),
            {"id": connector_key_col, "department_id": dept_key, "name": "前置机",
             "public_key": connector_key.public_b64, "state": "active", "queue_cap": 100,
             "created_at": now},
        )  # fmt: skip
    upgrade(fresh_engine)
    with fresh_engine.connect() as conn:
        rows = conn.execute(
            text("SELECT kind, principal, key_id, public_key, retired_at FROM principal_key")
        ).all()
    assert sorted(tuple(r) for r in rows) == [
        ("connector", str(connector_id), connector_key.key_id, connector_key.public_b64, None),
        ("node", "330106000000", node_key.key_id, node_key.public_b64, None),
    ]
