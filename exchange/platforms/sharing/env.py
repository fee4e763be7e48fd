"""What the sharing platform builds once per process: caches, keys and the audit writer."""

from __future__ import annotations

import threading
import weakref
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from exchange.core.db import read_only_sessions, session_scope
from exchange.core.ratelimit import count_many
from exchange.core.resource_schema import ResourceSchema
from exchange.core.runtime import Runtime
from exchange.core.settings import SharingSettings
from exchange.core.signing import KeySource
from exchange.core.store import PayloadStore
from exchange.directory import keys as directory_keys
from exchange.platforms.sharing.access.crypto import derive_key
from exchange.platforms.sharing.access.tokens import LoadKeys, NodeKey, TokenVerifier
from exchange.platforms.sharing.audit.log import AuditLog
from exchange.platforms.sharing.grants.service import GrantCache
from exchange.platforms.sharing.records.quotas import Merge, QuotaCounter, Reserve

if TYPE_CHECKING:
    from exchange.platforms.sharing.records.fast_reads import AsyncReader, AuditGroup


@dataclass
class SharingEnv:
    node_code: str
    node_name: str
    parent_code: str | None  # the node that countersigns this node's audit seal heads
    secure_cookies: bool
    settings: SharingSettings
    schemas: dict[str, ResourceSchema]
    store: PayloadStore
    keys: KeySource  # this node's signing key; `.current()` follows a key rotation
    audit: AuditLog
    cursor_key: bytes
    cookie_key: bytes
    verifier: TokenVerifier
    read_sessions: sessionmaker[Session]
    quotas: QuotaCounter
    fast: AsyncReader | None  # the event-loop keyed lookup (PostgreSQL engines only)
    audit_group: AuditGroup | None  # its audit entries, group committed
    grants: GrantCache = field(default_factory=GrantCache)
    read_limiter: Any = None  # anyio.CapacityLimiter, made in the app's event loop


def read_sessions(sessions: sessionmaker[Session]) -> sessionmaker[Session]:
    """Sessions for the read path: autocommit on PostgreSQL.

    A read is one SELECT and one audit INSERT that re-checks the grant; each is atomic alone,
    and in autocommit the INSERT is committed when it returns, so no BEGIN and COMMIT round
    trips are spent on a transaction that would add nothing. Elsewhere (SQLite, the tests'
    shared connection) reads use the node's ordinary sessions.
    """
    bind = sessions.kw.get("bind")
    if isinstance(bind, Engine) and bind.dialect.name == "postgresql":
        return sessionmaker(bind.execution_options(isolation_level="AUTOCOMMIT"))
    return sessions


def build_env(rt: Runtime) -> SharingEnv:
    secret = rt.settings.secret_key.get_secret_value()
    fast = _fast_reader(rt.sessions)
    keys = rt.node_key_file
    return SharingEnv(
        node_code=rt.settings.node_code,
        node_name=rt.settings.resolved_node_name,
        parent_code=rt.settings.parent.code if rt.settings.parent else None,
        secure_cookies=rt.settings.base_url.startswith("https://"),
        settings=rt.settings.sharing,
        schemas=rt.schemas,
        store=rt.store,
        keys=keys,
        audit=AuditLog(secret),
        cursor_key=derive_key(secret, "cursor"),
        cookie_key=derive_key(secret, "console-session"),
        verifier=TokenVerifier(rt.settings.node_code, keys, _node_keys(rt)),
        read_sessions=read_sessions(rt.sessions),
        quotas=QuotaCounter(_merger(rt.sessions), reserve=_reserver(rt.sessions)),
        fast=fast,
        audit_group=_audit_group(fast),
    )


_ENVS: dict[int, SharingEnv] = {}
_ENVS_LOCK = threading.Lock()


def shared_env(rt: Runtime) -> SharingEnv:
    """The one SharingEnv of a runtime: the API's reads and the bulk downloads that the
    exchange platform releases (`bulk.admission.release_delivery`) count one quota."""
    with _ENVS_LOCK:
        env = _ENVS.get(id(rt))
        if env is None:
            env = _ENVS[id(rt)] = build_env(rt)
            weakref.finalize(rt, _ENVS.pop, id(rt), None)
        return env


def _node_keys(rt: Runtime) -> LoadKeys:
    """This node's keys from the directory (those a rotation added or retired)."""
    owner = directory_keys.KeyOwner(directory_keys.NODE, rt.settings.node_code)

    # Read-only: this runs on the event loop (the token check of every call), so on SQLite it
    # must read beside the writer, never wait for its lock (BEGIN IMMEDIATE waited up to the
    # 30 s busy timeout, and every request of the worker with it: the soak's 60 s stalls).
    readers = read_only_sessions(rt.sessions)

    def load() -> dict[str, NodeKey]:
        with readers() as session:
            return {
                k.key_id: NodeKey(k.public_key, k.retired_at.timestamp() if k.retired_at else None)
                for k in directory_keys.history(session, owner)
            }

    return load


def _fast_reader(sessions: sessionmaker[Session]) -> AsyncReader | None:
    bind = sessions.kw.get("bind")
    if not (isinstance(bind, Engine) and bind.dialect.name == "postgresql"):
        return None
    from exchange.platforms.sharing.records.fast_reads import AsyncReader

    url = bind.url.set(drivername="postgresql").update_query_dict(
        {"application_name": "hub-sharing-reads"}
    )
    return AsyncReader(url.render_as_string(hide_password=False))


def _audit_group(reader: AsyncReader | None) -> AuditGroup | None:
    if reader is None:
        return None
    from exchange.platforms.sharing.records.fast_reads import AuditGroup

    return AuditGroup(reader)


async def aclose(state: object) -> None:
    """Close what the sharing platform opened in this process (called at app shutdown)."""
    env = getattr(state, "sharing", None)
    if env is not None and env.fast is not None:
        await env.fast.close()


def _merger(sessions: sessionmaker[Session]) -> Merge | None:
    """Quota counts merged across workers, from a background thread: only with an engine (a
    session bound to one shared connection, as in the tests, must not be used concurrently)."""
    if not isinstance(sessions.kw.get("bind"), Engine):
        return None

    def merge(hits: list[tuple[str, int, int]]) -> dict[tuple[str, int], int]:
        with session_scope(sessions) as session:
            return count_many(session, hits)

    return merge


def _reserver(sessions: sessionmaker[Session]) -> Reserve | None:
    """Calls reserved in the database before they are served (only with an engine, as above).

    Not on SQLite: a read there holds the one write lock from its first statement, so a
    reservation in a second session would wait for its own caller until the busy timeout.
    The embedded default runs one worker, whose in-memory count is exact; several SQLite
    workers count per worker and merge, as before reservations existed."""
    bind = sessions.kw.get("bind")
    if not isinstance(bind, Engine) or bind.dialect.name == "sqlite":
        return None

    def reserve(key: str, start: int, calls: int) -> int:
        with session_scope(sessions) as session:
            return count_many(session, [(key, start, calls)])[(key, start)]

    return reserve
