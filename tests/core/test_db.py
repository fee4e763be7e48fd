"""SQLite transactions: writers queue for the one write lock, readers never wait for it."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import text

from exchange.core.db import make_engine, make_sessionmaker, read_only_sessions


def test_a_sqlite_session_holds_the_write_lock_from_its_first_statement(tmp_path: Path) -> None:
    # A deferred BEGIN read first and asked for the lock at its first write; in WAL mode that
    # fails at once ("database is locked", the busy timeout notwithstanding) when another
    # writer committed in between: 11 of 20 audited reads failed so beside the sealer.
    engine = make_engine(f"sqlite:///{tmp_path}/hub.db")
    with engine.begin() as conn:
        conn.exec_driver_sql("CREATE TABLE t (x INTEGER)")
    sessions = make_sessionmaker(engine)
    other = sqlite3.connect(tmp_path / "hub.db", timeout=0, isolation_level=None)
    try:
        with sessions() as writer:
            writer.execute(text("SELECT count(*) FROM t"))  # a read first, as a keyed read does
            with pytest.raises(sqlite3.OperationalError, match="locked"):
                other.execute("BEGIN IMMEDIATE")  # the lock is this session's already
            with read_only_sessions(sessions)() as reader:  # reads beside it, at once
                assert reader.execute(text("SELECT count(*) FROM t")).scalar_one() == 0
            writer.execute(text("INSERT INTO t VALUES (1)"))
            writer.commit()
        other.execute("BEGIN IMMEDIATE")
        other.execute("ROLLBACK")
    finally:
        other.close()
        engine.dispose()
