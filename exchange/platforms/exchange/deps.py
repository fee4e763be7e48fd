"""The exchange platform's HTTP edge: who is calling, proven by a request signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from exchange.core import ratelimit, wire
from exchange.core.deps import DbSession, RuntimeDep
from exchange.core.signing import EMPTY_SHA256
from exchange.platforms.exchange.auth import Caller, authenticate
from exchange.platforms.exchange.errors import ConnectorNotActive, NodesOnly


def require_caller(request: Request, session: DbSession, rt: RuntimeDep) -> Caller:
    return _authenticated(request, session, rt, check_clock=True)


def require_node_any_clock(request: Request, session: DbSession, rt: RuntimeDep) -> Caller:
    """A neighbouring node, proven by its signature whatever its clock says (the handshake
    that measures the skew); connectors are refused."""
    caller = _authenticated(request, session, rt, check_clock=False)
    if caller.kind != "node":
        raise NodesOnly(caller.key_id)
    return caller


def _authenticated(
    request: Request, session: DbSession, rt: RuntimeDep, *, check_clock: bool
) -> Caller:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    content = request.headers.get(wire.SHA256) or request.headers.get(
        "x-content-sha256", EMPTY_SHA256
    )
    caller = authenticate(
        session,
        me=rt.settings.node_code,
        authorization=request.headers.get("authorization"),
        method=request.method,
        target=target,
        content_sha256=content.lower(),
        check_clock=check_clock,
    )
    ratelimit.hit_request(
        request,
        session,
        f"exchange:{caller.key_id}",
        limit=rt.settings.caller_rate_per_minute,
        window_s=60,
    )
    return caller


CallerDep = Annotated[Caller, Depends(require_caller)]
NodeAnyClockDep = Annotated[Caller, Depends(require_node_any_clock)]


def require_connector(caller: CallerDep) -> Caller:
    if caller.kind != "connector":
        raise ConnectorNotActive(caller.key_id, "a node, not a connector")
    return caller


ConnectorDep = Annotated[Caller, Depends(require_connector)]
