"""The keyed lookup on PostgreSQL without worker threads: one statement per read.

A keyed lookup is the sharing platform's hot path (case systems checking one person at a
time). In production on PostgreSQL it runs on the event loop: the same checks and masking as
`records.by_key` (the shared `plan_by_key` / `finish_by_key`), then ONE statement on an
autocommit async psycopg connection that selects the record and appends its audit entry only
if the grant and the client still hold (`records_repository.by_key_audited`). The entry is
committed when the statement returns, before the response exists; a read costs one round trip,
like a bare lookup. The statements are the repositories' SQLAlchemy statements, compiled once.

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
from exchange.platforms.sharing import audit_repository, grants, records
from exchange.platforms.sharing import records_repository as repo
from exchange.platforms.sharing.audit import ReadContext
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.grants import GrantView
from exchange.platforms.sharing.records import RecordResult

_DIALECT = postgresql.psycopg.dialect()  # type: ignore[attr-defined]


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
        sql = self._sql(stmt)
        idle = await self._pool()
        cur = await idle.get()
        try:
            await cur.execute(sql.text, sql.defaults | dict(params))
            row = await cur.fetchone()
            if sql.names is None:  # the same statement always has the same columns
                sql.names = tuple(d.name for d in cur.description or ())
        except psycopg.OperationalError as exc:
            await cur.connection.close()
            cur = await self._connect()
            raise Unavailable(f"database connection lost ({exc.sqlstate}); retry") from None
        finally:
            idle.put_nowait(cur)
        return dict(zip(sql.names, row, strict=True)) if row is not None else None

    async def close(self) -> None:
        while self._idle is not None and not self._idle.empty():
            await self._idle.get_nowait().connection.close()


def _resolve(env: SharingEnv, ctx: ReadContext, code: str) -> GrantView:
    with env.read_sessions() as session:
        return grants.resolve(session, env.grants, ctx.principal, code)


def _why_refused(env: SharingEnv, grant: GrantView) -> Exception:
    with env.read_sessions() as session:
        return grants.why_refused(session, env.grants, grant)


def _audit_params(values: Mapping[str, Any]) -> dict[str, Any]:
    keys = values["keys"]
    return {**values, "keys": json.dumps(keys, ensure_ascii=False) if keys is not None else None}


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
    found = env.audit.content(
        ctx, action="record", resource=code, grant_id=grant.id, keys=[key], rows=1
    )
    found["mac"], mac_missing = env.audit.macs(found, rows=(1, 0))  # a hit, or a miss
    params = _audit_params(found) | {
        "key": lookup.value,
        "mac_found": found["mac"],
        "mac_missing": mac_missing,
        "g_id_": grant.id,
        "now": found["at"],
        "client_id": ctx.principal.id if ctx.principal.kind == "client" else None,
    }
    row = await reader.fetch_one(repo.by_key_audited(schema, lookup.fields), params)
    if row is None:  # the grant or the client no longer holds: nothing read, nothing recorded
        raise await anyio.to_thread.run_sync(_why_refused, env, grant)
    hit = row if row[schema.primary_key[0]] is not None else None
    quota = env.quotas.deliver(grant, 1 if hit else 0, quota)
    return records.finish_by_key(lookup, hit, quota)


async def audit_refusal(
    reader: AsyncReader, env: SharingEnv, ctx: ReadContext, action: str, resource: str, code: str
) -> None:
    values = env.audit.values(
        ctx, action=action, resource=resource, grant_id=None, keys=None, rows=0, outcome=code
    )
    await reader.fetch_one(audit_repository.append_statement(), _audit_params(values))
