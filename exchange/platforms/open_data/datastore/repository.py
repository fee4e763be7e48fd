"""Reading open resources' rows (`ds_<code>` tables): pages, searches, samples and streams.

Only the columns `access.served_fields` allows are ever selected. Pages are keyset-paged on the
primary key (no OFFSET scans for the preview); big tables are never counted exactly unless a
caller filters and asks for a total, and then the count is capped.
"""

from __future__ import annotations

import time
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    Column,
    ColumnElement,
    Select,
    String,
    cast,
    false,
    func,
    or_,
    select,
    text,
    tuple_,
)
from sqlalchemy.orm import Session

from exchange.core import values
from exchange.core.db import psycopg_connection
from exchange.core.resource_schema import FieldSpec, ResourceSchema
from exchange.datastore.tables import tables_for
from exchange.platforms.open_data.access import served_fields

COUNT_CAP = 100_000
COPY_CHUNK_BYTES = 1 << 20


class BadValue(ValueError):
    pass


def parse_value(f: FieldSpec, raw: Any) -> Any:
    """A value from a URL, a form or JSON, as the field's type; BadValue says why not."""
    try:
        return values.parse(f.type, raw)
    except (ValueError, KeyError, TypeError):
        raise BadValue(f"{raw!r} is not a valid {f.type} for field {f.name!r}") from None


@dataclass(frozen=True)
class Columns:
    schema: ResourceSchema

    @property
    def table(self) -> Any:
        return tables_for(self.schema).current

    @property
    def fields(self) -> list[FieldSpec]:
        return served_fields(self.schema)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]

    def cols(self) -> list[Column[Any]]:
        return [self.table.c[n] for n in self.names]

    def key(self) -> list[Column[Any]]:
        return [self.table.c[k] for k in self.schema.primary_key]

    def base(self, *extra: Any) -> Select[Any]:
        return select(*self.cols(), *extra).where(self.table.c._deleted.is_(False))


@dataclass(frozen=True)
class Page:
    rows: list[dict[str, Any]]
    first_key: tuple[Any, ...] | None
    last_key: tuple[Any, ...] | None
    has_more: bool  # in the direction paged


def keyset_page(
    session: Session,
    schema: ResourceSchema,
    *,
    size: int,
    after: tuple[Any, ...] | None = None,
    before: tuple[Any, ...] | None = None,
) -> Page:
    c = Columns(schema)
    key = c.key()
    stmt = c.base(*[k.label(f"_k{i}") for i, k in enumerate(key)])
    if after is not None:
        stmt = stmt.where(tuple_(*key) > tuple_(*after)).order_by(*key)
    elif before is not None:
        stmt = stmt.where(tuple_(*key) < tuple_(*before)).order_by(*(k.desc() for k in key))
    else:
        stmt = stmt.order_by(*key)
    result = list(session.execute(stmt.limit(size + 1)).all())
    has_more = len(result) > size
    result = result[:size]
    if before is not None:
        result.reverse()
    n = len(c.names)
    rows = [dict(zip(c.names, r[:n], strict=True)) for r in result]
    keys = [tuple(r[n:]) for r in result]
    return Page(rows, keys[0] if keys else None, keys[-1] if keys else None, has_more)


Text = str | Mapping[str, str] | None  # q: in any text field, or per field (all must match)


def _where(c: Columns, filters: dict[str, list[Any]], q: Text) -> list[ColumnElement[bool]]:
    conds: list[ColumnElement[bool]] = [c.table.c[name].in_(vals) for name, vals in filters.items()]
    if isinstance(q, Mapping):
        for name, text in q.items():
            conds.append(cast(c.table.c[name], String).icontains(text, autoescape=True))
    elif q:
        strings = [c.table.c[f.name] for f in c.fields if f.type == "string"]
        if strings:
            conds.append(or_(*(col.icontains(q, autoescape=True) for col in strings)))
        else:
            conds.append(false())
    return conds


def search_rows(
    session: Session,
    schema: ResourceSchema,
    *,
    filters: dict[str, list[Any]],
    q: Text,
    sort: Sequence[tuple[str, bool]],
    limit: int,
    offset: int,
) -> list[tuple[int, dict[str, Any]]]:
    """(_id, row) pairs; `sort` is (field, descending); the primary key breaks ties."""
    c = Columns(schema)
    order = [c.table.c[name].desc() if desc else c.table.c[name] for name, desc in sort]
    stmt = (
        c.base(c.table.c._seq)
        .where(*_where(c, filters, q))
        .order_by(*order, *c.key())
        .limit(limit)
        .offset(offset)
    )
    n = len(c.names)
    return [(int(r[n]), dict(zip(c.names, r[:n], strict=True))) for r in session.execute(stmt)]


def count_rows(
    session: Session, schema: ResourceSchema, *, filters: dict[str, list[Any]], q: Text
) -> tuple[int, bool]:
    """(total, estimated): exact up to COUNT_CAP matching rows, the planner's estimate beyond."""
    c = Columns(schema)
    capped = c.base().where(*_where(c, filters, q)).limit(COUNT_CAP + 1).subquery()
    exact = int(session.scalar(select(func.count()).select_from(capped)) or 0)
    if exact <= COUNT_CAP or session.get_bind().dialect.name != "postgresql":
        return exact, False
    stmt = c.base().where(*_where(c, filters, q))
    compiled = stmt.compile(dialect=session.get_bind().dialect)
    conn = session.connection()
    plan = conn.exec_driver_sql(f"EXPLAIN (FORMAT JSON) {compiled}", compiled.params).scalar_one()
    return max(int(plan[0]["Plan"]["Plan Rows"]), exact), True


def planner_rows(session: Session, schema: ResourceSchema) -> int | None:
    """PostgreSQL's estimate of the table's rows (reltuples), instant on any size."""
    if session.get_bind().dialect.name != "postgresql":
        return None
    n = session.scalar(
        text("SELECT reltuples::bigint FROM pg_class WHERE oid = to_regclass(:t)"),
        {"t": tables_for(schema).current.name},
    )
    return int(n) if n is not None and n >= 0 else None


def random_sample(session: Session, schema: ResourceSchema, n: int) -> list[dict[str, Any]]:
    """About `n` rows from anywhere in the table (block sampling on PostgreSQL)."""
    c = Columns(schema)
    t = c.table
    if session.get_bind().dialect.name == "postgresql":
        total = planner_rows(session, schema) or 0
        if total > n * 10:
            percent = min(100.0, n * 100.0 / total * 2)
            sampled = t.tablesample(func.system(percent))
            stmt = select(*(sampled.c[name] for name in c.names)).where(
                sampled.c._deleted.is_(False)
            )
            return [dict(zip(c.names, r, strict=True)) for r in session.execute(stmt.limit(n))]
    stmt = c.base().order_by(func.random()).limit(n)
    return [dict(zip(c.names, r, strict=True)) for r in session.execute(stmt)]


def stream_chunks(session: Session, schema: ResourceSchema, chunk_rows: int) -> Iterator[list[Any]]:
    """Every current row in chunks, from a server-side cursor: memory stays flat on any size."""
    c = Columns(schema)
    stmt = c.base().execution_options(stream_results=True, yield_per=chunk_rows)
    result = session.connection().execute(stmt)
    for part in result.partitions():
        yield list(part)


def copy_csv(session: Session, schema: ResourceSchema) -> Iterator[bytes]:
    """PostgreSQL only: the rows as CSV with a header, straight from COPY ... TO STDOUT."""
    c = Columns(schema)

    def expr(f: FieldSpec) -> str:
        col = '"' + f.name + '"'
        return f"to_json({col}) #>> '{{}}' AS {col}" if f.type == "datetime" else col

    sql = (
        f'COPY (SELECT {", ".join(expr(f) for f in c.fields)} FROM "{c.table.name}" '  # noqa: S608
        f"WHERE NOT _deleted) TO STDOUT (FORMAT csv, HEADER)"
    )
    raw = psycopg_connection(session)
    pending = bytearray()
    with raw.cursor() as cur, cur.copy(sql) as copy:
        for data in copy:  # one row per item: gather them, a send per row would crawl
            pending += data
            if len(pending) >= COPY_CHUNK_BYTES:
                yield bytes(pending)
                pending.clear()
    yield bytes(pending)


def period_field(schema: ResourceSchema) -> FieldSpec | None:
    return next(
        (
            f
            for f in served_fields(schema)
            if f.name == "period" or f.type in ("date", "year", "datetime")
        ),
        None,
    )


def value_range(session: Session, schema: ResourceSchema, f: FieldSpec) -> tuple[Any, Any] | None:
    """(min, max) of a column; only asked of indexed columns or small tables by callers."""
    t = Columns(schema).table
    col = t.c[f.name]
    row = session.execute(select(func.min(col), func.max(col)).where(t.c._deleted.is_(False))).one()
    return (row[0], row[1]) if row[0] is not None else None


class QueryFailed(Exception):
    """The database refused or stopped a vetted query (an unknown column, a type error, time)."""


def run_select(
    session: Session, sql: str, *, timeout_ms: int
) -> tuple[list[str], list[tuple[Any, ...]]]:
    """Run one SELECT that `ckan.sql` built and vetted: (column names, rows), within
    `timeout_ms`, in a savepoint so a failure leaves the request's transaction usable.

    Through the DB-API cursor without parameters, so a `%` or `:word` in the text stays text."""
    dialect = session.get_bind().dialect.name
    nested = session.begin_nested()
    cursor = session.connection().connection.cursor()
    deadline = time.monotonic() + timeout_ms / 1000
    raw: Any = session.connection().connection.driver_connection
    try:
        if dialect == "postgresql":
            cursor.execute(f"SET LOCAL statement_timeout = {int(timeout_ms)}")
        else:  # SQLite has no statement timeout: stop the VM from its progress callback
            raw.set_progress_handler(lambda: int(time.monotonic() > deadline), 10_000)
        cursor.execute(sql)
        names = [d[0] for d in cursor.description or ()]
        rows = [tuple(r) for r in cursor.fetchall()]
    except session.get_bind().dialect.loaded_dbapi.Error as exc:  # the query was wrong
        nested.rollback()
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        if "interrupted" in first or "statement timeout" in first:
            first = f"stopped after {timeout_ms} ms"
        raise QueryFailed(first) from None
    finally:
        cursor.close()
        if dialect != "postgresql":
            raw.set_progress_handler(None, 0)
    nested.rollback()  # read-only: nothing to keep; also ends the SET LOCAL
    return names, rows
