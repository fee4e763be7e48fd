"""SQL over the resource tables (`ds_<code>`, `ds_<code>__hist`): lean Core selects, typed rows.

Column names come from the resource's schema; request values are always bound parameters.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from typing import Any

from sqlalchemy import (
    Engine,
    Row,
    Select,
    bindparam,
    func,
    select,
    tuple_,
)
from sqlalchemy.orm import Session

from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.tables import ResourceTables, tables_for
from exchange.platforms.sharing.audit.repository import holds_clause

# The keyed lookup per (resource, fields), built once: the hot path reuses the statement.
_BY_KEY: dict[tuple[str, tuple[str, ...]], Select[Any]] = {}
_CHECKED: dict[tuple[str, tuple[str, ...]], Select[Any]] = {}
HIST_META = ("_seq", "_action", "_version", "_recorded_at", "_valid_from")


def _columns(t: ResourceTables, fields: Sequence[str]) -> list[str]:
    """Requested fields plus the key (needed for cursors and audit), each once, in order."""
    return list(dict.fromkeys([*t.key_columns, *fields]))


def by_key(
    session: Session, schema: ResourceSchema, fields: Sequence[str], key: Any
) -> Row[Any] | None:
    return session.connection().execute(by_key_select(schema, fields), {"key": key}).first()


def by_key_select(schema: ResourceSchema, fields: Sequence[str]) -> Select[Any]:
    """The keyed lookup of (resource, fields), built once and reused (the hot path)."""
    cache_key = (schema.code, tuple(fields))
    stmt = _BY_KEY.get(cache_key)
    if stmt is None:
        t = tables_for(schema)
        cur = t.current
        stmt = select(*(cur.c[c] for c in _columns(t, fields))).where(
            cur.c[t.key_columns[0]] == bindparam("key"), cur.c._deleted.is_(False)
        )
        stmt = _BY_KEY.setdefault(cache_key, stmt)
    return stmt


def by_key_if_holds(schema: ResourceSchema, fields: Sequence[str]) -> Select[Any]:
    """The keyed lookup and the re-check of the rights it relies on, in one statement.

    Parameters: `key`; `g_id_`, `now`, `client_id` for the grant check. One row comes back:
    `_holds` (the grant and the client still hold at `now`), then the record's columns, null
    on a miss or when the grant no longer holds (nothing is read then).
    """
    cache_key = (schema.code, tuple(fields))
    stmt = _CHECKED.get(cache_key)
    if stmt is None:
        hit = by_key_select(schema, fields).subquery("hit")
        holds = select(holds_clause().label("_holds")).subquery("holds")
        stmt = select(holds.c._holds, *hit.c).select_from(holds.outerjoin(hit, holds.c._holds))
        stmt = _CHECKED.setdefault(cache_key, stmt)
    return stmt


def page(
    session: Session,
    schema: ResourceSchema,
    fields: Sequence[str],
    filters: dict[str, list[Any]],
    after: tuple[Any, ...] | None,
    limit: int,
) -> Sequence[Row[Any]]:
    """Current rows in key order after `after` (keyset paging: stable under concurrent writes)."""
    t = tables_for(schema)
    cur = t.current
    keys = [cur.c[k] for k in t.key_columns]
    stmt = select(*(cur.c[c] for c in _columns(t, fields))).where(cur.c._deleted.is_(False))
    for name, values in filters.items():
        col = cur.c[name]
        stmt = stmt.where(col == values[0] if len(values) == 1 else col.in_(values))
    if after is not None:
        stmt = stmt.where(keys[0] > after[0] if len(keys) == 1 else tuple_(*keys) > tuple_(*after))
    return session.execute(stmt.order_by(*keys).limit(limit)).all()


def events(
    session: Session, schema: ResourceSchema, fields: Sequence[str], after_seq: int, limit: int
) -> Sequence[Row[Any]]:
    """Recorded changes after `after_seq`, in change order (inserts, updates and deletes)."""
    t = tables_for(schema)
    h = t.versions
    cols = [h.c[c] for c in HIST_META] + [h.c[c] for c in _columns(t, fields)]
    stmt = select(*cols).where(h.c._seq > after_seq).order_by(h.c._seq).limit(limit)
    return session.execute(stmt).all()


def high_water(session: Session, schema: ResourceSchema) -> int:
    """The newest change number of the resource (what a snapshot is consistent with)."""
    cur = tables_for(schema).current  # the newest change is always a version in force
    return int(session.scalar(select(func.coalesce(func.max(cur.c._seq), 0))) or 0)


def count_current(session: Session, schema: ResourceSchema) -> int:
    cur = tables_for(schema).current
    return int(
        session.scalar(select(func.count()).select_from(cur).where(cur.c._deleted.is_(False))) or 0
    )


def count_changes(session: Session, schema: ResourceSchema, after: int, upto: int) -> int:
    h = tables_for(schema).versions
    stmt = select(func.count()).select_from(h).where(h.c._seq > after, h.c._seq <= upto)
    return int(session.scalar(stmt) or 0)


def snapshot_select(schema: ResourceSchema, fields: Sequence[str]) -> Select[Any]:
    t = tables_for(schema)
    cur = t.current
    return (
        select(*(cur.c[c] for c in fields))
        .where(cur.c._deleted.is_(False))
        .order_by(*(cur.c[k] for k in t.key_columns))
    )


def delta_select(
    schema: ResourceSchema, fields: Sequence[str], after: int, upto: int
) -> Select[Any]:
    h = tables_for(schema).versions
    cols = [h.c._seq, h.c._action, h.c._version] + [h.c[c] for c in fields]
    return select(*cols).where(h.c._seq > after, h.c._seq <= upto).order_by(h.c._seq)


def stream(session: Session, stmt: Select[Any], batch_rows: int) -> Iterator[Sequence[Row[Any]]]:
    """Rows in partitions of `batch_rows`, from a server-side cursor on PostgreSQL."""
    result = session.execute(stmt.execution_options(stream_results=True, yield_per=batch_rows))
    yield from result.partitions(batch_rows)


def stable_view(session: Session) -> None:
    """Make every read of `session` see one snapshot (REPEATABLE READ on PostgreSQL).

    Only where the session starts its own transaction: a session joined to an outer one (the
    test fixtures) keeps that transaction's view. SQLite's read transactions are snapshots.
    """
    bind = session.get_bind()
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        session.connection(execution_options={"isolation_level": "REPEATABLE READ"})
    else:
        session.connection()  # the transaction (or savepoint) begins now
