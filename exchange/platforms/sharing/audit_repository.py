"""SQL for the audit log. Only INSERT and SELECT: the log has no update or delete path."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Iterator, Sequence
from typing import Any

from sqlalchemy import exists, func, insert, literal, or_, select, text
from sqlalchemy.orm import Session

from exchange.platforms.sharing.models import ApiClient, AuditEntry, AuditSeal, Grant

_T = AuditEntry.__table__
COLUMNS = (
    "at",
    "channel",
    "action",
    "actor",
    "role",
    "department",
    "grant_id",
    "resource",
    "keys",
    "rows",
    "purpose",
    "case_number",
    "outcome",
    "request_id",
    "mac",
)


def append(session: Session, values: dict[str, Any]) -> int:
    return int(session.execute(insert(_T).values(values).returning(_T.c.id)).scalar_one())


def append_if_grant_holds(
    session: Session,
    values: dict[str, Any],
    *,
    grant_id: uuid.UUID,
    client_id: uuid.UUID | None,
    now: dt.datetime,
) -> int | None:
    """Insert the entry only if the grant (and the calling client) still hold at `now`.

    One statement both records the read and re-checks the rights it relied on, so a
    revocation committed a moment ago takes effect on this very call. None: it did not hold.
    """
    holds = exists().where(Grant.id == grant_id, Grant.revoked_at.is_(None), Grant.expires_at > now)
    condition = holds
    if client_id is not None:
        condition = holds & exists().where(
            ApiClient.id == client_id, ApiClient.revoked_at.is_(None)
        )
    source = select(*(literal(values[c], type_=_T.c[c].type) for c in COLUMNS)).where(condition)
    stmt = insert(_T).from_select(list(COLUMNS), source).returning(_T.c.id)
    found = session.execute(stmt).scalar()
    return int(found) if found is not None else None


def entries(
    session: Session,
    *,
    after_id: int = 0,
    limit: int = 100,
    resource: str | None = None,
    department: str | None = None,
    outcome: str | None = None,
) -> Sequence[AuditEntry]:
    stmt = select(AuditEntry).where(AuditEntry.id > after_id)
    if resource:
        stmt = stmt.where(AuditEntry.resource == resource)
    if department:
        stmt = stmt.where(AuditEntry.department == department)
    if outcome:
        stmt = stmt.where(AuditEntry.outcome == outcome)
    return session.scalars(stmt.order_by(AuditEntry.id).limit(limit)).all()


def latest(session: Session, limit: int) -> Sequence[AuditEntry]:
    return session.scalars(select(AuditEntry).order_by(AuditEntry.id.desc()).limit(limit)).all()


# -- sealing -----------------------------------------------------------------------------------
def lock_sealing(session: Session) -> None:
    """One sealer at a time across every worker of the node (SQLite has one writer anyway)."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(text("SELECT pg_advisory_xact_lock(hashtext('hub:audit-seal'))"))


def last_seal(session: Session) -> AuditSeal | None:
    return session.scalars(select(AuditSeal).order_by(AuditSeal.seal_no.desc()).limit(1)).first()


def unsealed(
    session: Session, *, above: int, pending: Sequence[int], limit: int
) -> Sequence[AuditEntry]:
    cond = AuditEntry.id > above
    if pending:
        cond = or_(cond, AuditEntry.id.in_(list(pending)))
    return session.scalars(
        select(AuditEntry).where(cond).order_by(AuditEntry.id).limit(limit)
    ).all()


def add_seal(session: Session, seal: AuditSeal) -> None:
    session.add(seal)
    session.flush()


def seals(session: Session) -> Iterator[AuditSeal]:
    yield from session.scalars(select(AuditSeal).order_by(AuditSeal.seal_no)).yield_per(1000)


def entries_in(session: Session, ranges: Sequence[Sequence[int]]) -> Sequence[AuditEntry]:
    conds = [AuditEntry.id.between(lo, hi) for lo, hi in ranges]
    if not conds:
        return []
    return session.scalars(select(AuditEntry).where(or_(*conds)).order_by(AuditEntry.id)).all()


def entries_outside(
    session: Session, *, above: int, pending: Sequence[int]
) -> Iterator[AuditEntry]:
    """Entries no seal covers: above the high-water mark, or still pending below it."""
    cond = AuditEntry.id > above
    if pending:
        cond = or_(cond, AuditEntry.id.in_(list(pending)))
    yield from session.scalars(select(AuditEntry).where(cond).order_by(AuditEntry.id)).yield_per(
        1000
    )


def count_up_to(session: Session, high: int) -> int:
    return int(session.scalar(select(func.count()).select_from(_T).where(_T.c.id <= high)) or 0)


def count_ids(session: Session, ids: Iterable[int]) -> int:
    wanted = list(ids)
    if not wanted:
        return 0
    return int(session.scalar(select(func.count()).select_from(_T).where(_T.c.id.in_(wanted))) or 0)
