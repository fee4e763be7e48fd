"""Engine, sessions and the declarative base.

The engine is built when a process starts (app lifespan, CLI command, DAG task), never at import.
Transactions end at the edge: `session_scope()` for commands and tasks, the request dependency
in `exchange.core.deps` for HTTP.
"""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from typing import TYPE_CHECKING, Any, ClassVar, cast

from sqlalchemy import (
    JSON,
    BigInteger,
    Connection,
    DateTime,
    Engine,
    Integer,
    MetaData,
    create_engine,
    event,
)
from sqlalchemy.dialects.postgresql import JSONB
from sqlalchemy.engine import make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.types import TypeDecorator

if TYPE_CHECKING:
    import psycopg

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class UTCDateTime(TypeDecorator[dt.datetime]):
    """Timezone-aware UTC timestamps on every backend (SQLite stores naive text)."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime given; use timezone-aware UTC")
        return value.astimezone(dt.UTC)

    def process_result_value(self, value: dt.datetime | None, dialect: Any) -> dt.datetime | None:
        if value is not None and value.tzinfo is None:
            return value.replace(tzinfo=dt.UTC)
        return value


# The largest BIGINT (and OFFSET) either database takes: the bound of every integer parameter
# that reaches SQL, so a larger one is refused as input rather than failing in the driver.
BIGINT_MAX = 2**63 - 1

# Growing ids: BIGINT on PostgreSQL; SQLite only auto-numbers a column declared INTEGER.
BigIntPK = BigInteger().with_variant(Integer(), "sqlite")

# JSONB on PostgreSQL (indexable, compact), plain JSON text elsewhere.
JSONDoc = JSON().with_variant(JSONB(), "postgresql")


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {
        dt.datetime: UTCDateTime(),
        dict[str, Any]: JSONDoc,
    }


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.UTC)


def new_id() -> uuid.UUID:
    return uuid.uuid4()


def psycopg_connection(conn: Connection | Session) -> psycopg.Connection[Any]:
    """The psycopg connection under `conn`'s transaction, for COPY (PostgreSQL only)."""
    sa_conn = conn.connection() if isinstance(conn, Session) else conn
    raw = sa_conn.connection.dbapi_connection
    assert raw is not None, "the connection was invalidated"
    return cast("psycopg.Connection[Any]", raw)


# How long a SQLite transaction waits for the write lock before the request gets a 503.
SQLITE_BUSY_TIMEOUT_S = 30
# Execution option: this engine's transactions may write (`make_sessionmaker` sets it).
WRITES = "hub_writes"


def make_engine(url: str, *, pool_size: int = 10, connect_timeout_s: int = 5) -> Engine:
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        if parsed.database and parsed.database != ":memory:":
            from pathlib import Path

            Path(parsed.database).parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(
            url,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_S},
            pool_pre_ping=True,
            # Requests wait for the one writer at the database (busy timeout), not for a
            # pooled connection: every worker thread can hold one.
            pool_size=max(pool_size, 20),
            max_overflow=pool_size,
            pool_timeout=SQLITE_BUSY_TIMEOUT_S,
        )
        event.listen(engine, "connect", _sqlite_pragmas)
        event.listen(engine, "begin", _sqlite_begin)
        return engine
    return create_engine(
        url,
        pool_size=pool_size,
        max_overflow=pool_size,
        pool_pre_ping=True,
        connect_args={"connect_timeout": connect_timeout_s, "application_name": "hub"},
    )


def _sqlite_pragmas(dbapi_conn: Any, _record: Any) -> None:
    # Take transaction control away from the sqlite3 module, which would otherwise not start
    # transactions where SQLAlchemy expects them: savepoints and transactional DDL then work.
    dbapi_conn.isolation_level = None
    cur = dbapi_conn.cursor()
    cur.execute("PRAGMA journal_mode=WAL")
    cur.execute("PRAGMA foreign_keys=ON")
    cur.execute("PRAGMA synchronous=NORMAL")
    cur.close()


def _sqlite_begin(conn: Connection) -> None:
    """SQLite transactions that may write take the write lock when they begin.

    A plain (deferred) BEGIN reads first and asks for the lock at its first write; in WAL
    mode that upgrade fails at once with "database is locked" if another writer committed
    meanwhile, whatever the busy timeout (a keyed read's audit INSERT while the sealer or a
    quota merge wrote: 11 of 20 reads failed). BEGIN IMMEDIATE waits for the lock up to the
    busy timeout instead. The node's sessions (`make_sessionmaker`) may write; the engine's
    own connections (health checks, inspection, stored-data checks) and `read_only_sessions`
    only read: they begin deferred and read a snapshot beside the writer, never waiting.
    """
    writes = conn.get_execution_options().get(WRITES, False)
    conn.exec_driver_sql("BEGIN IMMEDIATE" if writes else "BEGIN")


def make_sessionmaker(engine: Engine) -> sessionmaker[Session]:
    """The node's sessions: requests, commands and tasks (on SQLite: BEGIN IMMEDIATE)."""
    if engine.dialect.name == "sqlite":
        engine = engine.execution_options(**{WRITES: True})
    return sessionmaker(engine, expire_on_commit=False)


def read_only_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions for work that never writes: on SQLite they begin deferred (no write lock).

    Anything else (PostgreSQL, the tests' shared connection) gets `sessions` back unchanged.
    """
    bind = sessions.kw.get("bind")
    if isinstance(bind, Engine) and bind.dialect.name == "sqlite":
        return sessionmaker(bind.execution_options(**{WRITES: False}), expire_on_commit=False)
    return sessions


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One transaction for a CLI command or pipeline task: commit on success, else roll back."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


def add_row(session: Session, obj: object) -> None:
    """Add a new row and flush it, so its defaults and ids are known to the caller."""
    session.add(obj)
    session.flush()
