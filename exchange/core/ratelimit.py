"""Fixed-window rate limits kept in the database, so every worker of a node shares them.

One upsert per checked request: `INSERT ... ON CONFLICT DO UPDATE ... RETURNING count`.
Callers set the X-RateLimit-* headers from the returned state; over the limit raises 429.
"""

from __future__ import annotations

import datetime as dt
import time
from dataclasses import dataclass
from typing import Any, cast

from sqlalchemy import BigInteger, CursorResult, String, Table, delete, literal, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Mapped, Session, mapped_column

from exchange.core.db import Base
from exchange.core.errors import TooManyRequests


class RateCounter(Base):
    __tablename__ = "rate_counter"

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_start: Mapped[int] = mapped_column(BigInteger, primary_key=True)  # unix seconds
    count: Mapped[int] = mapped_column(BigInteger, default=0)


@dataclass(frozen=True)
class RateState:
    limit: int
    remaining: int
    reset_s: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(self.reset_s),
        }


class RateLimited(TooManyRequests):
    def __init__(self, key: str, state: RateState) -> None:
        super().__init__(
            f"rate limit of {state.limit} requests per window reached for {key}",
            retry_after_s=max(state.reset_s, 1),
            headers=state.headers(),
        )


def hit(session: Session, key: str, *, limit: int, window_s: int, cost: int = 1) -> RateState:
    """Count `cost` against `key`'s current window; raises RateLimited past `limit`."""
    now = time.time()
    start = int(now // window_s * window_s)
    count = _count(session, key, start, cost)
    state = RateState(limit, limit - count, int(start + window_s - now) + 1)
    if count > limit:
        raise RateLimited(key, state)
    return state


def add(session: Session, key: str, *, cost: int, window_s: int) -> int:
    """Add `cost` to `key`'s current window unchecked: charging work already done (the time a
    request took, the bytes a download sent); the next `hit` refuses past the limit."""
    return _count(session, key, int(time.time() // window_s * window_s), cost)


def hit_request(
    request: Any, session: Session, key: str, *, limit: int, window_s: int, cost: int = 1
) -> RateState:
    """`hit`, also counted when the request then fails (its transaction is rolled back)."""
    from exchange.core.deps import keep_on_failure

    start = int(time.time() // window_s * window_s)
    keep_on_failure(request, lambda s: _count(s, key, start, cost))
    return hit(session, key, limit=limit, window_s=window_s, cost=cost)


class Throttled(TooManyRequests):
    def __init__(self, what: str, wait_s: int) -> None:
        super().__init__(
            f"too many failed attempts for {what}; try again in {wait_s} s", retry_after_s=wait_s
        )


def backoff_wait(session: Session, key: str, *, free: int, window_s: int) -> int:
    """Seconds `key` must wait before its next attempt (0: go ahead).

    The first `free` failures in a window cost nothing; each one after doubles the wait after
    the last failure (1 s, 2 s, 4 s, ... up to the window). A backoff, not a lock-out: keyed by
    (who, source address), so failures from elsewhere never stop the real owner.
    """
    now = time.time()
    start = int(now // window_s * window_s)
    rows = dict(
        session.execute(
            select(RateCounter.key, RateCounter.count).where(
                RateCounter.key.in_([key, f"{key}:at"]), RateCounter.window_start == start
            )
        ).all()
    )
    failures, last = int(rows.get(key, 0)), int(rows.get(f"{key}:at", 0))
    if failures < free:
        return 0
    wait = min(2 ** (failures - free), window_s)
    return max(0, int(last + wait - now) + 1) if last + wait > now else 0


def note_failure(session: Session, key: str, *, window_s: int) -> None:
    now = time.time()
    start = int(now // window_s * window_s)
    _count(session, key, start, 1)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    at = insert(RateCounter).values(key=f"{key}:at", window_start=start, count=int(now))
    session.execute(
        at.on_conflict_do_update(
            index_elements=["key", "window_start"], set_={"count": at.excluded.count}
        )
    )


def _count(session: Session, key: str, start: int, cost: int) -> int:
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = insert(RateCounter).values(key=key, window_start=start, count=cost)
    stmt = rows.on_conflict_do_update(
        index_elements=["key", "window_start"],
        set_={"count": RateCounter.count + literal(cost)},
    ).returning(RateCounter.count)
    return int(session.execute(stmt).scalar_one())


def count_many(session: Session, hits: list[tuple[str, int, int]]) -> dict[tuple[str, int], int]:
    """Add each (key, window start, cost) in one statement; returns each window's new count."""
    table = cast(Table, RateCounter.__table__)
    insert = postgresql.insert if session.get_bind().dialect.name == "postgresql" else sqlite.insert
    rows = insert(table).values(
        [{"key": k, "window_start": start, "count": cost} for k, start, cost in hits]
    )
    upsert = rows.on_conflict_do_update(
        index_elements=["key", "window_start"],
        set_={"count": table.c.count + rows.excluded.count},
    ).returning(table.c.key, table.c.window_start, table.c.count)
    return {(k, int(w)): int(c) for k, w, c in session.execute(upsert).all()}


def purge(session: Session, older_than: dt.timedelta = dt.timedelta(hours=1)) -> int:
    """Drop finished windows (run by the operations pipeline)."""
    cutoff = int(time.time() - older_than.total_seconds())
    result = cast(
        CursorResult[Any],
        session.execute(delete(RateCounter).where(RateCounter.window_start < cutoff)),
    )
    return int(result.rowcount or 0)
