"""Routes: disputes (异议/纠错) about shared records: raise, list, read, reject; counts."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from fastapi import APIRouter, Query

from exchange.core.deps import DbSession
from exchange.platforms.sharing.deps import AuthFirstRoute, DepartmentActive, EnvDep, Overseer
from exchange.platforms.sharing.disputes import service as disputes
from exchange.platforms.sharing.disputes.schemas import (
    DisputeCounts,
    DisputeCreate,
    DisputePage,
    DisputeRead,
    DisputeRejection,
)

router = APIRouter(route_class=AuthFirstRoute, tags=["sharing: disputes (异议/纠错)"])


@router.post(
    "/disputes",
    response_model=DisputeRead,
    status_code=201,
    summary="Say a record (or a field of it) you read through a grant is wrong, with evidence",
)
def raise_dispute(
    body: DisputeCreate, who: DepartmentActive, session: DbSession, env: EnvDep
) -> DisputeRead:
    return disputes.view(disputes.raise_dispute(session, env.schemas, who, body, "api"))


@router.get("/disputes", response_model=DisputePage, summary="Disputes raised by or against me")
def list_disputes(
    who: Overseer,
    session: DbSession,
    env: EnvDep,
    status: Literal["open", "fixed", "rejected"] | None = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 100,
) -> DisputePage:
    found = disputes.listed(session, env.schemas, who, status=status, limit=limit)
    return DisputePage(items=[disputes.view(d, who, env.schemas) for d in found])


@router.get("/disputes/counts", response_model=list[DisputeCounts], summary="Per department")
def dispute_counts(who: Overseer, session: DbSession) -> list[DisputeCounts]:
    return disputes.counts(session)


@router.get("/disputes/{dispute_id}", response_model=DisputeRead)
def get_dispute(
    dispute_id: uuid.UUID, who: Overseer, session: DbSession, env: EnvDep
) -> DisputeRead:
    return disputes.view(disputes.visible(session, env.schemas, who, dispute_id), who, env.schemas)


@router.post(
    "/disputes/{dispute_id}/reject",
    response_model=DisputeRead,
    summary="The provider rejects the dispute, with its reasons (to fix: send a batch)",
)
def reject_dispute(
    dispute_id: uuid.UUID,
    body: DisputeRejection,
    who: DepartmentActive,
    session: DbSession,
    env: EnvDep,
) -> DisputeRead:
    return disputes.view(disputes.reject(session, env.schemas, who, dispute_id, body.reason))
