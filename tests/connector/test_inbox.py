"""Receiving deliveries: a payload is written only if its SHA-256 matches, and acked only then.

The hub's side is an httpx transport answering the three inbox calls; the end-to-end path
against a real node is in test_connector_run.py.
"""

from __future__ import annotations

import hashlib
from pathlib import Path

import httpx
import pytest

from exchange.connector import inbox
from exchange.connector.client import HubClient
from exchange.connector.inbox import FolderSink, Received
from exchange.core.signing import KeyPair

PAYLOAD = b"arrow stream bytes"
BATCH = "5b1f0c3e-0000-5000-8000-000000000001"


class FakeInbox:
    def __init__(self, body: bytes) -> None:
        self.body = body
        self.acked: list[str] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        assert request.headers["authorization"]  # every inbox call is signed
        path = request.url.path
        if path == "/exchange/v1/inbox":
            item = {
                "delivery_id": 7,
                "batch_id": BATCH,
                "resource": "macro_indicator",
                "sha256": hashlib.sha256(PAYLOAD).hexdigest(),
                "rows": 1,
                "size_bytes": len(PAYLOAD),
                "created_at": "2024-05-01T00:00:00Z",
            }
            return httpx.Response(200, json=[item])
        if path.endswith("/payload"):
            sha = hashlib.sha256(PAYLOAD).hexdigest()
            return httpx.Response(200, content=self.body, headers={"X-Batch-SHA256": sha})
        if path.endswith("/ack"):
            self.acked.append(path)
            return httpx.Response(200, json={"delivery_id": 7, "state": "delivered"})
        return httpx.Response(404)


def receive(hub: FakeInbox, tmp_path: Path) -> tuple[int, list[Received], list[str]]:
    client = HubClient("http://hub.test", "key-id", KeyPair.generate())
    client.http = httpx.Client(transport=httpx.MockTransport(hub))
    received: list[Received] = []
    errors: list[str] = []
    deliveries = inbox.list_inbox(client, 100)
    failures = inbox.receive(
        client,
        FolderSink(tmp_path / "inbox"),
        deliveries,
        tmp_path / "work",
        on_received=received.append,
        on_error=lambda _d, message: errors.append(message),
    )
    return failures, received, errors


def test_a_verified_payload_is_written_then_acked(tmp_path: Path) -> None:
    hub = FakeInbox(PAYLOAD)
    failures, [got], errors = receive(hub, tmp_path)
    assert failures == 0 and errors == [] and got.acked
    assert (tmp_path / "inbox" / "macro_indicator" / f"{BATCH}.arrow").read_bytes() == PAYLOAD
    assert hub.acked == ["/exchange/v1/inbox/7/ack"]
    assert list((tmp_path / "work").iterdir()) == []


@pytest.mark.parametrize("body", [PAYLOAD[:-3], b"tampered on the way!"])
def test_a_payload_not_matching_its_hash_is_neither_written_nor_acked(
    body: bytes, tmp_path: Path
) -> None:
    hub = FakeInbox(body)
    failures, received, [error] = receive(hub, tmp_path)
    assert failures == 1 and received == []
    assert "does not match" in error
    assert not (tmp_path / "inbox").exists()
    assert hub.acked == []
