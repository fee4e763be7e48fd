"""Route read-only work to a PostgreSQL streaming replica while it is fresh enough.

Fresh means: the replica has replayed everything the primary has written, or the last
transaction it replayed is younger than the bound (`HUB_REPLICA_MAX_LAG_S`). The answer is
cached for a second, so the check costs two tiny queries per second per worker, not per request.
A replica that is behind or unreachable is skipped: reads go to the primary. Writes never go to
the replica.
"""

from __future__ import annotations

import logging
import threading
import time

from sqlalchemy import Engine, text
from sqlalchemy.orm import Session, sessionmaker

log = logging.getLogger("hub.replica")
CHECK_EVERY_S = 1.0


class ReplicaRouter:
    def __init__(
        self,
        primary: sessionmaker[Session],
        primary_engine: Engine,
        replica_engine: Engine | None,
        max_lag_s: float,
    ) -> None:
        self.primary = primary
        self.primary_engine = primary_engine
        self.replica_engine = replica_engine
        self.replica = (
            sessionmaker(replica_engine, expire_on_commit=False) if replica_engine else None
        )
        self.max_lag_s = max_lag_s
        self._checked_at = 0.0
        self._fresh = False
        self._lock = threading.Lock()

    def lag(self) -> tuple[int, float | None]:
        """(bytes not yet replayed, seconds since the last replayed transaction)."""
        assert self.replica_engine is not None
        with self.primary_engine.connect() as p:
            primary_lsn = p.execute(text("SELECT pg_current_wal_lsn()")).scalar_one()
        with self.replica_engine.connect() as r:
            behind, age = r.execute(
                text(
                    "SELECT pg_wal_lsn_diff(CAST(:lsn AS pg_lsn), pg_last_wal_replay_lsn()), "
                    "EXTRACT(EPOCH FROM now() - pg_last_xact_replay_timestamp())"
                ),
                {"lsn": primary_lsn},
            ).one()
        return int(max(behind or 0, 0)), None if age is None else float(age)

    def fresh(self) -> bool:
        if self.replica_engine is None:
            return False
        with self._lock:
            if time.monotonic() - self._checked_at < CHECK_EVERY_S:
                return self._fresh
            try:
                behind, age = self.lag()
                self._fresh = behind == 0 or (age is not None and age <= self.max_lag_s)
            except Exception as exc:  # an unreachable replica just means "read the primary"
                log.warning("replica unavailable", extra={"error": str(exc).splitlines()[0]})
                self._fresh = False
            self._checked_at = time.monotonic()
            return self._fresh

    def read_sessions(self) -> sessionmaker[Session]:
        return self.replica if self.replica is not None and self.fresh() else self.primary
