"""`hub connector run`: the long-running connector, one pass every interval.

A pass: apply recorded outcomes -> spool complete files from the drop folder -> poll the source
table -> send the outbox (oldest first) -> apply the new outcomes -> list the inbox (which is
also the heartbeat the hub records as the connector's `last_seen_at`) and receive deliveries.
Every step leaves its result on disk before the next starts, so the process can be killed
anywhere; SIGTERM or Ctrl-C lets the current step finish and ends the loop (a second Ctrl-C
stops at once).

While the hub is unreachable or overloaded, calls to it back off exponentially (honouring
Retry-After) while local work (spooling, polling) goes on; the outbox keeps everything.
"""

from __future__ import annotations

import signal
import threading
import time
from dataclasses import dataclass
from pathlib import Path
from types import FrameType

from rich.console import Console
from sqlalchemy.exc import SQLAlchemyError

from exchange.connector import inbox, outbox
from exchange.connector.client import HubClient, HubUnavailable
from exchange.connector.config import ConnectorConfig, load_keys
from exchange.connector.files import lock_folder
from exchange.connector.inbox import DeliveryError, FolderSink, Received, Sink
from exchange.connector.runlog import RunLog
from exchange.connector.source import SourceError, SourcePoller, SourceSpec
from exchange.connector.target import TableSink
from exchange.connector.watch import FolderWatch, Settled
from exchange.core.resource_schema import SCHEMAS_DIR, load_all

INBOX_PAGE = 100


@dataclass(frozen=True)
class RunOptions:
    watch: Path | None = None
    source: SourceSpec | None = None
    inbox_dir: Path | None = None
    target_url: str | None = None
    interval_s: float = 30.0
    once: bool = False
    settle_s: float = 1.0
    max_backoff_s: float = 300.0


class Backoff:
    """When the hub may be called again after it was unreachable or overloaded."""

    def __init__(self, max_s: float) -> None:
        self.max_s = max_s
        self.delay = 0.0
        self.until = 0.0

    def ready(self) -> bool:
        return time.monotonic() >= self.until

    def failed(self, retry_after: float | None) -> float:
        self.delay = min(max(self.delay * 2, 1.0), self.max_s)
        if retry_after is not None:
            self.delay = max(self.delay, retry_after)
        self.until = time.monotonic() + self.delay
        return self.delay

    def succeeded(self) -> None:
        self.delay = 0.0
        self.until = 0.0


class Runner:
    def __init__(self, connector_dir: Path, options: RunOptions, console: Console) -> None:
        self.dir = connector_dir
        self.options = options
        self.log = RunLog(console)
        cfg = ConnectorConfig.load(connector_dir)
        self._lock = lock_folder(connector_dir)
        self.origin = f"{cfg.node_code}/{cfg.department}/{cfg.connector_id}"
        self.client = HubClient(cfg.hub_url, cfg.connector_id, load_keys(connector_dir))
        schemas = load_all(SCHEMAS_DIR)
        self.backoff = Backoff(options.max_backoff_s)
        self.stop_requested = threading.Event()
        self.problems = 0
        self.watch = (
            FolderWatch(options.watch, connector_dir, schemas, warn=self.log.warn)
            if options.watch
            else None
        )
        self.source: SourcePoller | None = None
        if options.source is not None:
            if options.source.resource not in schemas:
                raise ValueError(f"unknown resource {options.source.resource!r}")
            self.source = SourcePoller(
                options.source, connector_dir, schemas[options.source.resource]
            )
        self.sink: Sink | None = None
        if options.inbox_dir is not None:
            self.sink = FolderSink(options.inbox_dir)
        elif options.target_url is not None:
            self.sink = TableSink(options.target_url, schemas)

    def close(self) -> None:
        self.client.close()
        if self.source is not None:
            self.source.close()
        if isinstance(self.sink, TableSink):
            self.sink.close()
        if self._lock is not None:
            self._lock.close()

    # -- the loop --------------------------------------------------------------------------

    def run(self) -> int:
        """Loop until stopped; with `once`, one pass whose exit code says if anything failed."""
        if threading.current_thread() is threading.main_thread():
            signal.signal(signal.SIGTERM, self._on_signal)
            signal.signal(signal.SIGINT, self._on_signal)
        try:
            while True:
                problems = self.run_pass()
                if self.options.once:
                    return 1 if problems else 0
                if self.stop_requested.wait(self.options.interval_s):
                    self.log.note("stopped")
                    return 0
        finally:
            self.close()

    def _on_signal(self, signum: int, _frame: FrameType | None) -> None:
        if self.stop_requested.is_set():
            raise KeyboardInterrupt  # asked twice: do not wait for the step to finish
        self.stop_requested.set()
        self.log.note(f"{signal.Signals(signum).name}: finishing the current step")

    def run_pass(self) -> int:
        """One pass of every configured activity; returns how many things went wrong."""
        self.problems = 0
        steps = (self._settle, self._spool_files, self._poll_source, self._send, self._settle)
        for step in (*steps, self._receive):
            if self.stop_requested.is_set():
                break
            try:
                step()
            except OSError as exc:
                # A full disk or a vanished folder: say so and try again next pass.
                self.problems += 1
                self.log.error(str(exc))
        return self.problems

    # -- steps -----------------------------------------------------------------------------

    def _settle(self) -> None:
        if self.watch is not None:
            for settled in self.watch.settle():
                if not settled.accepted:  # an accepted one had its "pushed" line already
                    self.log.file_rejected(settled)
        if self.source is None:
            return
        done = self.source.settle()
        if done is not None and done.accepted:
            value = done.cursor.value if done.cursor else None
            self.log.note(f"source {self.source.spec.table}: watermark now {value!r}")
        elif done is not None:
            self.problems += 1
            self.log.error(
                f"source {self.source.spec.table}: batch {done.batch_id} refused; the watermark "
                "stays: fix the rows at the source and they are read again"
            )

    def _spool_files(self) -> None:
        if self.watch is None:
            return
        if self.options.once:
            self.watch.look()  # a single pass looks twice, a little apart
            if self.watch.watched:
                time.sleep(self.options.settle_s)
        for resource, path in self.watch.look():
            result = self.watch.spool_file(resource, path)
            if isinstance(result, Settled):
                self.problems += 1
                self.log.file_rejected(result)

    def _poll_source(self) -> None:
        if self.source is None:
            return
        table = self.source.spec.table
        try:
            batch = self.source.poll()
        except (SourceError, SQLAlchemyError) as exc:
            self.problems += 1
            self.log.error(f"source {table}: {exc}")
            return
        if batch is not None:
            self.log.note(f"source {table}: {batch.rows} new rows spooled")

    def _send(self) -> None:
        if not self._hub_ready():
            return
        deferred = outbox.send_pending(
            self.client,
            self.dir,
            origin=self.origin,
            on_outcome=self._on_outcome,
            should_stop=self.stop_requested.is_set,
        )
        if deferred is None:
            self.backoff.succeeded()
        else:
            self._hub_failed(deferred.reason, deferred.retry_after)

    def _on_outcome(self, outcome: outbox.Outcome) -> None:
        if isinstance(outcome, outbox.Refused):
            self.problems += 1
        self.log.outcome(outcome)

    def _receive(self) -> None:
        if not self._hub_ready():
            return
        try:
            deliveries = inbox.list_inbox(self.client, INBOX_PAGE if self.sink else 1)
            self.backoff.succeeded()
            if self.sink is None or not deliveries:
                return
            self.problems += inbox.receive(
                self.client,
                self.sink,
                deliveries,
                self.dir / "incoming",
                on_received=self._on_received,
                on_error=self.log.delivery_failed,
                should_stop=self.stop_requested.is_set,
            )
        except HubUnavailable as exc:
            self._hub_failed(str(exc), exc.retry_after)
        except DeliveryError as exc:
            self.problems += 1
            self.log.error(f"inbox: {exc}")

    def _on_received(self, received: Received) -> None:
        if not received.acked:
            self.problems += 1
        self.log.received(received)

    # -- hub availability ------------------------------------------------------------------

    def _hub_ready(self) -> bool:
        if self.backoff.ready():
            return True
        self.problems += 1  # the outbox is still waiting
        return False

    def _hub_failed(self, reason: str, retry_after: float | None) -> None:
        self.problems += 1
        self.log.hub_waiting(reason, self.backoff.failed(retry_after))
