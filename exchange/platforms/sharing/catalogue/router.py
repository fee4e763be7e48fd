"""Routes: cataloguing (编目) by a provider department, review and publication by the bureau.

Body of a draft: the resource's Table Schema descriptor, in the format of `schemas/*.json`
(name, fields, primaryKey, catalog); the node fills in the provider and the resource code.
Drafts are seen by their department and the bureau; published entries by every caller.
"""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request

from exchange.catalogue import service
from exchange.catalogue.errors import CatalogueEntryNotFound
from exchange.catalogue.models import CatalogueResource, CatalogueVersion, Status
from exchange.core.db import BIGINT_MAX
from exchange.core.deps import DbSession
from exchange.platforms.sharing.access.principal import Principal
from exchange.platforms.sharing.catalogue.schemas import (
    CatalogueResourcePage,
    CatalogueResourceRead,
    Decision,
    EventRead,
    Reasons,
    SourceFlagRead,
    VersionRead,
    Withdrawal,
)
from exchange.platforms.sharing.deps import AuthFirstRoute, DepartmentActive, GovernmentCaller

router = APIRouter(route_class=AuthFirstRoute, tags=["catalogue"], prefix="/catalogue")
Descriptor = Annotated[dict[str, Any], Body(description="Table Schema + catalog, as schemas/")]


def _ctx(request: Request) -> service.Context:
    rt = request.app.state.runtime
    return service.Context.of(rt.settings, rt.schemas)


def _actor(request: Request, who: Principal) -> service.Actor:
    bureau = request.app.state.runtime.settings.sharing.catalogue_bureau
    return service.Actor(
        name=who.actor,
        department_id=who.department_id,
        department_code=who.department_code,
        bureau=who.department_code == bureau,
    )


def _read(session: DbSession, r: CatalogueResource, flags: bool = False) -> CatalogueResourceRead:
    found = service.source_flags(session, r.code) if flags else []
    return CatalogueResourceRead(
        code=r.code,
        identifier=r.identifier,
        status=r.status,
        review_state=service.review_state(r),
        builtin=r.builtin,
        provider_id=r.provider_id,
        current_version=r.current_version,
        draft=r.draft,
        created_by=r.created_by,
        submitted_by=r.submitted_by,
        created_at=r.created_at,
        updated_at=r.updated_at,
        source_flags=[SourceFlagRead(**f.as_dict()) for f in found],
    )


def _visible(request: Request, who: Principal, r: CatalogueResource) -> bool:
    """A resource never published is its department's and the bureau's business only."""
    if r.current_version is not None:
        return True
    return who.department_id == r.provider_id or _actor(request, who).bureau


def _version(code: str, v: CatalogueVersion) -> VersionRead:
    return VersionRead(
        code=code,
        number=v.number,
        descriptor=v.descriptor,
        published_at=v.published_at,
        published_by=v.published_by,
        previous_until=v.previous_until,
    )


@router.get("", response_model=CatalogueResourcePage, summary="Catalogued resources")
def list_resources(
    request: Request,
    who: GovernmentCaller,
    session: DbSession,
    status: Status | None = None,
    provider: Annotated[str | None, Query(max_length=32)] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=BIGINT_MAX)] = 0,
) -> CatalogueResourcePage:
    total, rows = service.listing(
        session,
        status=status.value if status else None,
        provider=provider,
        node_code=request.app.state.runtime.settings.node_code,
        limit=limit,
        offset=offset,
    )
    shown = [r for r in rows if _visible(request, who, r)]
    return CatalogueResourcePage(
        total=total - (len(rows) - len(shown)), items=[_read(session, r) for r in shown]
    )


@router.post("", response_model=CatalogueResourceRead, status_code=201, summary="New draft")
def create_draft(
    request: Request, who: DepartmentActive, session: DbSession, descriptor: Descriptor
) -> CatalogueResourceRead:
    r = service.create(session, _ctx(request), _actor(request, who), descriptor)
    return _read(session, r)


def _get_visible(
    request: Request, who: Principal, session: DbSession, code: str
) -> CatalogueResource:
    r = service.get(session, code)
    if not _visible(request, who, r):
        raise CatalogueEntryNotFound(code)
    return r


@router.get("/{code}", response_model=CatalogueResourceRead, summary="One catalogued resource")
def get_resource(
    request: Request, code: str, who: GovernmentCaller, session: DbSession
) -> CatalogueResourceRead:
    return _read(session, _get_visible(request, who, session, code), flags=True)


@router.put("/{code}", response_model=CatalogueResourceRead, summary="Edit a draft")
def edit_draft(
    request: Request, code: str, who: DepartmentActive, session: DbSession, descriptor: Descriptor
) -> CatalogueResourceRead:
    r = service.update(session, _ctx(request), _actor(request, who), code, descriptor)
    return _read(session, r)


@router.delete("/{code}", status_code=204, summary="Delete a draft never published")
def delete_draft(request: Request, code: str, who: DepartmentActive, session: DbSession) -> None:
    service.delete(session, _ctx(request), _actor(request, who), code)


@router.post("/{code}/submit", response_model=CatalogueResourceRead, summary="Submit for review")
def submit(
    request: Request, code: str, who: DepartmentActive, session: DbSession
) -> CatalogueResourceRead:
    return _read(session, service.submit(session, _ctx(request), _actor(request, who), code))


@router.post("/{code}/approve", response_model=CatalogueResourceRead, summary="Approve (bureau)")
def approve(
    request: Request, code: str, who: DepartmentActive, session: DbSession, body: Decision
) -> CatalogueResourceRead:
    r = service.approve(
        session,
        _ctx(request),
        _actor(request, who),
        code,
        decisions=body.decisions,
        note=body.note,
    )
    return _read(session, r)


@router.post(
    "/{code}/return", response_model=CatalogueResourceRead, summary="Send back with reasons"
)
def send_back(
    request: Request, code: str, who: DepartmentActive, session: DbSession, body: Reasons
) -> CatalogueResourceRead:
    r = service.send_back(session, _ctx(request), _actor(request, who), code, body.reasons)
    return _read(session, r)


@router.post("/{code}/publish", response_model=VersionRead, summary="Publish (bureau)")
def publish(request: Request, code: str, who: DepartmentActive, session: DbSession) -> VersionRead:
    v = service.publish(session, _ctx(request), _actor(request, who), code)
    return _version(code, v)


@router.post("/{code}/withdraw", response_model=CatalogueResourceRead, summary="Withdraw (停用)")
def withdraw(
    request: Request, code: str, who: DepartmentActive, session: DbSession, body: Withdrawal
) -> CatalogueResourceRead:
    r = service.withdraw(session, _ctx(request), _actor(request, who), code, body.reason)
    return _read(session, r)


@router.get("/{code}/versions", response_model=list[VersionRead], summary="Every version")
def list_versions(
    request: Request, code: str, who: GovernmentCaller, session: DbSession
) -> list[VersionRead]:
    r = _get_visible(request, who, session, code)
    return [_version(r.code, v) for v in service.versions(session, r.code)]


@router.get("/{code}/versions/{number}", response_model=VersionRead, summary="One version")
def get_version(
    request: Request, code: str, number: int, who: GovernmentCaller, session: DbSession
) -> VersionRead:
    r = _get_visible(request, who, session, code)
    return _version(r.code, service.version(session, r.code, number))


@router.get("/{code}/events", response_model=list[EventRead], summary="Every step, who and why")
def list_events(
    request: Request, code: str, who: GovernmentCaller, session: DbSession
) -> list[EventRead]:
    r = _get_visible(request, who, session, code)
    return [
        EventRead(
            at=e.at,
            actor=e.actor,
            action=e.action,
            reason=e.reason,
            version=e.version,
            detail=e.detail,
        )
        for e in service.events(session, r.code)
    ]
