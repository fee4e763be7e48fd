"""Sending the connector's outbox, and where each batch's fate is recorded.

    outbox/<id>.arrow + .json        spooled, not yet taken by the hub
    sent/<id>.json                   accepted (the payload is dropped: the hub holds it now)
    rejected/<id>.arrow + .json      refused: retrying the same bytes cannot help
    rejected/<id>.error.json         the hub's reasons (rule, row, field)

The folders are the record: a folder watcher or a database poller learns what became of its
batch from them, so a decision survives a crash between sending and acting on the answer.
"""

from __future__ import annotations

from collections.abc import Callable
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


Outcome = Accepted | Refused | Deferred

# Refusals of the connector itself (unknown key, bad signature, suspended) say nothing about the
# batch: it waits in the outbox until an operator has fixed the connector.
CONNECTOR_REFUSALS = frozenset(
    {"MissingCredentials", "InvalidSignature", "UnknownCaller", "ConnectorNotActive"}
)


def mark_sent(folder: Path, batch: SpooledBatch) -> None:
    batch.meta_path.replace(sent_dir(folder) / batch.meta_path.name)
    Path(batch.path).unlink(missing_ok=True)  # the hub holds the payload now


def set_aside(folder: Path, batch: SpooledBatch, status: int, body: dict[str, Any]) -> None:
    """Move a refused batch out of the outbox (so it cannot block the others), with reasons."""
    rejected = rejected_dir(folder)
    write_json(rejected / f"{batch.batch_id}.error.json", {"status": status, **body})
    Path(batch.path).replace(rejected / Path(batch.path).name)
    batch.meta_path.replace(rejected / batch.meta_path.name)


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
        if exc.body.get("error") in CONNECTOR_REFUSALS:
            return Deferred(batch, str(exc), None)
        set_aside(folder, batch, exc.status, exc.body)
        return Refused(batch, exc.status, exc.body)
    except HubUnavailable as exc:
        return Deferred(batch, str(exc), exc.retry_after)
    mark_sent(folder, batch)
    return Accepted(batch, receipt)


def send_pending(
    client: HubClient,
    folder: Path,
    *,
    origin: str,
    on_outcome: Callable[[Outcome], None],
    should_stop: Callable[[], bool] = lambda: False,
) -> Deferred | None:
    """Send the outbox oldest first; returns the first batch the hub could not take now.

    Sending stops there: an unreachable or overloaded hub would refuse the rest too, and a later
    batch of the same resource must not overtake an earlier one.
    """
    for batch in pending(outbox_dir(folder)):
        if should_stop():
            return None
        outcome = push_one(client, folder, batch, origin=origin)
        on_outcome(outcome)
        if isinstance(outcome, Deferred):
            return outcome
    return None
