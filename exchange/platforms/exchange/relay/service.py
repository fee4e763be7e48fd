"""Store-and-forward relay to neighbouring nodes: the durable outbox drained over signed HTTP.

At-least-once on the wire (a delivery is marked done only after the receiver's receipt), exactly
once in effect (the receiver recognises a re-sent batch id). Each delivery is claimed, sent and
marked in its own transaction, so a killed process resumes where it stopped.
"""

from __future__ import annotations

import datetime as dt
import logging
import random
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx

from exchange.core import signing, wire
from exchange.core.db import session_scope, utcnow
from exchange.core.metrics import RELAY_ATTEMPTS, RELAY_BATCHES, RELAY_BYTES, RELAY_ROWS
from exchange.core.runtime import Runtime
from exchange.platforms.exchange.batches import repository as batches_repo
from exchange.platforms.exchange.deliveries import repository as deliveries_repo
from exchange.platforms.exchange.lineage import service as receipts
from exchange.platforms.exchange.models import Batch, Delivery
from exchange.platforms.exchange.nodes import repository as nodes_repo

log = logging.getLogger("hub.relay")

# 401 is always about the sender's credentials (signature, clock, key not yet known there), never
# about the batch; a 408/425/429 asks to come back later.
TRANSIENT_STATUSES = frozenset({401, 408, 425, 429})
TRANSIENT_REFUSALS = frozenset(
    {"UnknownCaller", "UnknownKey", "KeyNotYetActive", "KeyRetired", "NoCurrentKey", "NotKeyOwner"}
)
CLOCK_WARN_S = 60.0


def backoff(attempts: int, cap_s: float) -> dt.timedelta:
    """Exponential with jitter: about 1 s, 2 s, 4 s ... up to `cap_s`."""
    return dt.timedelta(seconds=random.uniform(0.5, 1.0) * min(cap_s, 2 ** (attempts - 1)))


def run_once(rt: Runtime, client: httpx.Client, limit: int = 20) -> int:
    """Send what is due; returns how many deliveries reached their node."""
    sent = 0
    for _ in range(limit):
        with session_scope(rt.sessions) as session:
            due = deliveries_repo.due_node_deliveries(session, utcnow(), limit=1)
            if not due:
                break
            delivery = due[0]
            batch = batches_repo.get_batch(session, delivery.batch_id)
            assert batch is not None
            if _send(session, rt, client, delivery, batch):
                sent += 1
    return sent


def _send(session: Any, rt: Runtime, client: httpx.Client, d: Delivery, batch: Batch) -> bool:
    node = nodes_repo.get_node(session, d.node_code or "")
    d.attempts += 1
    if node is None or not node.url:
        return _failed(rt, d, f"node {d.node_code} has no URL configured", permanent=False)
    lineage = receipts.lineage(session, rt, batch)
    path = wire.batch_path(batch.id)
    pair = rt.node_keys
    meta = wire.BatchHeaders(
        batch.resource_code,
        batch.sha256,
        batch.signature,
        origin=batch.origin,
        origin_key=batch.origin_public_key,
        destination=batch.destination,
        valid_from=batch.valid_from,
        lineage=lineage,
        first_row=batch.first_row,
    )
    headers = meta.to_http(batch.size_bytes) | {
        "Authorization": signing.authorization_header(
            signing.qualified_key_id(rt.settings.node_code, pair), pair, "PUT", path, batch.sha256
        )
    }
    sent_at = time.time()
    try:
        resp = client.put(
            node.url.rstrip("/") + path, content=_payload(rt, batch.payload_key), headers=headers
        )
    except httpx.HTTPError as exc:
        return _failed(rt, d, f"{type(exc).__name__}: {exc}", permanent=False)
    body = _json(resp)
    # A quarantine: the receiver recorded the batch (quarantined there); delivery is done.
    if resp.status_code in (200, 201) or wire.is_quarantine(resp.status_code, body):
        d.state = "delivered"
        d.delivered_at = utcnow()
        d.remote_receipt = body.get("batch", body)
        d.last_error = None
        receipts.record(session, rt, batch, "sent", {"to": d.node_code, "status": resp.status_code})
        RELAY_ATTEMPTS.labels(d.node_code, "delivered").inc()
        RELAY_BATCHES.labels(d.node_code, batch.resource_code).inc()
        RELAY_ROWS.labels(d.node_code).inc(batch.rows or 0)
        RELAY_BYTES.labels(d.node_code).inc(batch.size_bytes)
        return True
    problem = f"{resp.status_code} {body.get('error', '')}: {body.get('detail', resp.text[:200])}"
    offset = signing.clock_offset(resp.headers, sent_at, time.time())
    if offset is not None and abs(offset) > CLOCK_WARN_S:
        problem += f" (clock offset to {d.node_code}: {offset:+.0f} s)"
    return _failed(rt, d, problem, permanent=is_final(resp.status_code, body))


def is_final(status: int, body: dict[str, Any]) -> bool:
    """Whether a refusal ends the delivery: only the batch itself can be at fault, e.g. its
    schema or its provider; trouble with keys, clocks or the receiver is retried with backoff."""
    if status < 400 or status >= 500 or status in TRANSIENT_STATUSES:
        return False
    return body.get("error") not in TRANSIENT_REFUSALS


def _failed(rt: Runtime, d: Delivery, problem: str, *, permanent: bool) -> bool:
    d.last_error = problem
    RELAY_ATTEMPTS.labels(d.node_code or "", "rejected" if permanent else "retry").inc()
    if permanent:
        d.state = "rejected"
    else:
        d.next_attempt_at = utcnow() + backoff(d.attempts, rt.settings.relay_max_backoff_s)
    log.warning("relay failed", extra={"delivery": d.id, "node": d.node_code, "error": problem})
    return False


def _payload(rt: Runtime, key: str) -> Iterator[bytes]:
    with rt.store.open(key) as fh:
        while chunk := fh.read(1024 * 1024):
            yield chunk


def _json(resp: httpx.Response) -> dict[str, Any]:
    try:
        data = resp.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}


class RelayWorker(threading.Thread):
    """Drains the outbox in the background of `hub serve` until stopped."""

    def __init__(self, rt: Runtime, interval_s: float = 1.0) -> None:
        super().__init__(name="hub-relay", daemon=True)
        self.rt = rt
        self.interval_s = interval_s
        self.stopping = threading.Event()

    def run(self) -> None:
        with httpx.Client(timeout=httpx.Timeout(30.0, read=600.0)) as client:
            while not self.stopping.is_set():
                try:
                    busy = run_once(self.rt, client) > 0
                except Exception:
                    log.exception("relay pass failed")
                    busy = False
                if not busy:
                    self.stopping.wait(self.interval_s)

    def stop(self) -> None:
        self.stopping.set()
        self.join(timeout=30)
