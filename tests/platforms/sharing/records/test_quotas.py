"""Per-grant quotas: calls reserved in the database, rows counted and merged across workers."""

from __future__ import annotations

import threading
import uuid

import pytest
from sqlalchemy import Engine
from sqlalchemy.orm import sessionmaker

from exchange.core.db import session_scope
from exchange.core.ratelimit import count_many
from exchange.platforms.sharing.errors import QuotaExceeded
from exchange.platforms.sharing.grants.service import GrantView
from exchange.platforms.sharing.records.quotas import QuotaCounter

GRANT = GrantView(
    uuid.uuid4(), "population", uuid.uuid4(), ("id_number",), frozenset(), True, 10, 100
)


class SharedCounters:
    """Stands in for the `rate_counter` table every worker merges into."""

    def __init__(self) -> None:
        self.counts: dict[tuple[str, int], int] = {}
        self.fail = False

    def merge(self, hits: list[tuple[str, int, int]]) -> dict[tuple[str, int], int]:
        if self.fail:
            raise ConnectionError("database unavailable")
        for key, start, delta in hits:
            self.counts[(key, start)] = self.counts.get((key, start), 0) + delta
        return {(k, s): self.counts[(k, s)] for k, s, _ in hits}


def test_one_worker_counts_calls_exactly() -> None:
    q = QuotaCounter(None)
    states = [q.take(GRANT, 1) for _ in range(10)]
    assert [s.remaining for s in states] == list(range(9, -1, -1))
    with pytest.raises(QuotaExceeded) as refused:
        q.take(GRANT, 1)
    assert (
        refused.value.headers is not None and refused.value.headers["X-RateLimit-Remaining"] == "0"
    )


def test_rows_count_only_when_delivered() -> None:
    q = QuotaCounter(None)
    state = q.admit(GRANT, 60)
    q.deliver(GRANT, 60, state)
    with pytest.raises(QuotaExceeded, match="rows per day"):
        q.admit(GRANT, 41)  # 60 + 41 > 100: refused, and no rows counted
    assert q.take(GRANT, 40).rows_remaining == 0


def test_workers_see_each_others_counts_after_a_merge() -> None:
    db = SharedCounters()
    a, b = QuotaCounter(db.merge, sync_s=3600), QuotaCounter(db.merge, sync_s=3600)
    for _ in range(6):
        a.take(GRANT, 1)
    for _ in range(3):
        b.take(GRANT, 1)
    a.merge_now()
    b.merge_now()
    a.merge_now()
    assert a.take(GRANT, 1).remaining == 0  # 6 + 3 + this one
    a.merge_now()
    b.merge_now()
    with pytest.raises(QuotaExceeded):
        b.take(GRANT, 1)  # the eleventh call across both workers


def test_counts_survive_a_failed_merge() -> None:
    db = SharedCounters()
    a = QuotaCounter(db.merge, sync_s=3600)
    for _ in range(4):
        a.take(GRANT, 1)
    db.fail = True
    a.merge_now()
    db.fail = False
    a.merge_now()
    assert sum(v for (k, _), v in db.counts.items() if k.endswith(":calls")) == 4


def test_two_workers_on_one_database_hold_the_minute_exactly(pg_engine: Engine) -> None:
    """Two processes' counters reserving in one real `rate_counter`: a 10/min grant serves 10
    calls of a 40-call burst, however the burst falls on the workers."""
    sessions = sessionmaker(pg_engine)

    def reserve(key: str, start: int, calls: int) -> int:
        with session_scope(sessions) as session:
            return count_many(session, [(key, start, calls)])[(key, start)]

    grant = GrantView(
        uuid.uuid4(), "population", uuid.uuid4(), ("id_number",), frozenset(), True, 10, 10**6
    )
    workers = [QuotaCounter(None, reserve=reserve), QuotaCounter(None, reserve=reserve)]
    served = []

    def burst(q: QuotaCounter) -> None:
        for _ in range(20):
            try:
                q.take(grant, 1)
                served.append(1)
            except QuotaExceeded:
                pass

    threads = [threading.Thread(target=burst, args=(q,)) for q in workers]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(served) == 10
