"""SQL of calls across levels: nonces, hops, and the audit entries a request id left here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from exchange.platforms.sharing.models import AuditEntry
from exchange.platforms.sharing.vertical.models import FederatedEntry, RelayHop, RelayNonce


def add_nonce(session: Session, nonce: str, caller: str, now: dt.datetime) -> bool:
    """Record a nonce; False when it was recorded before (one statement: two copies of one
    request arriving together cannot both pass)."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    stmt = (
        insert(RelayNonce)
        .values(nonce=nonce, caller=caller, seen_at=now)
        .on_conflict_do_nothing(index_elements=["nonce"])
    )
    return bool(session.execute(stmt).rowcount)  # type: ignore[attr-defined]


def prune_nonces(session: Session, before: dt.datetime) -> None:
    """Forget nonces older than any signature still inside its clock window."""
    session.execute(delete(RelayNonce).where(RelayNonce.seen_at < before))


def add_hop(session: Session, hop: RelayHop) -> None:
    session.add(hop)
    session.flush()


def hops(session: Session, request_id: str, upstream: str | None = None) -> Sequence[RelayHop]:
    stmt = select(RelayHop).where(RelayHop.request_id == request_id)
    if upstream is not None:
        stmt = stmt.where(RelayHop.upstream == upstream)
    return session.scalars(stmt.order_by(RelayHop.id)).all()


def audit_ids(session: Session, request_id: str) -> list[int]:
    stmt = select(AuditEntry.id).where(AuditEntry.request_id == request_id)
    return list(session.scalars(stmt.order_by(AuditEntry.id)))


def federated(session: Session, *, exclude_via: str | None = None) -> Sequence[FederatedEntry]:
    stmt = select(FederatedEntry)
    if exclude_via is not None:
        stmt = stmt.where(FederatedEntry.via != exclude_via)
    return session.scalars(stmt.order_by(FederatedEntry.provider_node, FederatedEntry.code)).all()


def replace_from(session: Session, via: str, entries: Sequence[FederatedEntry]) -> int:
    """What `via` lists now replaces what it listed before; how many entries changed hands."""
    session.execute(delete(FederatedEntry).where(FederatedEntry.via == via))
    for e in entries:
        session.merge(e)  # an entry learned through another neighbour is taken over
    session.flush()
    return len(entries)
