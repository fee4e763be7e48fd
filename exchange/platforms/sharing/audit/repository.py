"""SQL for the audit log. Only INSERT and SELECT: the log has no update or delete path."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Iterable, Sequence
from functools import cache
from typing import Any, cast

from sqlalchemy import (
    Insert,
    Row,
    String,
    Table,
    Text,
    Uuid,
    bindparam,
    column,
    exists,
    func,
    insert,
    or_,
    select,
    text,
)
from sqlalchemy.dialects import postgresql
from sqlalchemy.orm import Session

from exchange.platforms.sharing.audit.models import AuditAnchor, ChildSealHead
from exchange.platforms.sharing.models import ApiClient, AuditEntry, AuditSeal, Grant

_T = cast(Table, AuditEntry.__table__)
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
    "caller_request_id",
    "mac",
)


def append(session: Session, values: dict[str, Any]) -> int:
    return int(session.connection().execute(append_statement(), values).scalar_one())


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
    params = {**values, "g_id_": grant_id, "now": now, "client_id": client_id}
    found = session.connection().execute(_append_if_holds(), params).scalar()
    return int(found) if found is not None else None


@cache
def append_many_statement() -> Insert:
    """Many entries in one INSERT (PostgreSQL): `entries` is a JSON array of objects, one per
    entry, read back as typed rows. One statement shape whatever the number of entries, and
    one parameter to send (Python encodes JSON far faster than it adapts arrays)."""
    rows = (
        func.jsonb_to_recordset(bindparam("entries", type_=postgresql.JSONB))
        .table_valued(*(column(c, _unbounded(c)) for c in COLUMNS))
        .render_derived(name="e", with_types=True)
    )
    return insert(_T).from_select(list(COLUMNS), select(*(rows.c[c] for c in COLUMNS)))


def _unbounded(name: str) -> Any:
    """The column's type without a length: a cast to varchar(n)[] would cut a longer value
    short in silence (and its MAC would no longer match); the column itself refuses it."""
    type_ = _T.c[name].type
    return Text() if isinstance(type_, String) else type_


# Built once: the read path reuses the same statement objects (SQLAlchemy's compiled cache
# and psycopg's prepared statements both hit), with every value a bound parameter.
@cache
def append_statement() -> Insert:
    return (
        insert(_T).values({c: bindparam(c, type_=_T.c[c].type) for c in COLUMNS}).returning(_T.c.id)
    )


def holds_clause() -> Any:
    """`:g_id_` names a grant that holds at `:now`, and `:client_id` is null or not revoked."""
    g, cl = Grant.__table__.c, ApiClient.__table__.c
    now = bindparam("now", type_=g.expires_at.type)
    grant = exists().where(g.id == bindparam("g_id_"), g.revoked_at.is_(None), g.expires_at > now)
    client_id = bindparam("client_id", type_=Uuid())
    client = or_(client_id.is_(None), exists().where(cl.id == client_id, cl.revoked_at.is_(None)))
    return grant & client


@cache
def _append_if_holds() -> Insert:
    source = select(*(bindparam(c, type_=_T.c[c].type) for c in COLUMNS)).where(holds_clause())
    return insert(_T).from_select(list(COLUMNS), source).returning(_T.c.id)


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


# The sealer and the verifier read entries as plain rows (attribute access like the model,
# without building ORM objects): they go through every entry.
def unsealed(
    session: Session, *, above: int, pending: Sequence[int], limit: int
) -> Sequence[Row[Any]]:
    cond = _T.c.id > above
    if pending:
        cond = or_(cond, _T.c.id.in_(list(pending)))
    return session.execute(select(_T).where(cond).order_by(_T.c.id).limit(limit)).all()


def add_seal(session: Session, seal: AuditSeal) -> None:
    session.add(seal)
    session.flush()


def seals(session: Session) -> Sequence[AuditSeal]:
    return session.scalars(select(AuditSeal).order_by(AuditSeal.seal_no)).all()


def entries_in(session: Session, ranges: Sequence[Sequence[int]]) -> Sequence[Row[Any]]:
    conds = [_T.c.id.between(lo, hi) for lo, hi in ranges]
    if not conds:
        return []
    return session.execute(select(_T).where(or_(*conds)).order_by(_T.c.id)).all()


def entries_outside(session: Session, *, above: int, pending: Sequence[int]) -> Sequence[Row[Any]]:
    """Entries no seal covers: above the high-water mark, or still pending below it."""
    cond = _T.c.id > above
    if pending:
        cond = or_(cond, _T.c.id.in_(list(pending)))
    return session.execute(select(_T).where(cond).order_by(_T.c.id)).all()


def count_up_to(session: Session, high: int) -> int:
    return int(session.scalar(select(func.count()).select_from(_T).where(_T.c.id <= high)) or 0)


def count_ids(session: Session, ids: Iterable[int]) -> int:
    wanted = list(ids)
    if not wanted:
        return 0
    return int(session.scalar(select(func.count()).select_from(_T).where(_T.c.id.in_(wanted))) or 0)


# -- anchoring -------------------------------------------------------------------------------
def seals_after(session: Session, seal_no: int, limit: int) -> Sequence[AuditSeal]:
    stmt = select(AuditSeal).where(AuditSeal.seal_no > seal_no).order_by(AuditSeal.seal_no)
    return session.scalars(stmt.limit(limit)).all()


def seals_by_no(session: Session, numbers: Iterable[int]) -> dict[int, AuditSeal]:
    wanted = list(numbers)
    if not wanted:
        return {}
    found = session.scalars(select(AuditSeal).where(AuditSeal.seal_no.in_(wanted))).all()
    return {s.seal_no: s for s in found}


def last_anchored(session: Session) -> int:
    return int(session.scalar(select(func.max(AuditAnchor.seal_no))) or 0)


def anchors(session: Session) -> Sequence[AuditAnchor]:
    return session.scalars(select(AuditAnchor).order_by(AuditAnchor.seal_no)).all()


def add_anchors(session: Session, rows: Iterable[AuditAnchor]) -> None:
    session.add_all(list(rows))
    session.flush()


def child_head(session: Session, child: str, seal_no: int) -> ChildSealHead | None:
    return session.get(ChildSealHead, (child, seal_no))


def child_heads(session: Session, child: str, *, after: int, limit: int) -> Sequence[ChildSealHead]:
    stmt = (
        select(ChildSealHead)
        .where(ChildSealHead.child == child, ChildSealHead.seal_no > after)
        .order_by(ChildSealHead.seal_no)
        .limit(limit)
    )
    return session.scalars(stmt).all()


def add_child_head(session: Session, head: ChildSealHead) -> None:
    session.add(head)
    session.flush()


def child_head_summary(session: Session) -> Sequence[Row[str, int, int, dt.datetime]]:
    h = ChildSealHead
    stmt = (
        select(h.child, func.count(), func.max(h.seal_no), func.max(h.anchored_at))
        .group_by(h.child)
        .order_by(h.child)
    )
    return session.execute(stmt).all()
