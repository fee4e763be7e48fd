"""Calls across levels at the edge: a department's read at its own node for another node's
resource (`X-Provider-Node`), relayed one signed hop at a time; the node-to-node routes that
pass it on or serve it; the trace of a request along the whole path.

Each hop writes its audit entry and its four timestamps before its answer goes back. No
transaction is open while a neighbour is called.
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Iterable
from typing import Annotated, Any, TypeVar

import anyio.to_thread
from fastapi import APIRouter, Header, Path, Request
from fastapi.responses import JSONResponse
from pydantic import ValidationError
from sqlalchemy.orm import Session

from exchange.core import divisions, ports
from exchange.core.context import caller_request_id_var, request_id_var
from exchange.core.db import session_scope, utcnow
from exchange.core.deps import DbSession, commit_so_far, get_runtime
from exchange.core.errors import HubError, error_body
from exchange.core.signing import EMPTY_SHA256
from exchange.platforms.sharing.access.principal import Principal
from exchange.platforms.sharing.applications.schemas import ApplicationCreate
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.deps import (
    Auditor,
    AuthFirstRoute,
    Department,
    GovernmentCaller,
    env_of,
    run_read,
)
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.errors import RecordNotFound
from exchange.platforms.sharing.records.service import PageResult, RecordResult
from exchange.platforms.sharing.vertical import applying, client, federation, routing
from exchange.platforms.sharing.vertical import repository as repo
from exchange.platforms.sharing.vertical import service as vertical
from exchange.platforms.sharing.vertical.errors import (
    BadRelayBody,
    BodyNotSigned,
    HopUnreachable,
    ProviderIsThisNode,
    UnknownProviderNode,
)
from exchange.platforms.sharing.vertical.schemas import (
    Action,
    FederatedEntryRead,
    FederatedList,
    HopRead,
    RelayedCaller,
    RelayedRead,
    RemoteGrantRead,
    SignedDecision,
    TraceRead,
)

router = APIRouter(route_class=AuthFirstRoute, tags=["sharing: across levels"])
T = TypeVar("T")
MAX_RELAY_BODY = 64 * 1024
PROVIDER_HEADER = "x-provider-node"
NODE_CODE = r"^[0-9]{12}$"
# The provider named by an origin call, declared so the OpenAPI says what a node code is.
ProviderHeader = Annotated[str, Header(alias="X-Provider-Node", pattern=NODE_CODE)]


async def _in_thread(env: SharingEnv, fn: Callable[[Session], T]) -> T:
    def work() -> T:
        session = env.read_sessions()
        try:
            out = fn(session)
            session.commit()
            return out
        finally:
            session.close()

    return await anyio.to_thread.run_sync(work)


async def _tx(request: Request, fn: Callable[[Session], T]) -> T:
    """`fn` in a worker thread, in one transaction of the node's own sessions (one commit,
    where the read sessions would commit each statement on its own)."""
    sessions = get_runtime(request).sessions

    def work() -> T:
        with session_scope(sessions) as session:
            return fn(session)

    return await anyio.to_thread.run_sync(work)


def _http(request: Request) -> Any:
    state = request.app.state
    if getattr(state, "vertical_http", None) is None:
        import httpx

        limits = httpx.Limits(max_connections=128, max_keepalive_connections=64)
        state.vertical_http = httpx.AsyncClient(limits=limits)
    return state.vertical_http


def _neighbours(request: Request) -> dict[str, str]:
    settings = get_runtime(request).settings
    out = {c.code: c.url for c in settings.children}
    if settings.parent is not None:
        out[settings.parent.code] = settings.parent.url
    return out


def _rows(payload: dict[str, Any]) -> int:
    if isinstance(payload.get("items"), list):
        return len(payload["items"])
    return 1 if payload.get("record") else 0


async def relay_read(
    request: Request,
    ctx: ReadContext,
    *,
    action: Action,
    code: str,
    key: str | None = None,
    fields: str = "",
    params: Iterable[tuple[str, str]] = (),
    cursor: str | None = None,
    limit: int = 100,
) -> JSONResponse | None:
    """A read for another node's resource, sent on towards it; None: the resource is this
    node's (no `X-Provider-Node`, or this node's own code)."""
    provider = request.headers.get(PROVIDER_HEADER)
    env = env_of(request)
    if not provider or provider == env.node_code:
        return None
    request_in = utcnow()
    if divisions.get(provider) is None:
        raise BadRelayBody(f"X-Provider-Node {provider[:20]!r} is not a division code")
    who = ctx.principal
    body = RelayedRead(
        request_id=ctx.request_id or uuid.uuid4().hex,
        nonce=uuid.uuid4().hex,
        origin=env.node_code,
        provider=provider,
        caller=RelayedCaller(actor=who.actor, department=who.department_code or ""),
        purpose=ctx.purpose,
        case_number=ctx.case_number,
        action=action,
        resource=code,
        key=key,
        fields=fields,
        params=[p for p in params if p[0] not in ("fields", "cursor", "limit")],
        cursor=cursor,
        limit=limit,
        budget_ms=int(env.settings.relay_timeout_s * 1000),
    )
    upstream = who.department_path or who.actor
    return await _pass_on(request, env, ctx, body, "origin", upstream, request_in)


async def _pass_on(
    request: Request,
    env: SharingEnv,
    ctx: ReadContext,
    body: RelayedRead,
    role: str,
    upstream: str,
    request_in: Any,
) -> JSONResponse:
    status, payload, headers = await _relay(request, env, ctx, body, role, upstream, request_in)
    return JSONResponse(payload, status_code=status, headers=headers)


async def _relay(
    request: Request,
    env: SharingEnv,
    ctx: ReadContext,
    body: RelayedRead,
    role: str,
    upstream: str,
    request_in: Any,
    then: Callable[[Session, int, dict[str, Any]], None] | None = None,
) -> tuple[int, dict[str, Any], dict[str, str]]:
    """Send the call one hop on; write this hop down (and run `then` in the same
    transaction) before the answer goes back."""
    me = env.node_code
    hop = routing.next_hop(me, body.provider)
    budget = body.budget_ms / 1000
    # The next hop gets less time than this one waits, so the hop nearest the fault is the
    # one that reports it (and names its neighbour).
    onward = body.model_copy(
        update={"nonce": uuid.uuid4().hex, "budget_ms": max(1, int(budget * 800))}
    )
    headers: dict[str, str] = {}
    request_out = utcnow()
    try:
        url = _neighbours(request).get(hop or "")
        if hop is None or url is None:
            raise HopUnreachable(me, hop or body.provider, "not configured as a neighbour")
        answer = await client.forward(
            _http(request), me=me, keys=env.keys, hop=hop, url=url, body=onward, wait_s=budget
        )
        status, payload, headers = answer.status, answer.body, answer.headers
        ok = status in (200, 201)
        outcome = "ok" if ok else str(payload.get("error", f"http_{status}"))[:40]
    except HubError as exc:
        status, payload, outcome = exc.status_code, error_body(exc.code, exc.detail), exc.code
    step = vertical.Hop(
        body.request_id, role, upstream, hop, body.provider, body.resource, body.action,
        request_in, request_out, utcnow(), status, outcome,
    )  # fmt: skip
    keys = [body.key] if body.key else []
    department = body.caller.department

    def write(session: Session) -> None:
        vertical.write_down(session, env, ctx, step, keys=keys, rows=_rows(payload))
        if role == "origin" and body.action in ("record", "records"):
            applying.note_refusal(session, body.provider, body.resource, department, outcome)
        if then is not None:
            then(session, status, payload)

    await _tx(request, write)  # the audit entry and the hop: one transaction, one commit
    headers.update({"X-Provider-Node": body.provider, "Cache-Control": "no-store"})
    return status, payload, headers


async def _body(request: Request) -> bytes:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_RELAY_BODY:
        raise BadRelayBody(f"the body is over {MAX_RELAY_BODY} bytes")
    raw = bytearray()
    async for chunk in request.stream():
        raw += chunk
        if len(raw) > MAX_RELAY_BODY:
            raise BadRelayBody(f"the body is over {MAX_RELAY_BODY} bytes")
    return bytes(raw)


def _authenticate(session: Session, request: Request, env: SharingEnv, digest: str) -> str:
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    return ports.node_authentication()(
        session, me=env.node_code, authorization=request.headers.get("authorization"),
        method=request.method, target=target, content_sha256=digest,
    )  # fmt: skip


async def _refused(env: SharingEnv, exc: HubError) -> None:
    """A node-to-node call without a valid signature: audited as anonymous."""
    refusal = env.audit.anonymous(
        channel="relay", action="relay", resource=None, outcome=exc.code,
        request_id=None, caller_request_id=None,
    )  # fmt: skip
    await _in_thread(env, lambda s: env.audit.append(s, refusal))


async def _signed_body(request: Request, env: SharingEnv) -> tuple[str, bytes]:
    """The neighbour that signed this call, and the body its signature covers."""
    raw = await _body(request)
    digest = request.headers.get("x-content-sha256", EMPTY_SHA256).lower()
    try:
        signer = await _in_thread(env, lambda s: _authenticate(s, request, env, digest))
    except HubError as exc:
        await _refused(env, exc)
        raise
    if hashlib.sha256(raw).hexdigest() != digest:
        raise BodyNotSigned()
    return signer, raw


@router.post(
    "/vertical/read",
    summary="(node to node) A read of a department of another level, one hop on its way",
)
async def relayed_read(request: Request) -> JSONResponse:
    request_in = utcnow()
    env = env_of(request)
    raw = await _body(request)
    digest = request.headers.get("x-content-sha256", EMPTY_SHA256).lower()

    def admit(session: Session) -> tuple[str, RelayedRead, ReadContext]:
        """Who signed, what they sent, that it is new and comes the right way: one
        transaction, so that a refused call leaves no nonce behind."""
        signer = _authenticate(session, request, env, digest)
        if hashlib.sha256(raw).hexdigest() != digest:
            raise BodyNotSigned()
        try:
            body = RelayedRead.model_validate_json(raw)
        except ValidationError as exc:
            raise BadRelayBody(str(exc.errors(include_url=False)[:3])) from None
        vertical.admit(session, me=env.node_code, signer=signer, body=body)
        return signer, body, vertical.relayed_context(session, env, body, signer)

    try:
        signer, body, ctx = await _tx(request, admit)
    except HubError as exc:
        if exc.status_code == 401:
            await _refused(env, exc)
        raise
    if body.provider != env.node_code:
        return await _pass_on(request, env, ctx, body, "relay", signer, request_in)
    return await _provide(request, env, ctx, body, signer, request_in)


async def _provide(
    request: Request,
    env: SharingEnv,
    ctx: ReadContext,
    body: RelayedRead,
    signer: str,
    request_in: Any,
) -> JSONResponse:
    request_out = utcnow()
    headers: dict[str, str] = {}
    if body.action in ("apply", "status"):
        return await _decide(request, env, body, signer, request_in)
    try:
        result = await run_read(request, ctx, body.action, body.resource, vertical.provide, body)
        status, payload = _answer(result)
        headers = result.quota.headers()
        outcome = "ok" if status == 200 else str(payload["error"])
    except HubError as exc:
        status, payload, outcome = exc.status_code, error_body(exc.code, exc.detail), exc.code
        headers = dict(exc.headers or {})
    step = vertical.Hop(
        body.request_id, "provider", signer, None, env.node_code, body.resource, body.action,
        request_in, request_out, utcnow(), status, outcome,
    )  # fmt: skip
    # The read wrote its own audit entry (or its refusal's): only the hop is added here.
    # The hop's times only (the read audited itself): monitoring data, committed lazily.
    await _tx(request, lambda s: vertical.write_down(s, env, None, step, keys=[], rows=0))
    headers["Cache-Control"] = "no-store"
    return JSONResponse(payload, status_code=status, headers=headers)


async def _decide(
    request: Request, env: SharingEnv, body: RelayedRead, signer: str, request_in: Any
) -> JSONResponse:
    """An application (or a question about one) at the provider: written in one transaction."""
    request_out = utcnow()
    sessions = get_runtime(request).sessions

    def work() -> tuple[int, dict[str, Any]]:
        with session_scope(sessions) as session:
            status, decision = applying.decide_here(session, env, env.keys, body, signer)
            return status, decision.model_dump(mode="json")

    try:
        status, payload = await anyio.to_thread.run_sync(work)
        outcome = "ok"
    except HubError as exc:
        status, payload, outcome = exc.status_code, error_body(exc.code, exc.detail), exc.code
    step = vertical.Hop(
        body.request_id, "provider", signer, None, env.node_code, body.resource, body.action,
        request_in, request_out, utcnow(), status, outcome,
    )  # fmt: skip
    # The hop's times only (the read audited itself): monitoring data, committed lazily.
    await _tx(request, lambda s: vertical.write_down(s, env, None, step, keys=[], rows=0))
    return JSONResponse(payload, status_code=status, headers={"Cache-Control": "no-store"})


def _answer(result: RecordResult | PageResult) -> tuple[int, dict[str, Any]]:
    if isinstance(result, RecordResult):
        if result.record is None:
            miss = RecordNotFound(result.resource, result.key)
            return 404, error_body(miss.code, miss.detail)
        return 200, {
            "resource": result.resource,
            "key": result.key,
            "grant_id": str(result.grant_id),
            "record": result.record,
            "masked_fields": result.masked,
        }
    return 200, {
        "resource": result.resource,
        "grant_id": str(result.grant_id),
        "items": result.items,
        "next_cursor": result.next_cursor,
        "masked_fields": result.masked,
    }


def _trace(
    request: Request, env: SharingEnv, request_id: str, hops: list[HopRead], upstream: str | None
) -> TraceRead:
    """This node's hops of a request (those `upstream` sent here, if given), followed by the
    next hop's account of its part, and so on to the provider."""
    me, neighbours = env.node_code, _neighbours(request)
    if not hops:
        held = f" from {upstream}" if upstream else ""
        return TraceRead(
            request_id=request_id, hops=[], complete=False,
            problems=[f"node {me} holds no record of request {request_id}{held}"],
        )  # fmt: skip
    out, problems, complete = list(hops), [], True
    for hop in hops:
        if hop.downstream is None:
            continue
        url = neighbours.get(hop.downstream)
        try:
            if url is None:
                raise RuntimeError("not configured as a neighbour")
            sub = client.fetch_trace(me, env.keys, url, request_id)
        except Exception as exc:  # a neighbour down must not hide this node's own account
            problems.append(f"node {hop.downstream} did not answer for its part: {exc}")
            complete = False
            continue
        out += sub.hops
        problems += sub.problems
        complete = complete and sub.complete
    return TraceRead(request_id=request_id, hops=out, complete=complete, problems=problems)


@router.get(
    "/audit/trace/{request_id}",
    response_model=TraceRead,
    summary="The whole path of a call across levels: each hop's four timestamps and audit",
)
def trace(request_id: str, who: Auditor, session: DbSession, request: Request) -> TraceRead:
    env = env_of(request)
    rid = request_id[:128]
    hops = vertical.local_hops(session, env.node_code, rid)
    commit_so_far(request, session)  # no transaction (on SQLite: no write lock) while we ask
    return _trace(request, env, rid, hops, None)


@router.get(
    "/vertical/trace/{request_id}",
    response_model=TraceRead,
    summary="(node to node) This node's part of a request the calling neighbour sent here",
)
async def hop_trace(request_id: str, request: Request) -> TraceRead:
    env = env_of(request)
    signer, _ = await _signed_body(request, env)
    rid = request_id[:128]
    hops = await _in_thread(env, lambda s: vertical.local_hops(s, env.node_code, rid, signer))
    return await anyio.to_thread.run_sync(_trace, request, env, rid, hops, signer)


@router.get(
    "/vertical/catalog",
    response_model=FederatedList,
    summary="(node to node) What this node and the nodes behind it share with other levels",
)
async def neighbour_catalog(request: Request) -> FederatedList:
    env = env_of(request)
    signer, _ = await _signed_body(request, env)
    return await _in_thread(
        env, lambda s: federation.listing_for(s, env.node_code, env.schemas, signer)
    )


@router.get(
    "/federation/catalog",
    response_model=FederatedList,
    summary="The federated catalogue: other levels' resources shared with this node's level, "
    "each with its providing node (call them with X-Provider-Node)",
)
def federated_catalog(who: GovernmentCaller, session: DbSession, request: Request) -> FederatedList:
    env = env_of(request)
    entries = [
        FederatedEntryRead.model_validate(e) for e in federation.visible(session, env.node_code)
    ]
    return FederatedList(node=env.node_code, entries=entries)


def _origin_call(
    request: Request, who: Principal, provider: str | None, **kw: Any
) -> tuple[SharingEnv, ReadContext, RelayedRead]:
    env = env_of(request)
    if not provider or not (provider.isascii() and provider.isdigit() and len(provider) == 12):
        raise BadRelayBody("name another node's 12-digit code in X-Provider-Node")
    if provider == env.node_code:
        raise ProviderIsThisNode(provider)
    if divisions.get(provider) is None:
        raise UnknownProviderNode(provider)
    ctx = ReadContext(who, "api", None, None, request_id_var.get(), caller_request_id_var.get())
    body = RelayedRead(
        request_id=ctx.request_id or uuid.uuid4().hex,
        nonce=uuid.uuid4().hex,
        origin=env.node_code,
        provider=provider,
        caller=RelayedCaller(actor=who.actor, department=who.department_code or ""),
        budget_ms=int(env.settings.relay_timeout_s * 1000),
        **kw,
    )
    return env, ctx, body


def _keep(department: str) -> Callable[[Session, int, dict[str, Any]], None]:
    def then(session: Session, status: int, payload: dict[str, Any]) -> None:
        if status in (200, 201):
            applying.keep_copy(session, SignedDecision.model_validate(payload), department)

    return then


async def _application_call(
    request: Request, who: Principal, provider: str, **kw: Any
) -> JSONResponse:
    """An application across levels, sent or asked after: relayed to the provider's node, its
    signed answer kept here as the department's copy."""
    request_in = utcnow()
    env, ctx, call = _origin_call(request, who, provider, **kw)
    upstream = who.department_path or who.actor
    status, payload, headers = await _relay(
        request, env, ctx, call, "origin", upstream, request_in, _keep(who.department_code or "")
    )
    return JSONResponse(payload, status_code=status, headers=headers)


@router.post(
    "/vertical/applications",
    status_code=201,
    summary="Apply for another level's resource (X-Provider-Node): sent level by level to the "
    "provider's node, decided there; this node keeps the provider's signed answer",
)
async def apply_across_levels(
    body: ApplicationCreate, who: Department, request: Request, provider: ProviderHeader
) -> JSONResponse:
    return await _application_call(
        request, who, provider, action="apply", resource=body.resource, application=body
    )


@router.post(
    "/vertical/applications/{provider}/{application_id}/refresh",
    summary="Ask the provider's node how an application across levels stands; update the copy",
)
async def refresh_application(
    provider: Annotated[str, Path(pattern=NODE_CODE)],
    application_id: uuid.UUID,
    who: Department,
    request: Request,
) -> JSONResponse:
    return await _application_call(
        request, who, provider, action="status", resource="-", application_id=application_id
    )


@router.get(
    "/vertical/grants",
    response_model=list[RemoteGrantRead],
    summary="My department's signed copies of grants held at other levels' nodes",
)
async def remote_grants(who: Department, request: Request) -> list[RemoteGrantRead]:
    env = env_of(request)
    dept = who.department_code or ""
    return await _in_thread(
        env, lambda s: [RemoteGrantRead.model_validate(c) for c in repo.copies(s, dept)]
    )
