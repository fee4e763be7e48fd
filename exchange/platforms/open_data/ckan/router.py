"""CKAN Action API at /api/3/action/<name> (and /api/action/<name>, where `ckanapi` calls).

Parameters come as query parameters (GET) or a JSON or form body (POST), as in CKAN. Every
answer, errors included, is CKAN's envelope and carries the X-RateLimit headers.
"""

from __future__ import annotations

import json
from collections.abc import Awaitable, Callable
from contextlib import contextmanager
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from exchange.core.errors import HubError
from exchange.core.ratelimit import RateState
from exchange.platforms.open_data import web
from exchange.platforms.open_data.ckan import service as ckan
from exchange.platforms.open_data.ckan.params import CkanError, Context, from_hub_error

router = APIRouter(tags=["open data: CKAN Action API"])


async def _params(request: Request) -> dict[str, Any]:
    params: dict[str, Any] = dict(request.query_params)
    if request.method == "POST":
        body = await request.body()
        kind = request.headers.get("content-type", "")
        if body and "application/json" in kind:
            try:
                data = json.loads(body)
            except (ValueError, UnicodeDecodeError):
                raise CkanError("Bad request - JSON Error: could not parse the body") from None
            if not isinstance(data, dict):
                raise CkanError("Bad request - JSON Error: the body must be a JSON object")
            params.update(data)
        elif body:
            params.update(dict(await request.form()))
    return params


def _envelope(
    request: Request,
    action: str,
    body: dict[str, Any],
    status: int,
    headers: dict[str, str] | None = None,
) -> JSONResponse:
    help_url = f"{web.base_url(request)}/api/3/action/help_show?name={action}"
    state: RateState | None = getattr(request.state, "rate", None)
    sent = {**(state.headers() if state else {}), **(headers or {})}
    return JSONResponse({"help": help_url, **body}, status_code=status, headers=sent)


def _run(request: Request, action: str, params: dict[str, Any]) -> Any:
    """Every action only reads, on the replica while it is fresh; the meter (the edge) counts
    the call on the primary, also when the action then fails."""
    rt = request.app.state.runtime
    with contextmanager(web.api_meter)(request), rt.reads.read_sessions()() as session:
        try:
            ctx = Context(session, rt.schemas, web.base_url(request), request.state.api_key_id)
            return ckan.call(ctx, action, params)
        finally:
            session.rollback()


async def _action(request: Request, action: str) -> JSONResponse:
    try:
        params = await _params(request)
        result = await run_in_threadpool(_run, request, action, params)
    except CkanError as exc:
        return _envelope(request, action, {"success": False, "error": exc.body()}, exc.status)
    except HubError as exc:
        err = from_hub_error(exc)
        body = {"success": False, "error": err.body()}
        return _envelope(request, action, body, err.status, exc.headers)
    return _envelope(request, action, {"success": True, "result": result}, 200)


def _endpoint(name: str) -> Callable[[Request], Awaitable[JSONResponse]]:
    async def endpoint(request: Request) -> JSONResponse:
        return await _action(request, name)

    return endpoint


# One documented route per action (GET and POST, as in CKAN), also under /api/action/ where
# `ckanapi` sends its calls; any other name gets CKAN's "Action name not known".
for _name, _fn in ckan.ACTIONS.items():
    _doc = (_fn.__doc__ or _name).strip().splitlines()[0]
    for _prefix, _shown in (("/api/3/action", True), ("/api/action", False)):
        for _method in ("GET", "POST"):
            router.add_api_route(
                f"{_prefix}/{_name}",
                _endpoint(_name),
                methods=[_method],
                summary=f"CKAN {_name}: {_doc}",
                operation_id=f"ckan_{_name}_{_method.lower()}" if _shown else None,
                include_in_schema=_shown,
            )


@router.api_route("/api/3/action/{action}", methods=["GET", "POST"], include_in_schema=False)
@router.api_route("/api/action/{action}", methods=["GET", "POST"], include_in_schema=False)
async def unknown_action(request: Request, action: str) -> JSONResponse:
    return await _action(request, action)
