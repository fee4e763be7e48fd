"""Per-grant quotas: calls per minute and rows per day, counted in the database for all workers.

Both counters move in one statement after the rows are read (their number is only known
then) and before anything is returned; a request over either limit gets 429 with Retry-After
and the X-RateLimit-* headers, and no data. Counts survive a refused request, so retrying
in a loop does not help. Snapshots count as one call; their rows do not count against the
daily row limit, which is meant for record-by-record use.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core.ratelimit import count_many
from exchange.platforms.sharing.errors import QuotaExceeded
from exchange.platforms.sharing.grants import GrantView

RATE_WINDOW_S = 60
ROWS_WINDOW_S = 86_400

Keep = Callable[[Callable[[Session], object]], None]


@dataclass(frozen=True, slots=True)
class QuotaState:
    limit: int
    remaining: int
    reset_s: int
    rows_limit: int
    rows_remaining: int

    def headers(self) -> dict[str, str]:
        return {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(max(self.remaining, 0)),
            "X-RateLimit-Reset": str(self.reset_s),
            "X-Quota-Rows-Limit": str(self.rows_limit),
            "X-Quota-Rows-Remaining": str(max(self.rows_remaining, 0)),
        }


def charge(session: Session, keep: Keep, grant: GrantView, *, rows: int) -> QuotaState:
    now = time.time()
    rate_start = int(now // RATE_WINDOW_S * RATE_WINDOW_S)
    rows_start = int(now // ROWS_WINDOW_S * ROWS_WINDOW_S)
    rate_key, rows_key = f"grant:{grant.id}:calls", f"grant:{grant.id}:rows"
    hits = [(rate_key, rate_start, 1), (rows_key, rows_start, rows)]
    keep(lambda s: count_many(s, hits[:1]))  # a refused read delivered no rows
    counts = count_many(session, hits)
    state = QuotaState(
        limit=grant.rate_per_minute,
        remaining=grant.rate_per_minute - counts[rate_key],
        reset_s=int(rate_start + RATE_WINDOW_S - now) + 1,
        rows_limit=grant.rows_per_day,
        rows_remaining=grant.rows_per_day - counts[rows_key],
    )
    if counts[rate_key] > grant.rate_per_minute:
        raise QuotaExceeded(
            "calls per minute", grant.rate_per_minute, state.reset_s, state.headers()
        )
    if counts[rows_key] > grant.rows_per_day:
        reset = int(rows_start + ROWS_WINDOW_S - now) + 1
        raise QuotaExceeded("rows per day", grant.rows_per_day, reset, state.headers())
    return state
