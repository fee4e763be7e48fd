"""CKAN Action API at /api/3/action/<name> (and /api/action/<name>, where `ckanapi` calls).

Parameters come as query parameters (GET) or a JSON or form body (POST), as in CKAN. Every
answer, errors included, is CKAN's envelope and carries the X-RateLimit headers.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool

from exchange.core.errors import HubError
from exchange.core.ratelimit import RateState
from exchange.platforms.open_data import ckan, web
from exchange.platforms.open_data.ckan_params import CkanError, Context, from_hub_error
from exchange.platforms.open_data.routes.portal import base_url

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
    help_url = f"{base_url(request)}/api/3/action/help_show?name={action}"
    state: RateState | None = getattr(request.state, "rate", None)
    sent = {**(state.headers() if state else {}), **(headers or {})}
    return JSONResponse({"help": help_url, **body}, status_code=status, headers=sent)


def _run(request: Request, action: str, params: dict[str, Any]) -> Any:
    rt = request.app.state.runtime
    with rt.sessions() as session:
        try:
            web.limit(request, session, "api", durable=False)
            session.commit()  # the count stands even if the action then fails
            ctx = Context(session, rt.schemas, base_url(request), request.state.api_key_id)
            return ckan.call(ctx, action, params)
        finally:
            session.rollback()


SUMMARY = (
    "CKAN Action API: package_list, package_search, package_show, organization_list, "
    "organization_show, tag_list, datastore_search, status_show, help_show"
)


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


@router.get("/api/3/action/{action}", summary=SUMMARY, operation_id="ckan_action_get")
@router.get("/api/action/{action}", include_in_schema=False)
async def action_get(request: Request, action: str) -> JSONResponse:
    return await _action(request, action)


@router.post("/api/3/action/{action}", summary=SUMMARY, operation_id="ckan_action_post")
@router.post("/api/action/{action}", include_in_schema=False)
async def action_post(request: Request, action: str) -> JSONResponse:
    return await _action(request, action)
