"""The exchange platform's HTTP edge: who is calling, proven by a request signature."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request

from exchange.core import ratelimit, wire
from exchange.core.deps import DbSession, RuntimeDep
from exchange.core.signing import EMPTY_SHA256
from exchange.platforms.exchange.auth import Caller, authenticate
from exchange.platforms.exchange.errors import ConnectorNotActive


def require_caller(request: Request, session: DbSession, rt: RuntimeDep) -> Caller:
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


def require_connector(caller: CallerDep) -> Caller:
    if caller.kind != "connector":
        raise ConnectorNotActive(caller.key_id, "a node, not a connector")
    return caller


ConnectorDep = Annotated[Caller, Depends(require_connector)]
