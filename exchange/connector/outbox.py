"""Sending the connector's outbox, and where each batch's fate is recorded.

    outbox/<id>.arrow + .json        spooled, not yet taken by the hub
    sent/<id>.json                   accepted (the payload is dropped: the hub holds it now)
    rejected/<id>.arrow + .json      refused: retrying the same bytes cannot help
    rejected/<id>.error.json         the hub's reasons (rule, row, field)

The folders are the record: a folder watcher or a database poller learns what became of its
batch from them, so a decision survives a crash between sending and acting on the answer.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from exchange.connector.client import HubClient, HubUnavailable, PushRefused
from exchange.connector.config import outbox_dir, rejected_dir, sent_dir
from exchange.connector.files import read_json, write_json
from exchange.connector.spool import SpooledBatch, pending

Fate = Literal["pending", "accepted", "refused", "unknown"]


@dataclass(frozen=True)
class Accepted:
    batch: SpooledBatch
    receipt: dict[str, Any]


@dataclass(frozen=True)
class Refused:
    batch: SpooledBatch
    status: int
    body: dict[str, Any]


@dataclass(frozen=True)
class Deferred:
    batch: SpooledBatch
    reason: str
    retry_after: float | None
    hub_unavailable: bool = False  # else the hub refused the connector itself


Outcome = Accepted | Refused | Deferred

# Refusals of the connector itself (its credentials or its state) say nothing about the batch:
# it waits in the outbox until an operator has fixed the connector. Every 401 is one of them.
CONNECTOR_REFUSALS = frozenset(
    {
        "MissingCredentials",
        "InvalidSignature",
        "UnknownCaller",
        "ConnectorNotActive",
        "UnknownKey",
        "KeyRetired",
        "NoCurrentKey",
        "KeyNotYetActive",
    }
)
MAX_RETRY_DELAY_S = 30.0


def refuses_connector(status: int, body: dict[str, Any]) -> bool:
    return status == 401 or body.get("error") in CONNECTOR_REFUSALS


def replay_note(receipt: dict[str, Any]) -> str:
    """What to say when the hub had the batch already: nothing was loaded again."""
    at = receipt.get("completed_at") or receipt.get("received_at") or "an earlier push"
    return f"already {receipt.get('status', 'accepted')} at {at}, nothing written"


def mark_sent(folder: Path, batch: SpooledBatch) -> None:
    batch.meta_path.replace(sent_dir(folder) / batch.meta_path.name)
    Path(batch.path).unlink(missing_ok=True)  # the hub holds the payload now


def set_aside(
    folder: Path, batch: SpooledBatch, status: int, body: dict[str, Any]
) -> dict[str, Any]:
    """Move a refused batch out of the outbox (so it cannot block the others), with the hub's
    reasons (numbered as the sender's file, its own values in plain), which are returned."""
    rejected = rejected_dir(folder)
    write_json(rejected / f"{batch.batch_id}.error.json", {"status": status, **body})
    Path(batch.path).replace(rejected / Path(batch.path).name)
    batch.meta_path.replace(rejected / batch.meta_path.name)
    return body


def fate(folder: Path, batch_id: str) -> Fate:
    # The outbox first: the same content spooled again after an earlier outcome is pending.
    if (outbox_dir(folder) / f"{batch_id}.json").exists():
        return "pending"
    if (sent_dir(folder) / f"{batch_id}.json").exists():
        return "accepted"
    if (rejected_dir(folder) / f"{batch_id}.json").exists():
        return "refused"
    return "unknown"


def refusal(folder: Path, batch_id: str) -> dict[str, Any]:
    path = rejected_dir(folder) / f"{batch_id}.error.json"
    if not path.exists():
        return {"error": "Refused", "detail": "refused (the hub's reasons were not kept)"}
    body: dict[str, Any] = read_json(path)
    return body


def push_one(
    client: HubClient,
    folder: Path,
    batch: SpooledBatch,
    *,
    origin: str,
    on_bytes: Callable[[int], None] | None = None,
) -> Outcome:
    """One attempt; the outcome is recorded in the folders before it is returned."""
    try:
        receipt = client.push(batch, origin=origin, on_bytes=on_bytes)
    except PushRefused as exc:
        if refuses_connector(exc.status, exc.body):
            return Deferred(batch, str(exc), None)
        return Refused(batch, exc.status, set_aside(folder, batch, exc.status, exc.body))
    except HubUnavailable as exc:
        return Deferred(batch, str(exc), exc.retry_after, hub_unavailable=True)
    mark_sent(folder, batch)
    return Accepted(batch, receipt)


def send(
    client: HubClient,
    folder: Path,
    batches: Iterable[SpooledBatch],
    *,
    origin: str,
    on_outcome: Callable[[Outcome], None],
    should_stop: Callable[[], bool] = lambda: False,
    progress: Callable[[SpooledBatch], Callable[[int], None]] | None = None,
    attempts: int = 1,
    sleep: Callable[[float], None] = time.sleep,
) -> Deferred | None:
    """Send `batches` in order; returns the first one the hub could not take now.

    Sending stops there: an unreachable or overloaded hub would refuse the rest too, and a later
    batch of the same resource must not overtake an earlier one. While the hub is unavailable a
    batch is tried up to `attempts` times, backing off (honouring Retry-After); a refusal of the
    connector itself is not retried here: it needs an operator, and the batch stays in the outbox.
    """
    for batch in batches:
        if should_stop():
            return None
        delay = 1.0
        on_bytes = progress(batch) if progress else None
        for attempt in range(1, attempts + 1):
            outcome = push_one(client, folder, batch, origin=origin, on_bytes=on_bytes)
            if not (isinstance(outcome, Deferred) and outcome.hub_unavailable):
                break
            if attempt < attempts and not should_stop():
                sleep(max(delay, outcome.retry_after or 0))
                delay = min(delay * 2, MAX_RETRY_DELAY_S)
        on_outcome(outcome)
        if isinstance(outcome, Deferred):
            return outcome
    return None


def send_pending(
    client: HubClient,
    folder: Path,
    *,
    origin: str,
    on_outcome: Callable[[Outcome], None],
    should_stop: Callable[[], bool] = lambda: False,
) -> Deferred | None:
    """Send the outbox oldest first (see `send`)."""
    return send(
        client,
        folder,
        pending(outbox_dir(folder)),
        origin=origin,
        on_outcome=on_outcome,
        should_stop=should_stop,
    )
