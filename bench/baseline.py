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
