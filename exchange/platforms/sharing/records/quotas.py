"""Per-grant quotas: calls per minute and rows per day, shared by every worker of the node.

Calls per minute are reserved before they are served: a worker takes a lease of calls from
the grant's database counter (`rate_counter`, one upsert that returns the count across all
workers) and serves from it until it is used up, so the limit holds exactly across workers
(a lease left unused at the end of a minute is simply lost). Leases are a twentieth of the
limit, so a 600/min grant costs one round trip per 30 calls and a 10/min grant one per call.

Rows per day are counted in memory and merged into the same table (one upsert for all its
grants) at most every `SYNC_S` seconds, learning the other workers' counts in the same
statement; that limit holds across workers to within what the others delivered since their
last merge. Rows count when delivered, on every read path: records, feed, console and
snapshots (a snapshot larger than what is left of the day is refused before it streams).
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

LEASE_SHARE = 20
# [(key, window start, delta)] -> {(key, window start): count across workers after the delta}
Merge = Callable[[list[tuple[str, int, int]]], dict[tuple[str, int], int]]
# (key, window start, calls) -> the window's count across workers after adding them
Reserve = Callable[[str, int, int], int]


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


@dataclass
class _Lease:
    start: int
    left: int = 0  # calls reserved and not yet served
    total: int = 0  # the window's count across workers at the last reservation


class QuotaCounter:
    def __init__(
        self, merge: Merge | None, sync_s: float = SYNC_S, reserve: Reserve | None = None
    ) -> None:
        """`merge` and `reserve` None: this process counts alone (one worker; the tests'
        shared connection)."""
        self._merge = merge
        self._reserve = reserve
        self._sync_s = sync_s
        self._windows: dict[str, _Window] = {}
        self._leases: dict[str, _Lease] = {}
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
        if self._reserve is not None:
            remaining = self._reserved_call(grant, rate_start)
        with self._lock:
            if self._reserve is None:
                calls = self._window(f"grant:{grant.id}:calls", rate_start)
                calls.pending += 1
                remaining = grant.rate_per_minute - calls.count
            delivered = self._window(f"grant:{grant.id}:rows", rows_start)
            state = QuotaState(
                limit=grant.rate_per_minute,
                remaining=remaining,
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

    def _reserved_call(self, grant: GrantView, start: int) -> int:
        """Serve one call from this worker's lease, reserving more first if it is used up.
        Returns the calls left in the window across workers (-1: none, refuse)."""
        key, limit = f"grant:{grant.id}:calls", grant.rate_per_minute
        with self._lock:
            lease = self._leases.get(key)
            if lease is None or lease.start < start:
                lease = self._leases[key] = _Lease(start)
                self._leases = {k: v for k, v in self._leases.items() if v.start >= start}
            more = lease.left == 0 and lease.total < limit
            want = max(1, limit // LEASE_SHARE) if more else 0
        if want:
            assert self._reserve is not None
            total = self._reserve(key, start, want)  # outside the lock: a database round trip
            granted = max(0, min(want, limit - (total - want)))
            with self._lock:
                lease.total = max(lease.total, total)
                lease.left += granted
        with self._lock:
            if lease.left == 0:
                return -1
            lease.left -= 1
            return max(limit - lease.total, 0) + lease.left

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
