"""Per-grant quotas: calls per minute and rows per day, shared by every worker of the node.

Each worker counts in memory and merges its counts into the database counters (`rate_counter`,
one upsert for all its grants) at most every `SYNC_S` seconds, learning the other workers'
counts in the same statement. So the read path takes no lock on a hot counter row and makes
no round trip for quotas, and a limit holds across workers to within what the other workers
served since their last merge (about workers x rate x SYNC_S). A refused call still counts;
rows count only when delivered. Snapshots count as one call and no rows: the daily row limit
is meant for record-by-record use.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

from exchange.platforms.sharing.errors import QuotaExceeded
from exchange.platforms.sharing.grants.service import GrantView

log = logging.getLogger("hub.sharing.quotas")
RATE_WINDOW_S = 60
ROWS_WINDOW_S = 86_400
SYNC_S = 0.5

# [(key, window start, delta)] -> {(key, window start): count across workers after the delta}
Merge = Callable[[list[tuple[str, int, int]]], dict[tuple[str, int], int]]


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


@dataclass
class _Window:
    start: int
    merged: int = 0  # the count across workers at the last merge (ours included)
    pending: int = 0  # ours since then

    @property
    def count(self) -> int:
        return self.merged + self.pending


class QuotaCounter:
    def __init__(self, merge: Merge | None, sync_s: float = SYNC_S) -> None:
        """`merge` None: this process counts alone (one worker; the tests' shared connection)."""
        self._merge = merge
        self._sync_s = sync_s
        self._windows: dict[str, _Window] = {}
        self._lock = threading.Lock()
        self._merging = False
        self._next_merge = 0.0

    def _window(self, key: str, start: int) -> _Window:
        w = self._windows.get(key)
        if w is None or w.start < start:
            if w is not None and w.pending:
                self._windows[f"{key}@{w.start}"] = w  # merged once more, then dropped
            w = self._windows[key] = _Window(start)
        return w

    def admit(self, grant: GrantView, rows: int) -> QuotaState:
        """Count one call that may deliver up to `rows` rows; 429 past either limit.

        The rows are not counted here: `deliver` counts those actually delivered.
        """
        now = time.time()
        rate_start = int(now // RATE_WINDOW_S * RATE_WINDOW_S)
        rows_start = int(now // ROWS_WINDOW_S * ROWS_WINDOW_S)
        reset = int(rate_start + RATE_WINDOW_S - now) + 1
        with self._lock:
            calls = self._window(f"grant:{grant.id}:calls", rate_start)
            delivered = self._window(f"grant:{grant.id}:rows", rows_start)
            calls.pending += 1
            state = QuotaState(
                limit=grant.rate_per_minute,
                remaining=grant.rate_per_minute - calls.count,
                reset_s=reset,
                rows_limit=grant.rows_per_day,
                rows_remaining=grant.rows_per_day - delivered.count,
            )
        self._maybe_merge(now)
        if state.remaining < 0:
            raise QuotaExceeded("calls per minute", grant.rate_per_minute, reset, state.headers())
        if rows > state.rows_remaining:
            day_reset = int(rows_start + ROWS_WINDOW_S - now) + 1
            raise QuotaExceeded("rows per day", grant.rows_per_day, day_reset, state.headers())
        return state

    def deliver(self, grant: GrantView, rows: int, state: QuotaState) -> QuotaState:
        """Count the rows a call delivered; returns the state to report in its headers."""
        if rows:
            start = int(time.time() // ROWS_WINDOW_S * ROWS_WINDOW_S)
            with self._lock:
                self._window(f"grant:{grant.id}:rows", start).pending += rows
        return QuotaState(
            state.limit,
            state.remaining,
            state.reset_s,
            state.rows_limit,
            state.rows_remaining - rows,
        )

    def take(self, grant: GrantView, rows: int) -> QuotaState:
        """`admit` and `deliver` at once, for reads that know their rows before answering."""
        return self.deliver(grant, rows, self.admit(grant, rows))

    def _maybe_merge(self, now: float) -> None:
        """Start a merge in a short-lived thread when one is due: a read never waits for it."""
        with self._lock:
            if self._merge is None or self._merging or now < self._next_merge:
                return
            self._merging = True
            self._next_merge = now + self._sync_s
        threading.Thread(target=self._merge_once, name="quota-merge", daemon=True).start()

    def _merge_once(self) -> None:
        with self._lock:
            batch = [(k.split("@")[0], w, w.pending) for k, w in self._windows.items()]
            for _, w, _ in batch:
                w.pending = 0
        assert self._merge is not None
        try:
            totals = self._merge([(key, w.start, d) for key, w, d in batch]) if batch else {}
        except Exception:
            log.exception("merging quota counts failed; keeping them for the next merge")
            totals = None
        with self._lock:
            self._merging = False
            for key, w, delta in batch:
                if totals is None:
                    w.pending += delta
                else:
                    w.merged = totals.get((key, w.start), w.merged + delta)
            if totals is not None:
                for k in [k for k, w in self._windows.items() if "@" in k and not w.pending]:
                    del self._windows[k]  # a finished window, now merged

    def merge_now(self) -> None:
        """Merge at once, in the caller's thread (tests, shutdown)."""
        with self._lock:
            if self._merge is None or self._merging:
                return
            self._merging = True
        self._merge_once()
