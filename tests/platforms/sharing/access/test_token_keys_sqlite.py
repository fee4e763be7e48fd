"""The token check of every call reads the node's keys now and then; on the embedded SQLite
node it runs on the event loop, so it must never wait for the write lock."""

from __future__ import annotations

import sqlite3
import threading
from pathlib import Path

from exchange.core.runtime import build_runtime
from exchange.core.settings import Settings
from exchange.lifecycle import prepare_database
from exchange.platforms.sharing.env import build_env


def test_reloading_the_token_keys_reads_beside_a_writer_holding_the_lock(tmp_path: Path) -> None:
    # Before: the reload began with BEGIN IMMEDIATE and waited up to the 30 s busy timeout
    # for a connector's load or the sealer, and the worker's event loop (every request) with
    # it: the soak of the embedded default saw no answer for 60 s.
    settings = Settings(env="test", var_dir=tmp_path, secret_key="token-keys-test-" * 3)
    rt = build_runtime(settings)
    try:
        prepare_database(rt.engine, rt.schemas)
        env = build_env(rt)
        writer = sqlite3.connect(tmp_path / "hub.db", isolation_level=None)
        writer.execute("BEGIN IMMEDIATE")  # another process mid-write, holding the lock
        writer.execute("DELETE FROM audit_child_head WHERE 0")
        try:
            loaded: list[object] = []
            reload = threading.Thread(target=lambda: loaded.append(env.verifier._load_keys()))  # type: ignore[misc]
            reload.start()
            reload.join(timeout=10)  # a deadlock bound, far below the busy timeout
            assert not reload.is_alive(), "the key reload waited for the writer's lock"
            assert loaded == [{}]  # a fresh node: no rotated keys in the directory yet
        finally:
            writer.execute("ROLLBACK")
            writer.close()
            reload.join(timeout=60)
    finally:
        rt.close()
