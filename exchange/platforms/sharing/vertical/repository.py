"""SQL of calls across levels: nonces, hops, and the audit entries a request id left here."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from sqlalchemy import delete, select, text, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.platforms.sharing.models import AuditEntry
from exchange.platforms.sharing.vertical.models import (
    FederatedEntry,
    RelayHop,
    RelayNonce,
    RemoteGrant,
)


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


def save_copy(session: Session, copy: RemoteGrant) -> RemoteGrant:
    kept = session.merge(copy)
    session.flush()
    return kept


def mark_copies(
    session: Session, provider: str, resource: str, department: str, status: str, outcome: str
) -> None:
    session.execute(
        update(RemoteGrant)
        .where(
            RemoteGrant.provider_node == provider,
            RemoteGrant.resource == resource,
            RemoteGrant.department == department,
            RemoteGrant.status == "approved",
        )
        .values(status=status, refused=outcome, updated_at=utcnow())
    )


def copies(session: Session, department: str) -> Sequence[RemoteGrant]:
    stmt = select(RemoteGrant).where(RemoteGrant.department == department)
    return session.scalars(stmt.order_by(RemoteGrant.updated_at.desc())).all()


def relax_commit(session: Session) -> None:
    """This transaction may commit without waiting for its WAL flush (PostgreSQL): for
    monitoring rows whose loss in a crash costs nothing but a gap in a trace."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SET LOCAL synchronous_commit = off"))
