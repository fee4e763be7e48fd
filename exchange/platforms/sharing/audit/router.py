"""Routes for auditors (read the audit log, verify its chain), for providers (who read my
data), and the node-to-node calls that anchor a child's chain here (signed by the child
node's key). Nothing here changes the log."""

from __future__ import annotations

import hashlib
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, Query, Request
from pydantic import ValidationError
from starlette.concurrency import run_in_threadpool

from exchange.core import ports
from exchange.core.db import BIGINT_MAX
from exchange.core.deps import DbSession, RuntimeDep, commit_so_far
from exchange.core.signing import EMPTY_SHA256
from exchange.directory.keys import own_history
from exchange.platforms.sharing.audit import anchor
from exchange.platforms.sharing.audit import chain as audit_chain
from exchange.platforms.sharing.audit import client as anchoring
from exchange.platforms.sharing.audit.errors import (
    AnchorBodyTooLarge,
    BadHeads,
    NoParent,
    NotMyChild,
    ParentUnreachable,
)
from exchange.platforms.sharing.audit.schemas import (
    AnchorReceipt,
    AuditEntryRead,
    AuditPage,
    HeadsIn,
    HeldHeads,
)
from exchange.platforms.sharing.catalog import service as catalog
from exchange.platforms.sharing.deps import Auditor, AuthFirstRoute, DepartmentActive, EnvDep

router = APIRouter(route_class=AuthFirstRoute, tags=["sharing: audit"])


@router.get("/audit", response_model=AuditPage, summary="Audit entries in order")
def list_audit(
    who: Auditor,
    session: DbSession,
    after_id: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
    resource: Annotated[str | None, Query(max_length=64)] = None,
    department: Annotated[str | None, Query(max_length=64)] = None,
    outcome: Annotated[str | None, Query(max_length=40)] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    found = audit_chain.entries(
        session,
        after_id=after_id,
        limit=limit,
        resource=resource,
        department=department,
        outcome=outcome,
    )
    items = [AuditEntryRead.model_validate(e) for e in found]
    return AuditPage(items=items, next_after_id=items[-1].id if len(items) == limit else None)


@router.get(
    "/audit/reads",
    response_model=AuditPage,
    summary="Who read my department's data: the audit entries of a resource it provides",
)
def provider_reads(
    who: DepartmentActive,
    session: DbSession,
    resource: Annotated[str, Query(max_length=64)],
    after_id: Annotated[int, Query(ge=0)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> AuditPage:
    catalog.ensure_provider(session, who, resource)
    found = audit_chain.entries(
        session, after_id=after_id, limit=limit, resource=resource, department=None, outcome=None
    )
    items = [AuditEntryRead.model_validate(e) for e in found]
    return AuditPage(items=items, next_after_id=items[-1].id if len(items) == limit else None)


@router.get(
    "/audit/verify",
    response_model=audit_chain.AuditReport,
    summary="Check every seal and entry (edits, deletions, insertions, reordering), and with "
    "?against=parent the chain against the parent's countersigned copies",
)
def verify_audit(
    who: Auditor,
    request: Request,
    session: DbSession,
    env: EnvDep,
    rt: RuntimeDep,
    against: Annotated[
        Literal["parent"] | None,
        Query(
            description="parent: also compare the chain with the seal heads the parent node "
            "holds (fetched now); truncation and forks are reported by seal number"
        ),
    ] = None,
) -> audit_chain.AuditReport:
    held = None
    if against == "parent":
        if env.parent_code is None:
            raise NoParent(env.node_code)
        # No transaction of ours stays open while the parent is called (SQLite's one writer).
        commit_so_far(request, session)
        try:
            with anchoring.new_client() as http:
                held = anchoring.held_by_parent(rt, http)
        except anchoring.ParentUnavailable as exc:
            raise ParentUnreachable(str(exc)) from None
    node_keys = own_history(session, env.node_code, env.keys.current())
    report = audit_chain.verify(session, node_keys, env.audit)
    return anchor.check_anchors(
        session, report, me=env.node_code, parent=env.parent_code, held=held
    )


MAX_ANCHOR_BODY = 4 * 1024 * 1024


def child_node(request: Request, session: DbSession, env: EnvDep) -> str:
    """The child node that signed this call (the signature covers X-Content-SHA256, checked
    against the body before it is used): authenticated before any body is read."""
    target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    code = ports.node_authentication()(
        session,
        me=env.node_code,
        authorization=request.headers.get("authorization"),
        method=request.method,
        target=target,
        content_sha256=request.headers.get("x-content-sha256", EMPTY_SHA256).lower(),
    )
    return anchor.require_child(env.node_code, code)


ChildNode = Annotated[str, Depends(child_node)]


@router.post(
    "/audit/anchors",
    response_model=AnchorReceipt,
    summary="(node to node) A child's new seal heads: checked, kept and countersigned",
)
async def countersign_heads(
    request: Request, child: ChildNode, session: DbSession, env: EnvDep
) -> AnchorReceipt:
    declared = request.headers.get("content-length", "")
    if declared.isdigit() and int(declared) > MAX_ANCHOR_BODY:
        raise AnchorBodyTooLarge(MAX_ANCHOR_BODY)
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_ANCHOR_BODY:
            raise AnchorBodyTooLarge(MAX_ANCHOR_BODY)
    if hashlib.sha256(body).hexdigest() != request.headers.get("x-content-sha256", "").lower():
        raise BadHeads("the body does not match the signed X-Content-SHA256")
    try:
        heads = HeadsIn.model_validate_json(bytes(body)).heads
    except ValidationError as exc:
        raise BadHeads(str(exc.errors(include_url=False)[:3])) from None
    return await run_in_threadpool(anchor.countersign, session, env.keys.current(), child, heads)


@router.get(
    "/audit/anchors/{child}",
    response_model=HeldHeads,
    summary="(node to node) The seal heads of a child this node countersigned, in order",
)
def list_held_heads(
    child: str,
    caller: ChildNode,
    session: DbSession,
    after: Annotated[int, Query(ge=0, le=2**62)] = 0,
    limit: Annotated[int, Query(ge=1, le=1000)] = 1000,
) -> HeldHeads:
    if caller != child:
        raise NotMyChild(caller, child)
    heads = anchor.held_heads(session, child, after=after, limit=limit)
    return HeldHeads(
        child=child, heads=heads, next_after=heads[-1].seal_no if len(heads) == limit else None
    )
