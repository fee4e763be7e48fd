"""Receiving deliveries: batches the hub routed to this department's inbox.

Each delivery is downloaded, its SHA-256 checked, written (to a folder or a table) and only
then acknowledged. A crash between writing and acknowledging makes the hub deliver it again,
so every write is idempotent: a file is replaced whole under a name fixed by the batch id, and
a table row is upserted by the resource's primary key.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import httpx

from exchange.connector.client import HubClient, HubUnavailable
from exchange.connector.files import sync_dir
from exchange.core import wire

INBOX = "/exchange/v1/inbox"


class DeliveryError(Exception):
    """This delivery could not be received now; it stays in the inbox and comes again."""


@dataclass(frozen=True)
class Delivery:
    delivery_id: int
    batch_id: str
    resource: str
    sha256: str
    rows: int | None

    @classmethod
    def from_json(cls, item: dict[str, Any]) -> Delivery:
        return cls(
            int(item["delivery_id"]),
            str(item["batch_id"]),
            str(item["resource"]),
            str(item["sha256"]),
            item.get("rows"),
        )


class Sink(Protocol):
    def write(self, delivery: Delivery, payload: Path) -> str:
        """Store the payload idempotently; returns where it went, for the log."""
        ...


class FolderSink:
    """`<root>/<resource>/<batch_id>.arrow`: the Arrow IPC stream exactly as the hub sent it."""

    def __init__(self, root: Path) -> None:
        self.root = root

    def write(self, delivery: Delivery, payload: Path) -> str:
        folder = self.root / delivery.resource
        folder.mkdir(parents=True, exist_ok=True)
        final = folder / f"{delivery.batch_id}.arrow"
        # Same folder, so the rename is atomic: readers never see a partial payload.
        tmp = folder / f".{delivery.batch_id}.arrow.part"
        with payload.open("rb") as src, tmp.open("wb") as dst:
            while chunk := src.read(1 << 20):
                dst.write(chunk)
            dst.flush()
            os.fsync(dst.fileno())
        os.replace(tmp, final)
        sync_dir(folder)
        return str(final)


@dataclass(frozen=True)
class Received:
    delivery: Delivery
    where: str
    acked: bool


def list_inbox(client: HubClient, limit: int) -> list[Delivery]:
    """The pending deliveries, oldest first; also the connector's heartbeat at the hub."""
    try:
        resp = client.get(f"{INBOX}?limit={limit}")
    except httpx.HTTPError as exc:
        raise HubUnavailable(f"{type(exc).__name__}: {exc}") from None
    if resp.status_code >= 500 or resp.status_code == 429:
        retry = resp.headers.get("retry-after", "")
        raise HubUnavailable(
            f"inbox: {resp.status_code}", retry_after=float(retry) if retry.isdigit() else None
        )
    if resp.status_code != 200:
        raise DeliveryError(f"inbox refused: {resp.status_code} {resp.text[:300]}")
    return [Delivery.from_json(item) for item in resp.json()]


def download(client: HubClient, delivery: Delivery, dest: Path) -> None:
    """Stream the payload to `dest`, checking it against the SHA-256 the hub announced."""
    digest = hashlib.sha256()
    target = f"{INBOX}/{delivery.delivery_id}/payload"
    try:
        with client.stream_get(target) as resp:
            if resp.status_code != 200:
                resp.read()
                raise DeliveryError(f"payload: {resp.status_code} {resp.text[:300]}")
            announced = resp.headers.get(wire.SHA256, "").lower()
            with dest.open("wb") as fh:
                for chunk in resp.iter_bytes(1 << 20):
                    digest.update(chunk)
                    fh.write(chunk)
    except httpx.HTTPError as exc:
        raise HubUnavailable(f"{type(exc).__name__}: {exc}") from None
    got = digest.hexdigest()
    if got != announced or got != delivery.sha256:
        raise DeliveryError(
            f"payload SHA-256 {got} does not match the announced {announced or delivery.sha256}"
        )


def acknowledge(client: HubClient, delivery: Delivery) -> bool:
    try:
        resp = client.post(f"{INBOX}/{delivery.delivery_id}/ack")
    except httpx.HTTPError:
        return False  # written but not acked: the hub delivers it again, the write is idempotent
    return resp.status_code == 200


def receive(
    client: HubClient,
    sink: Sink,
    deliveries: list[Delivery],
    work_dir: Path,
    *,
    on_received: Callable[[Received], None],
    on_error: Callable[[Delivery, str], None],
    should_stop: Callable[[], bool] = lambda: False,
) -> int:
    """Write then acknowledge each delivery; returns how many failed.

    After a failure the resource's later deliveries wait for the next pass, so batches of one
    resource are always written in the order the hub accepted them.
    """
    work_dir.mkdir(parents=True, exist_ok=True)
    blocked: set[str] = set()
    failures = 0
    for delivery in deliveries:
        if should_stop():
            break
        if delivery.resource in blocked:
            continue
        payload = work_dir / f".delivery-{delivery.delivery_id}.arrow"
        try:
            download(client, delivery, payload)
            where = sink.write(delivery, payload)
        except DeliveryError as exc:
            failures += 1
            blocked.add(delivery.resource)
            on_error(delivery, str(exc))
            continue
        finally:
            payload.unlink(missing_ok=True)
        on_received(Received(delivery, where, acked=acknowledge(client, delivery)))
    return failures
