"""The keyed lookup on PostgreSQL without worker threads: one statement per read.

A keyed lookup is the sharing platform's hot path (case systems checking one person at a
time). In production on PostgreSQL it runs on the event loop: the same checks and masking as
`records.by_key` (the shared `plan_by_key` / `finish_by_key`), then one statement on an
autocommit async psycopg connection that re-checks the grant and the client and selects the
record (`records_repository.by_key_if_holds`), then its audit entry. Entries are group
committed (`AuditGroup`): those of concurrent reads go into the database in one INSERT, a
single transaction, and each read answers only once its entry is committed. A transaction per
entry had cost PostgreSQL more than the lookup itself (about 140 us of CPU a read against 20
in a group). The statements are the repositories' SQLAlchemy statements, compiled once.

SQLite and the test suite's shared connection use the threaded path (`records.by_key`).
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import anyio.to_thread
import psycopg
from sqlalchemy import ClauseElement
from sqlalchemy.dialects import postgresql

from exchange.core.errors import Unavailable
from exchange.platforms.sharing.audit import repository as audit_repository
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.grants import service as grants
from exchange.platforms.sharing.grants.service import GrantView
from exchange.platforms.sharing.records import repository as repo
from exchange.platforms.sharing.records import service as records
from exchange.platforms.sharing.records.service import RecordResult

_DIALECT = postgresql.psycopg.dialect()


@dataclass(slots=True)
class _Compiled:
    text: bytes
    defaults: dict[str, Any]
    names: tuple[str, ...] | None = None  # the result's columns, learnt on first execution


class AsyncReader:
    """A small pool of autocommit async connections running pre-compiled statements.

    The pool holds one cursor per connection, kept for good: a cursor remembers how it
    adapted each parameter type, which a fresh cursor per call would work out again.
    """

    def __init__(self, conninfo: str, *, size: int = 16) -> None:
        self._conninfo = conninfo
        self._size = size
        self._idle: asyncio.Queue[psycopg.AsyncCursor[Any]] | None = None
        self._lock: asyncio.Lock | None = None
        self._compiled: dict[ClauseElement, _Compiled] = {}

    async def _connect(self) -> psycopg.AsyncCursor[Any]:
        conn = await psycopg.AsyncConnection.connect(self._conninfo, autocommit=True)
        return conn.cursor()

    async def _pool(self) -> asyncio.Queue[psycopg.AsyncCursor[Any]]:
        if self._idle is not None:
            return self._idle
        self._lock = self._lock or asyncio.Lock()
        async with self._lock:
            if self._idle is None:
                idle: asyncio.Queue[psycopg.AsyncCursor[Any]] = asyncio.Queue()
                for _ in range(self._size):
                    idle.put_nowait(await self._connect())
                self._idle = idle
        return self._idle

    def _sql(self, stmt: ClauseElement) -> _Compiled:
        found = self._compiled.get(stmt)
        if found is None:
            compiled = stmt.compile(dialect=_DIALECT)
            found = self._compiled.setdefault(
                stmt, _Compiled(str(compiled).encode(), dict(compiled.params))
            )
        return found

    async def fetch_one(
        self, stmt: ClauseElement, params: Mapping[str, Any]
    ) -> dict[str, Any] | None:
        names, row = await self._run(stmt, params, fetch=True)
        return dict(zip(names, row, strict=True)) if row is not None else None

    async def execute(self, stmt: ClauseElement, params: Mapping[str, Any]) -> None:
        await self._run(stmt, params, fetch=False)

    async def _run(
        self, stmt: ClauseElement, params: Mapping[str, Any], *, fetch: bool
    ) -> tuple[tuple[str, ...], Any]:
        sql = self._sql(stmt)
        idle = await self._pool()
        cur = await idle.get()
        row = None
        try:
            await cur.execute(sql.text, sql.defaults | dict(params))
            if fetch:
                row = await cur.fetchone()
                if sql.names is None:  # the same statement always has the same columns
                    sql.names = tuple(d.name for d in cur.description or ())
        except psycopg.OperationalError as exc:
            await cur.connection.close()
            cur = await self._connect()
            raise Unavailable(f"database connection lost ({exc.sqlstate}); retry") from None
        finally:
            idle.put_nowait(cur)
        return sql.names or (), row

    async def close(self) -> None:
        while self._idle is not None and not self._idle.empty():
            await self._idle.get_nowait().connection.close()


class AuditGroup:
    """Group commit of audit entries: `append` returns once the entry is committed.

    While one INSERT is on its way, the entries that arrive meanwhile wait for the next, which
    takes them all: idle, a group is one entry and waits for nothing; busy, it grows by itself.
    An INSERT that fails for a reason other than the connection is retried entry by entry, so
    one bad entry fails only its own read.
    """

    MAX_GROUP = 256

    def __init__(self, reader: AsyncReader) -> None:
        self._reader = reader
        self._waiting: list[tuple[dict[str, Any], asyncio.Future[None]]] = []  # JSON-ready
        self._writing = False
        self._writer: asyncio.Task[None] | None = None  # held: the loop keeps only weak refs

    async def append(self, values: Mapping[str, Any]) -> None:
        done: asyncio.Future[None] = asyncio.get_running_loop().create_future()
        self._waiting.append((_json_entry(values), done))
        if not self._writing:
            self._writing = True
            self._writer = asyncio.create_task(self._write())
        await done

    async def _write(self) -> None:
        try:
            while self._waiting:
                group = self._waiting[: self.MAX_GROUP]
                del self._waiting[: self.MAX_GROUP]
                await self._insert(group)
        finally:
            self._writing = False

    async def _insert(self, group: list[tuple[dict[str, Any], asyncio.Future[None]]]) -> None:
        entries = _ENCODE([values for values, _ in group])
        try:
            await self._reader.execute(
                audit_repository.append_many_statement(), {"entries": entries}
            )
        except Unavailable as exc:
            for _, done in group:
                done.set_exception(exc)
            return
        except Exception:
            if len(group) > 1:
                for one in group:
                    await self._insert([one])
                return
            group[0][1].set_exception(Unavailable("the audit entry could not be written; retry"))
            return
        for _, done in group:
            done.set_result(None)


def _resolve(env: SharingEnv, ctx: ReadContext, code: str) -> GrantView:
    with env.read_sessions() as session:
        return grants.resolve(session, env.grants, ctx.principal, code)


def _why_refused(env: SharingEnv, grant: GrantView) -> Exception:
    with env.read_sessions() as session:
        return grants.why_refused(session, env.grants, grant)


_ENCODE = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode


def _json_entry(values: Mapping[str, Any]) -> dict[str, Any]:
    """An entry as JSON holds it: times in ISO 8601 with microseconds, ids as text."""
    out = dict(values)
    out["at"] = values["at"].isoformat(timespec="microseconds")
    if values["grant_id"] is not None:
        out["grant_id"] = str(values["grant_id"])
    return out


async def by_key(
    env: SharingEnv, reader: AsyncReader, ctx: ReadContext, code: str, key: str, fields: str | None
) -> RecordResult:
    """`records.by_key` on the event loop: the same checks, masking and audit entry."""
    schema = records.schema_of(env, code)
    grant = env.grants.get(ctx.principal.require_department(), code)
    if grant is None:  # not cached yet: ask the database from a worker thread
        grant = await anyio.to_thread.run_sync(_resolve, env, ctx, code)
    lookup = records.plan_by_key(schema, grant, ctx, key, fields)
    quota = env.quotas.admit(grant, 1)  # before the read: its audit entry commits with it
    # The entry's time is the time the grant is checked at: a read is never recorded as
    # later than the moment its rights were found to hold.
    entry = env.audit.content(
        ctx, action="record", resource=code, grant_id=grant.id, keys=[key], rows=0
    )
    client_id = ctx.principal.id if ctx.principal.kind == "client" else None
    params = {"key": lookup.value, "g_id_": grant.id, "now": entry["at"], "client_id": client_id}
    row = await reader.fetch_one(repo.by_key_if_holds(schema, lookup.fields), params)
    if row is None or not row["_holds"]:  # nothing read, nothing recorded
        raise await anyio.to_thread.run_sync(_why_refused, env, grant)
    hit = row if row[schema.primary_key[0]] is not None else None
    entry["rows"] = 1 if hit else 0
    entry["mac"] = env.audit.mac(entry)
    await env.audit_group.append(entry)  # type: ignore[union-attr]
    quota = env.quotas.deliver(grant, entry["rows"], quota)
    return records.finish_by_key(lookup, hit, quota)


async def audit_refusal(
    env: SharingEnv, ctx: ReadContext, action: str, resource: str, code: str
) -> None:
    values = env.audit.values(
        ctx, action=action, resource=resource, grant_id=None, keys=None, rows=0, outcome=code
    )
    await env.audit_group.append(values)  # type: ignore[union-attr]
