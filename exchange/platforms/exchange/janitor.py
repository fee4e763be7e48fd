"""Removing what killed processes leave in the payload store, after a grace period.

A kill during an upload leaves `<key>.part-<hex>` (the local store writes beside the final name
and renames); a kill during a load leaves a payload whose batch row was rolled back. Both are
removed once older than `janitor_grace_s`, which must exceed the longest upload plus load: a
payload is written before its batch row commits.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import threading
import uuid
from dataclasses import dataclass

from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.platforms.exchange.batches import repository as batches_repo

log = logging.getLogger("hub.janitor")

PAYLOADS = "batches"
PART = ".part-"


@dataclass(frozen=True)
class Swept:
    partial_uploads: int
    orphan_payloads: int


def sweep(rt: Runtime, now: dt.datetime | None = None) -> Swept:
    cutoff = (now or utcnow()) - dt.timedelta(seconds=rt.settings.janitor_grace_s)
    parts: list[str] = []
    payloads: dict[uuid.UUID, list[str]] = {}
    for key, at in rt.store.listing(PAYLOADS):
        if at > cutoff:
            continue
        if PART in key.rsplit("/", 1)[-1]:
            parts.append(key)
            continue
        batch_id = _batch_id(key)  # batches/<2>/<batch id>/<file>
        if batch_id is not None:
            payloads.setdefault(batch_id, []).append(key)
    with rt.sessions() as session:
        known = batches_repo.existing_batch_ids(session, list(payloads))
    orphans = [key for batch_id, keys in payloads.items() if batch_id not in known for key in keys]
    for key in parts + orphans:
        with contextlib.suppress(FileNotFoundError):  # another worker's janitor was first
            rt.store.delete(key)
    if parts or orphans:
        log.info(
            "removed leftovers",
            extra={"partial_uploads": len(parts), "orphan_payloads": len(orphans)},
        )
    return Swept(len(parts), len(orphans))


def _batch_id(key: str) -> uuid.UUID | None:
    parts = key.split("/")
    if len(parts) != 4:
        return None
    try:
        return uuid.UUID(parts[2])
    except ValueError:
        return None


class JanitorWorker(threading.Thread):
    """Sweeps at start, then every `interval_s`, in the background of `hub serve`."""

    def __init__(self, rt: Runtime, interval_s: float) -> None:
        super().__init__(name="hub-janitor", daemon=True)
        self.rt = rt
        self.interval_s = interval_s
        self.stopping = threading.Event()

    def run(self) -> None:
        while not self.stopping.is_set():
            try:
                sweep(self.rt)
            except Exception:
                log.exception("janitor pass failed")
            self.stopping.wait(self.interval_s)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
