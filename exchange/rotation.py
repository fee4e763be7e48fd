"""Key rotation for a connector or a node, without a single failed call.

1. A successor key is made next to the key file (`<key>.next`, kept until the switch, so an
   interrupted rotation resumes with the same key).
2. Every hub that verifies this principal learns the successor, in a request signed with the
   current key (the hub of a connector; the parent and children of a node).
3. The key file is replaced in one step: every process of the principal signs with the
   successor from its next call on (`signing.KeyFile` notices the change).
4. The old key is retired after an overlap (`grace_s`), in a request signed with the successor;
   until then both keys verify, so calls signed a moment before the switch still succeed.

A hub that cannot be reached in step 2 stops the rotation before the switch (nothing changes
for anyone; run it again). One unreachable in step 4 keeps the old key valid there until
`retire-key` reaches it.
"""

from __future__ import annotations

import datetime as dt
import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx

from exchange.connector.client import HubClient
from exchange.core.signing import KeyPair


@dataclass(frozen=True)
class Peer:
    """A hub that verifies this principal's signatures, and where it keeps its keys."""

    url: str
    keys_path: str  # e.g. /exchange/v1/connectors/<id>/keys or /exchange/v1/nodes/<code>/keys


@dataclass
class Rotation:
    old_key_id: str
    new_key_id: str
    retire_at: dt.datetime
    not_retired_at: list[str] = field(default_factory=list)  # peers to run retire-key for


class RotationRefused(Exception):
    """A peer did not take the successor key: nothing was switched."""


def next_key_path(key_path: Path) -> Path:
    return key_path.with_name(key_path.name + ".next")


def _successor(key_path: Path, current: KeyPair) -> KeyPair:
    staged = next_key_path(key_path)
    if staged.exists():
        pair = KeyPair.load(staged)
        if pair.key_id != current.key_id:
            return pair
    pair = KeyPair.generate()
    pair.save(staged)
    return pair


def _post(
    peer: Peer, principal: str, pair: KeyPair, suffix: str, body: dict[str, Any]
) -> httpx.Response:
    client = HubClient(peer.url, principal, pair, timeout_s=30)
    try:
        return client.post_json(peer.keys_path + suffix, body)
    finally:
        client.close()


def _problem(resp: httpx.Response) -> str:
    try:
        body = resp.json()
        return f"{resp.status_code} {body.get('error', '')}: {body.get('detail', '')}"
    except ValueError:
        return f"{resp.status_code} {resp.text[:200]}"


def rotate(
    key_path: Path,
    principal: str,
    peers: Sequence[Peer],
    *,
    grace_s: float,
    record_locally: Callable[[KeyPair, KeyPair], None] | None = None,
    retire_locally: Callable[[str, float], None] | None = None,
) -> Rotation:
    """Switch `principal` from the key in `key_path` to a new one (steps 1-4 above)."""
    old = KeyPair.load(key_path)
    new = _successor(key_path, old)
    for peer in peers:
        try:
            resp = _post(peer, principal, old, "", {"public_key": new.public_b64})
        except httpx.HTTPError as exc:
            raise RotationRefused(f"{peer.url}: {type(exc).__name__}: {exc}") from None
        if resp.status_code != 200:
            raise RotationRefused(f"{peer.url} refused the new key: {_problem(resp)}")
    if record_locally is not None:
        record_locally(old, new)
    os.replace(next_key_path(key_path), key_path)
    done = retire(key_path, principal, peers, old.key_id, after_s=grace_s)
    if retire_locally is not None:
        retire_locally(old.key_id, grace_s)
    return Rotation(old.key_id, new.key_id, done.retire_at, done.not_retired_at)


def retire(
    key_path: Path, principal: str, peers: Sequence[Peer], key_id: str, *, after_s: float
) -> Rotation:
    """Ask every peer to retire `key_id` (now or after `after_s`), signing with the current key."""
    current = KeyPair.load(key_path)
    retire_at = dt.datetime.now(dt.UTC) + dt.timedelta(seconds=after_s)
    missed = []
    for peer in peers:
        try:
            resp = _post(peer, principal, current, f"/{key_id}/retire", {"after_s": after_s})
        except httpx.HTTPError as exc:
            missed.append(f"{peer.url}: {type(exc).__name__}: {exc}")
            continue
        if resp.status_code != 200:
            missed.append(f"{peer.url}: {_problem(resp)}")
    return Rotation(key_id, current.key_id, retire_at, missed)
