"""The sharing platform's HTTP edge: who is calling (bearer token), in which role, and the
one transaction a read runs in. Every route states its roles here; nothing is allowed by
default (a route without `require(...)` or `public` fails the route x role test).
"""

from collections.abc import Callable
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from exchange.core.context import request_id_var
from exchange.core.deps import DbSession, keep_on_failure, request_transaction
from exchange.platforms.sharing import credentials
from exchange.platforms.sharing.audit import ReadContext
from exchange.platforms.sharing.env import SharingEnv, build_env
from exchange.platforms.sharing.errors import MissingToken, RoleForbidden, is_refusal
from exchange.platforms.sharing.principal import Principal, Role
from exchange.platforms.sharing.query import call_headers

T = TypeVar("T")


def env_of(request: Request) -> SharingEnv:
    state = request.app.state
    env = getattr(state, "sharing", None)
    if env is None:
        env = state.sharing = build_env(state.runtime)
    return env  # type: ignore[no-any-return]


EnvDep = Annotated[SharingEnv, Depends(env_of)]


def bearer_principal(request: Request) -> Principal:
    header = request.headers.get("authorization")
    if not header:
        raise MissingToken()
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise MissingToken()
    return env_of(request).verifier.verify(token.strip())


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

Department = Annotated[Principal, Depends(require(Role.department))]
DepartmentActive = Annotated[Principal, Depends(require_active(Role.department))]
Overseer = Annotated[Principal, Depends(require_active(Role.department, *BUREAU))]
Admin = Annotated[Principal, Depends(require_active(Role.admin))]
Auditor = Annotated[Principal, Depends(require_active(Role.auditor))]


def read_context(request: Request, who: Principal, channel: str = "api") -> ReadContext:
    headers = call_headers(request.headers.get("x-purpose"), request.headers.get("x-case-number"))
    return ReadContext(who, channel, headers.purpose, headers.case_number, request_id_var.get())


async def run_read(
    request: Request,
    ctx: ReadContext,
    action: str,
    resource: str,
    fn: Callable[..., T],
    *args: Any,
    **kw: Any,
) -> T:
    """Run a read in one transaction, in a worker thread; a refusal is audited regardless.

    `fn(session, env, keep, ctx, *args, **kw)`; the transaction commits before returning, so
    the audit entry is durable before the response is sent.
    """
    env = env_of(request)

    def keep(record: Callable[[Session], object]) -> None:
        keep_on_failure(request, record)

    def work() -> T:
        with request_transaction(request) as session:
            try:
                return fn(session, env, keep, ctx, *args, **kw)
            except Exception as exc:
                if is_refusal(exc):
                    code = getattr(exc, "code", type(exc).__name__)
                    keep(
                        lambda s: env.audit.record(
                            s,
                            ctx,
                            action=action,
                            resource=resource,
                            grant_id=None,
                            keys=None,
                            rows=0,
                            outcome=code,
                        )
                    )
                raise

    return await run_in_threadpool(work)
