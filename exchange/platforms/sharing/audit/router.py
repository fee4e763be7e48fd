"""Routes for auditors (read the audit log, verify its chain) and for providers (who read my
data). Nothing here changes anything."""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Query

from exchange.core.deps import DbSession
from exchange.directory.keys import own_history
from exchange.platforms.sharing.access.schemas import AuditEntryRead, AuditPage
from exchange.platforms.sharing.audit import chain as audit_chain
from exchange.platforms.sharing.catalog import service as catalog
from exchange.platforms.sharing.deps import Auditor, AuthFirstRoute, DepartmentActive, EnvDep

router = APIRouter(route_class=AuthFirstRoute, tags=["sharing: audit"])


@router.get("/audit", response_model=AuditPage, summary="Audit entries in order")
def list_audit(
    who: Auditor,
    session: DbSession,
    after_id: Annotated[int, Query(ge=0)] = 0,
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
    summary="Check every seal and entry: edits, deletions, insertions, reordering",
)
def verify_audit(who: Auditor, session: DbSession, env: EnvDep) -> audit_chain.AuditReport:
    node_keys = own_history(session, env.node_code, env.keys.current())
    return audit_chain.verify(session, node_keys, env.audit)
