"""Signed receipts: each step a node takes with a batch, provable later (an evidence trail)."""

from __future__ import annotations

from typing import Any

from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.platforms.exchange import repository as repo
from exchange.platforms.exchange.models import Batch, Receipt


def record(
    session: Session, rt: Runtime, batch: Batch, action: str, detail: dict[str, Any]
) -> Receipt:
    at = utcnow()
    node = rt.settings.node_code
    signature = rt.node_keys.sign(
        signing.receipt_message(str(batch.id), node, action, at.isoformat(), batch.sha256)
    )
    receipt = Receipt(
        batch_id=batch.id,
        node_code=node,
        action=action,
        at=at,
        sha256=batch.sha256,
        signature=signature,
        detail=detail,
    )
    repo.add(session, receipt)
    return receipt


def as_dict(r: Receipt, public_key: str | None = None) -> dict[str, Any]:
    out: dict[str, Any] = {
        "node": r.node_code,
        "action": r.action,
        "at": r.at.isoformat(),
        "sha256": r.sha256,
        "signature": r.signature,
        "detail": r.detail,
    }
    if public_key:
        out["public_key"] = public_key
    return out


def verify(receipt: dict[str, Any], batch_id: str, public_key: str) -> bool:
    message = signing.receipt_message(
        batch_id, receipt["node"], receipt["action"], receipt["at"], receipt["sha256"]
    )
    return signing.verify(public_key, message, receipt["signature"])
