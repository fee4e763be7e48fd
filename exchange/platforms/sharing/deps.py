"""The sharing platform's HTTP edge: who is calling (bearer token), in which role, and the
one transaction a read runs in. Every route states its roles here; nothing is allowed by
default (a route without `require(...)`, `government_caller` or `public` fails the route x role
test).
"""

from collections.abc import Callable, Coroutine
from typing import Annotated, Any, TypeVar

import anyio
import anyio.to_thread
from fastapi import Depends, Request, Response
from fastapi._compat import field_annotation_is_sequence
from fastapi.dependencies.utils import get_flat_dependant
from fastapi.routing import APIRoute

from exchange.core.context import caller_request_id_var, request_id_var
from exchange.core.db import session_scope
from exchange.core.deps import DbSession, ReadSession
from exchange.core.errors import HubError
from exchange.platforms.sharing.access import service as credentials
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.console import session as console_session
from exchange.platforms.sharing.env import SharingEnv, shared_env
from exchange.platforms.sharing.errors import (
    CsrfFailed,
    MissingToken,
    RepeatedParameter,
    RoleForbidden,
    UnknownParameter,
    is_refusal,
)
from exchange.platforms.sharing.records import fast_reads
from exchange.platforms.sharing.records import service as records
from exchange.platforms.sharing.records.query import call_headers
from exchange.platforms.sharing.records.service import RecordResult

T = TypeVar("T")
# Threaded reads (SQLite, page queries, feeds): a few threads, not anyio's default forty, so
# that short reads do not queue behind each other for the interpreter lock.
READ_THREADS = 8


def env_of(request: Request) -> SharingEnv:
    state = request.app.state
    env = getattr(state, "sharing", None)
    if env is None:
        env = state.sharing = shared_env(state.runtime)
    return env


EnvDep = Annotated[SharingEnv, Depends(env_of)]


def bearer_principal(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise MissingToken()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken()
    return env_of(request).verifier.verify(token.strip())


UNSAFE_METHODS = frozenset({"POST", "PUT", "PATCH", "DELETE"})
CSRF_HEADER = "X-CSRF-Token"


async def csrf_guard(request: Request) -> None:
    """An unsafe call that a browser could send cross-site with the console's cookie (path
    `/`) carries the session's CSRF token, or is refused before anything else runs. A bearer
    token (or a node's signature) in Authorization is never sent by a browser on its own, so
    such calls need none; safe methods change nothing and need none."""
    if request.method not in UNSAFE_METHODS or request.headers.get("authorization"):
        return
    cookie = request.cookies.get(console_session.SESSION_COOKIE)
    if cookie is None:
        return
    sent = request.headers.get(CSRF_HEADER)
    if not sent:
        raise CsrfFailed()
    env = env_of(request)

    def matches() -> bool:
        session = env.read_sessions()
        try:
            state = console_session.read_session(session, cookie)
            return state is not None and console_session.csrf_ok(state, sent)
        finally:
            session.close()

    if not await anyio.to_thread.run_sync(matches):
        raise CsrfFailed()


# `openapi_extra={FILTERS: True}`: the route filters on the resource's own fields (?field=value)
FILTERS = "x-hub-field-filters"


class AuthFirstRoute(APIRoute):
    """A route that refuses a cross-site call (`csrf_guard`) and checks the bearer token before
    its body is read (FastAPI reads and parses a body before it runs any dependency): an
    anonymous 150 MB JSON body is 401 unread.

    The role is still checked by the route's own `require(...)`; the token endpoint, whose
    body holds the credentials, is the one route with a body and no token.
    """

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()
        token_first = self.body_field is not None and not self.path.endswith("/token")
        # A parameter declared once must come once: FastAPI would take the last of `?q=a&q=b`
        # silently, so what was checked (a proxy, a log reader) and what was used could differ.
        declared = get_flat_dependant(self.dependant).query_params
        single = {
            f.alias
            for f in declared
            if not field_annotation_is_sequence(f.field_info.annotation)  # type: ignore[arg-type]
        }
        # An unknown parameter is a caller's mistake (a misspelt `limt=` would be ignored and
        # every row paged through); only a route that filters on its fields takes any name.
        known = None if (self.openapi_extra or {}).get(FILTERS) else {f.alias for f in declared}

        async def guarded(request: Request) -> Response:
            for name in sorted(single & request.query_params.keys()):
                if len(request.query_params.getlist(name)) > 1:
                    raise RepeatedParameter(name)
            if known is not None and (unknown := sorted(request.query_params.keys() - known)):
                raise UnknownParameter(unknown[0], sorted(known))
            await csrf_guard(request)
            if token_first:
                bearer_principal(request)
            return await handler(request)

        return guarded


def government_caller(request: Request, session: ReadSession) -> Principal:
    """A bearer token of any role, or a signed-in console user: the 共享目录 is for government
    callers (the open catalogue is the portal's)."""
    if request.headers.get("authorization"):
        return bearer_principal(request)
    env = env_of(request)
    state = console_session.read_session(
        session, request.cookies.get(console_session.SESSION_COOKIE)
    )
    user = credentials.active_user(session, env.node_code, state.user_id) if state else None
    if user is None:
        raise MissingToken()
    return user


def require(*roles: Role) -> Callable[..., Any]:
    """A dependency admitting a valid token of one of `roles` (no database: the read path)."""
    allowed = tuple(r.value for r in roles)

    async def dependency(request: Request) -> Principal:
        who = bearer_principal(request)
        if who.role not in roles:
            raise RoleForbidden(who.role.value, allowed)
        return who

    return dependency


def require_active(*roles: Role) -> Callable[..., Any]:
    """`require`, plus the client or user is checked in the database (management routes).

    (This module keeps annotations evaluated, so FastAPI sees the closure's `Depends`.)
    """

    def active(
        session: DbSession, who: Annotated[Principal, Depends(require(*roles))]
    ) -> Principal:
        credentials.ensure_active(session, who)
        return who

    return active


DEPARTMENT = Role.department
BUREAU = (Role.admin, Role.auditor, Role.operator)

GovernmentCaller = Annotated[Principal, Depends(government_caller)]
Department = Annotated[Principal, Depends(require(Role.department))]
DepartmentActive = Annotated[Principal, Depends(require_active(Role.department))]
Overseer = Annotated[Principal, Depends(require_active(Role.department, *BUREAU))]
Admin = Annotated[Principal, Depends(require_active(Role.admin))]
Auditor = Annotated[Principal, Depends(require_active(Role.auditor))]


def read_context(request: Request, who: Principal, channel: str = "api") -> ReadContext:
    headers = call_headers(request.headers.get("x-purpose"), request.headers.get("x-case-number"))
    return ReadContext(
        who,
        channel,
        headers.purpose,
        headers.case_number,
        request_id_var.get(),
        caller_request_id_var.get(),
    )


def reading(action: str, channel: str = "api") -> Callable[..., Any]:
    """The door of a route that reads shared data: a department's valid token and well-formed
    call headers, as the read's context. A call refused here (no or a forged token, a bureau
    role, a malformed X-Purpose) leaves an audit entry like a refusal further in does."""

    async def dependency(request: Request) -> ReadContext:
        env = env_of(request)
        resource = request.path_params.get("code")
        rid, caller_rid = request_id_var.get(), caller_request_id_var.get()
        try:
            who = bearer_principal(request)
        except HubError as exc:
            await _append(env, env.audit.anonymous(
                channel=channel, action=action, resource=resource, outcome=exc.code,
                request_id=rid, caller_request_id=caller_rid,
            ))  # fmt: skip
            raise
        try:
            if who.role is not Role.department:
                raise RoleForbidden(who.role.value, (Role.department.value,))
            return read_context(request, who, channel)
        except HubError as exc:
            ctx = ReadContext(who, channel, None, None, rid, caller_rid)
            await _append(env, env.audit.values(
                ctx, action=action, resource=resource, grant_id=None, keys=None, rows=0,
                outcome=exc.code,
            ))  # fmt: skip
            raise

    return dependency


async def _append(env: SharingEnv, values: dict[str, Any]) -> None:
    """Write a refusal's audit entry before the refusal is answered."""
    if env.audit_group is not None:
        await env.audit_group.append(values)
        return

    def work() -> None:
        with session_scope(env.read_sessions) as session:
            env.audit.append(session, values)

    await anyio.to_thread.run_sync(work)


async def run_read(
    request: Request,
    ctx: ReadContext,
    action: str,
    resource: str,
    fn: Callable[..., T],
    *args: Any,
    **kw: Any,
) -> T:
    """Run a read in a worker thread (one hop for all its database work).

    `fn(session, env, ctx, *args, **kw)` writes its audit entry last and never commits: the
    read's one transaction (`session_scope`) commits when it returns, so the entry is durable
    before the response is sent, or rolls everything back when it raises. A refused read
    (403, 429) is then audited in a transaction of its own.
    """
    env = env_of(request)

    def work() -> T:
        try:
            with session_scope(env.read_sessions) as session:
                return fn(session, env, ctx, *args, **kw)
        except Exception as exc:
            if is_refusal(exc):
                code = getattr(exc, "code", type(exc).__name__)
                with session_scope(env.read_sessions) as session:
                    env.audit.record(
                        session, ctx, action=action, resource=resource, grant_id=None,
                        keys=None, rows=0, outcome=code,
                    )  # fmt: skip
            raise

    if env.read_limiter is None:
        env.read_limiter = anyio.CapacityLimiter(READ_THREADS)
    return await anyio.to_thread.run_sync(work, limiter=env.read_limiter)


async def read_by_key(
    request: Request, ctx: ReadContext, code: str, key: str, fields: str | None
) -> RecordResult:
    """The keyed lookup: on the event loop where it can be (PostgreSQL), else threaded."""
    env = env_of(request)
    reader = env.fast
    if reader is None:
        return await run_read(request, ctx, "record", code, records.by_key, code, key, fields)
    try:
        return await fast_reads.by_key(env, reader, ctx, code, key, fields)
    except Exception as exc:
        if is_refusal(exc):
            refusal = getattr(exc, "code", type(exc).__name__)
            await fast_reads.audit_refusal(env, ctx, "record", code, refusal)
        raise
