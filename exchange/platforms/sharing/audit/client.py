"""This node's side of anchoring: send new seal heads to the parent, fetch what it holds.

Both are node-to-node calls signed with the node key (`Authorization: HubSig ...`, the body's
SHA-256 in the signed message). No transaction is open while the parent is called.
"""

from __future__ import annotations

import hashlib
import logging

import httpx

from exchange.core import signing
from exchange.core.db import session_scope
from exchange.core.runtime import Runtime
from exchange.platforms.sharing.audit import anchor
from exchange.platforms.sharing.audit.schemas import AnchorReceipt, HeadsIn, HeldHead, HeldHeads

log = logging.getLogger("hub.sharing.anchor")
ANCHORS = "/sharing/v1/audit/anchors"


class ParentUnavailable(RuntimeError):
    """The parent did not answer, or refused: what it said is the message."""


def _call(
    rt: Runtime, client: httpx.Client, method: str, target: str, body: bytes = b""
) -> httpx.Response:
    parent = rt.settings.parent
    assert parent is not None
    pair = rt.node_keys
    digest = hashlib.sha256(body).hexdigest()
    key_id = signing.qualified_key_id(rt.settings.node_code, pair)
    headers = {
        "Authorization": signing.authorization_header(key_id, pair, method, target, digest),
        "X-Content-SHA256": digest,
        "Content-Type": "application/json",
    }
    try:
        resp = client.request(method, parent.url.rstrip("/") + target, content=body,
                              headers=headers)  # fmt: skip
    except httpx.HTTPError as exc:
        raise ParentUnavailable(f"parent {parent.code}: {type(exc).__name__}: {exc}") from exc
    if resp.status_code != 200:
        raise ParentUnavailable(f"parent {parent.code}: {resp.status_code} {resp.text[:300]}")
    return resp


def anchor_once(rt: Runtime, client: httpx.Client) -> int:
    """Send the seal heads the parent has not countersigned yet; how many it countersigned.
    A node without a parent anchors nothing (0)."""
    parent = rt.settings.parent
    if parent is None:
        return 0
    with session_scope(rt.sessions) as session:
        heads = anchor.heads_to_anchor(session)
    if not heads:
        return 0
    resp = _call(rt, client, "POST", ANCHORS, HeadsIn(heads=heads).model_dump_json().encode())
    receipt = AnchorReceipt.model_validate_json(resp.content)
    with session_scope(rt.sessions) as session:
        return anchor.keep_receipt(session, rt.settings.node_code, parent.code, heads, receipt)


def held_by_parent(rt: Runtime, client: httpx.Client) -> list[HeldHead]:
    """Every head of this node the parent holds, oldest first."""
    out: list[HeldHead] = []
    after: int | None = 0
    while after is not None:
        target = f"{ANCHORS}/{rt.settings.node_code}?after={after}&limit=1000"
        page = HeldHeads.model_validate_json(_call(rt, client, "GET", target).content)
        out += page.heads
        after = page.next_after
    return out


def new_client() -> httpx.Client:
    return httpx.Client(timeout=httpx.Timeout(10.0, read=30.0))
