from __future__ import annotations

import uuid
from typing import Any

from fastapi import APIRouter, Request, Response
from fastapi.responses import JSONResponse
from sqlalchemy.orm import Session
from starlette.concurrency import run_in_threadpool

from exchange.core import wire
from exchange.core.deps import DbSession, RuntimeDep, commit_so_far
from exchange.core.errors import HubError
from exchange.core.metrics import INTAKE_REFUSALS
from exchange.core.runtime import Runtime
from exchange.platforms.exchange.auth import Caller
from exchange.platforms.exchange.batches import service as batches
from exchange.platforms.exchange.batches.schemas import BatchRead
from exchange.platforms.exchange.deps import CallerDep
from exchange.platforms.exchange.errors import BatchTooLarge
from exchange.platforms.exchange.intake import service as intake
from exchange.platforms.exchange.intake.ingest import stream_to_store

router = APIRouter(tags=["exchange: batches"])


@router.put(
    "/batches/{batch_id}",
    response_model=BatchRead,
    summary="Push a batch (Arrow IPC stream); re-sending the same id returns the first receipt",
    responses={
        200: {"description": "replay of an accepted batch"},
        201: {"description": "accepted"},
        422: {"description": "quarantined by the quality gate (also on a replay)"},
    },
)
async def put_batch(
    batch_id: uuid.UUID, request: Request, caller: CallerDep, session: DbSession, rt: RuntimeDep
) -> Response:
    try:
        return await _put_batch(batch_id, request, caller, session, rt)
    except HubError as exc:
        INTAKE_REFUSALS.labels(exc.code).inc()  # refusals by reason, live in /metrics
        raise


async def _put_batch(
    batch_id: uuid.UUID, request: Request, caller: Caller, session: Session, rt: Runtime
) -> Response:
    headers = intake.parse_headers(request.headers)
    existing = await run_in_threadpool(intake.precheck, session, rt, caller, batch_id, headers)
    if existing is None:
        limit = rt.settings.max_batch_bytes
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise BatchTooLarge(limit)
        # No transaction stays open while the body streams in: on SQLite it would hold the
        # one write lock for the whole upload, and every other signed call would wait or fail.
        await run_in_threadpool(commit_so_far, request, session)
        stored = await stream_to_store(
            rt.store, intake.payload_key(batch_id, headers.sha256), request.stream(), limit
        )
        await run_in_threadpool(intake.accept, session, rt, caller, batch_id, headers, stored)
    view = await run_in_threadpool(batches.batch_view, session, rt, batch_id, caller)
    body = view.model_dump(mode="json")
    if view.status == "quarantined":
        # Returned, not raised: the quarantine record must commit with the request. A replay
        # gets the same answer as the first refusal.
        return JSONResponse(wire.quarantine_body(body), status_code=422)
    return JSONResponse(body, status_code=200 if existing is not None else 201)


@router.get("/batches/{batch_id}", response_model=BatchRead, summary="Status and lineage")
def get_batch(
    batch_id: uuid.UUID, caller: CallerDep, session: DbSession, rt: RuntimeDep
) -> BatchRead:
    return batches.batch_view(session, rt, batch_id, caller)


@router.get(
    "/batches/{batch_id}/trail",
    summary="The batch as each node on its way saw it (this node, then its neighbours, asked)",
)
def get_batch_trail(
    batch_id: uuid.UUID, request: Request, caller: CallerDep, session: DbSession, rt: RuntimeDep
) -> list[dict[str, Any]]:
    asked_by = caller.key_id if caller.kind == "node" else None
    here = batches.trail_here(session, rt, batch_id, asked_by=asked_by)
    # No transaction stays open while other nodes are asked (on SQLite: the write lock).
    commit_so_far(request, session)
    return batches.ask_trail(rt, here)
