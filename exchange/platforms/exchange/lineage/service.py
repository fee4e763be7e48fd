"""Signed receipts: each step a node takes with a batch, provable later (an evidence trail)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.db import add_row, utcnow
from exchange.core.runtime import Runtime
from exchange.directory import keys
from exchange.platforms.exchange.lineage import repository as lineage_repo
from exchange.platforms.exchange.models import Batch, Receipt


def record(
    session: Session, rt: Runtime, batch: Batch, action: str, detail: dict[str, Any]
) -> Receipt:
    at = utcnow()
    node = rt.settings.node_code
    pair = rt.node_keys
    signature = pair.sign(
        signing.receipt_message(
            str(batch.id), node, action, at.isoformat(), batch.sha256, detail, signing.RECEIPT_V2
        )
    )
    receipt = Receipt(
        batch_id=batch.id,
        node_code=node,
        action=action,
        at=at,
        sha256=batch.sha256,
        signature=signature,
        key_id=pair.key_id,
        detail=detail,
        layout=signing.RECEIPT_V2,
    )
    add_row(session, receipt)
    return receipt


def lineage(session: Session, rt: Runtime, batch: Batch) -> list[dict[str, Any]]:
    """The batch's journey: the hops before this node, then this node's receipts, each with
    the public key that verifies it (an old key after a rotation: history stays verifiable)."""
    steps = [*batch.upstream]
    pair = rt.node_keys
    me = rt.settings.node_code
    found: dict[str | None, str | None] = {}
    for r in lineage_repo.receipts_of(session, batch.id):
        if r.key_id not in found:
            found[r.key_id] = keys.own_public_key(session, me, r.key_id, pair)
        steps.append(as_dict(r, found[r.key_id]))
    return steps


def as_dict(r: Receipt, public_key: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "node": r.node_code,
        "action": r.action,
        "at": r.at.isoformat(),
        "sha256": r.sha256,
        "signature": r.signature,
        "detail": r.detail,
        "layout": r.layout,
    }
    if public_key:
        out["public_key"] = public_key
    if r.key_id:
        out["key_id"] = r.key_id
    return out


def verify(receipt: dict[str, Any], batch_id: str, public_key: str) -> bool:
    message = signing.receipt_message(
        batch_id,
        receipt["node"],
        receipt["action"],
        receipt["at"],
        receipt["sha256"],
        receipt.get("detail"),
        receipt.get("layout", signing.RECEIPT_V1),
    )
    return signing.verify(public_key, message, receipt["signature"])
