"""Baselines measured in the same run: a raw COPY into a table shaped like a resource's."""

from __future__ import annotations

import psycopg

SYSTEM_COLUMNS = ("_seq", "_version", "_deleted", "_batch_id", "_recorded_at", "_valid_from")


def create_raw_table(conn: psycopg.Connection, like: str, name: str) -> None:
    """`name`: the columns and indexes of `like`, its bookkeeping columns left optional."""
    conn.execute(f"DROP TABLE IF EXISTS {name}")
    conn.execute(f"CREATE TABLE {name} (LIKE {like} INCLUDING ALL)")
    for col in SYSTEM_COLUMNS:
        conn.execute(f"ALTER TABLE {name} ALTER {col} DROP NOT NULL")
    conn.commit()


def checkpoint(dsn: str) -> None:
    """Flush the server's dirty pages and start a new WAL segment run.

    Called before each timed load so neither the baseline nor the measured path pays for the
    other's writes: a 1M-row COPY leaves ~0.5 GB of WAL, and the checkpoint it triggers would
    otherwise land inside whichever load runs second (2-3 s on this machine).
    """
    with psycopg.connect(dsn, autocommit=True) as conn:
        conn.execute("CHECKPOINT")
