"""Routes: applications (apply, review, approve, reject) and grants (list, renew, revoke)."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal
from urllib.parse import quote

from fastapi import APIRouter, Depends, Query
from fastapi.responses import Response

from exchange.core.db import BIGINT_MAX, utcnow
from exchange.core.deps import DbSession
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.applications import service as applications
from exchange.platforms.sharing.applications.schemas import (
    ApplicationCreate,
    ApplicationPage,
    ApplicationRead,
    Approval,
    Rejection,
)
from exchange.platforms.sharing.applications.views import application_read, grant_read
from exchange.platforms.sharing.deps import (
    AuthFirstRoute,
    DepartmentActive,
    EnvDep,
    Overseer,
    require_active,
)
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.grants import service as grants
from exchange.platforms.sharing.grants.schemas import GrantPage, GrantRead, Renewal, Revocation

router = APIRouter(route_class=AuthFirstRoute, tags=["sharing: applications and grants"])
Limit = Annotated[int, Query(ge=1, le=500)]
Offset = Annotated[int, Query(ge=0, le=BIGINT_MAX)]
# An attachment may hold personal documents: not for operators.
AttachmentReader = Annotated[
    Principal, Depends(require_active(Role.department, Role.admin, Role.auditor))
]
GrantRevoker = Annotated[Principal, Depends(require_active(Role.department, Role.admin))]


def _ctx(env: SharingEnv) -> applications.Context:
    return applications.Context(env.settings, env.schemas, env.store)


def _read(session: DbSession, app_id: uuid.UUID) -> ApplicationRead:
    app, grant_id = applications.read_back(session, app_id)
    return application_read(app, grant_id, utcnow())


@router.post(
    "/applications",
    response_model=ApplicationRead,
    status_code=201,
    summary="Apply for a resource (无条件: granted at once; 有条件: reviewed by the provider)",
)
def apply(
    body: ApplicationCreate, who: DepartmentActive, session: DbSession, env: EnvDep
) -> ApplicationRead:
    app = applications.apply(session, _ctx(env), who, body)
    return _read(session, app.id)


@router.get("/applications", response_model=ApplicationPage, summary="Applications I can see")
def list_applications(
    who: Overseer,
    session: DbSession,
    side: Literal["applicant", "provider"] | None = None,
    status: Literal["submitted", "in_review", "approved", "rejected"] | None = None,
    overdue: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> ApplicationPage:
    rows = applications.listed(
        session, who, side=side, status=status, overdue_only=overdue, limit=limit, offset=offset
    )
    now = utcnow()
    return ApplicationPage(items=[application_read(a, g, now) for a, g in rows])


@router.get("/applications/{application_id}", response_model=ApplicationRead)
def get_application(
    application_id: uuid.UUID, who: Overseer, session: DbSession
) -> ApplicationRead:
    applications.visible(session, who, application_id)
    return _read(session, application_id)


@router.get("/applications/{application_id}/attachment", summary="The application's attachment")
def get_attachment(
    application_id: uuid.UUID, who: AttachmentReader, session: DbSession, env: EnvDep
) -> Response:
    meta, data = applications.attachment(session, _ctx(env), who, application_id)
    return Response(
        data,
        media_type=str(meta["content_type"]),
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(str(meta['filename']))}",
            "X-Content-SHA256": str(meta["sha256"]),
            "X-Content-Type-Options": "nosniff",
        },
    )


@router.post("/applications/{application_id}/acknowledge", response_model=ApplicationRead)
def acknowledge(
    application_id: uuid.UUID, who: DepartmentActive, session: DbSession
) -> ApplicationRead:
    applications.acknowledge(session, who, application_id)
    return _read(session, application_id)


@router.post(
    "/applications/{application_id}/approve",
    response_model=ApplicationRead,
    summary="Approve, possibly with fewer fields, fewer plain fields or a shorter period",
)
def approve(
    application_id: uuid.UUID,
    body: Approval,
    who: DepartmentActive,
    session: DbSession,
    env: EnvDep,
) -> ApplicationRead:
    applications.approve(session, _ctx(env), who, application_id, body)
    return _read(session, application_id)


@router.post(
    "/applications/{application_id}/reject",
    response_model=ApplicationRead,
    summary="Reject, with the mandatory reason",
)
def reject(
    application_id: uuid.UUID, body: Rejection, who: DepartmentActive, session: DbSession
) -> ApplicationRead:
    applications.reject(session, who, application_id, body.reason)
    return _read(session, application_id)


@router.get("/grants", response_model=GrantPage, summary="Grants I can see")
def list_grants(
    who: Overseer,
    session: DbSession,
    side: Literal["consumer", "provider"] | None = None,
    active: bool = False,
    limit: Limit = 50,
    offset: Offset = 0,
) -> GrantPage:
    found = grants.listed(session, who, side=side, active_only=active, limit=limit, offset=offset)
    now = utcnow()
    return GrantPage(items=[grant_read(g, now) for g in found])


@router.get("/grants/{grant_id}", response_model=GrantRead)
def get_grant(grant_id: uuid.UUID, who: Overseer, session: DbSession) -> GrantRead:
    return grant_read(grants.visible(session, who, grant_id), utcnow())


@router.post("/grants/{grant_id}/renew", response_model=GrantRead, summary="Extend a grant")
def renew(
    grant_id: uuid.UUID, body: Renewal, who: DepartmentActive, session: DbSession, env: EnvDep
) -> GrantRead:
    g = grants.renew(session, env.settings, who, grant_id, body.duration_days)
    env.grants.evict(g.consumer_id, g.resource_code)
    return grant_read(g, utcnow())


@router.post(
    "/grants/{grant_id}/revoke", response_model=GrantRead, summary="Revoke a grant, at once"
)
def revoke(
    grant_id: uuid.UUID, body: Revocation, who: GrantRevoker, session: DbSession, env: EnvDep
) -> GrantRead:
    return grant_read(grants.revoke(session, env.grants, who, grant_id, body.reason), utcnow())
