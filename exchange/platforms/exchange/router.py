from __future__ import annotations

import uuid
from collections.abc import Iterator
from typing import Annotated, Any

from fastapi import APIRouter, Query, Request, Response
from fastapi.responses import JSONResponse, StreamingResponse
from starlette.concurrency import run_in_threadpool

from exchange.core import wire
from exchange.core.deps import DbSession, RuntimeDep, commit_so_far
from exchange.platforms.exchange import service
from exchange.platforms.exchange.batches import service as batches
from exchange.platforms.exchange.clock.router import router as clock_router
from exchange.platforms.exchange.deps import CallerDep, ConnectorDep
from exchange.platforms.exchange.errors import BatchTooLarge
from exchange.platforms.exchange.intake import service as intake
from exchange.platforms.exchange.intake.ingest import stream_to_store
from exchange.platforms.exchange.keys.router import router as keys_router
from exchange.platforms.exchange.relay import routing
from exchange.platforms.exchange.schemas import (
    BatchRead,
    ConnectorCreate,
    ConnectorRead,
    InboxItem,
    NodeRead,
    TopologyRead,
)

router = APIRouter(tags=["exchange"])


@router.get("/node", response_model=TopologyRead, summary="This node, its parent and children")
def get_topology(session: DbSession, rt: RuntimeDep) -> TopologyRead:
    me, parent, children = service.topology(session)
    return TopologyRead(
        node=NodeRead.model_validate(me),
        parent=NodeRead.model_validate(parent) if parent else None,
        children=[NodeRead.model_validate(c) for c in children],
        public_key=rt.node_keys.public_b64,
    )


@router.get("/nodes/{code}", response_model=NodeRead, summary="A node known to this node")
def get_node(code: str, session: DbSession) -> NodeRead:
    return NodeRead.model_validate(service.node(session, code))


@router.post(
    "/connectors",
    response_model=ConnectorRead,
    status_code=201,
    summary="Request registration of a connector (approved by an operator at this node)",
)
def register_connector(body: ConnectorCreate, session: DbSession, rt: RuntimeDep) -> ConnectorRead:
    return service.register_connector(session, rt, body)


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


@router.get("/inbox", response_model=list[InboxItem], summary="Deliveries waiting for me")
def get_inbox(
    caller: ConnectorDep,
    session: DbSession,
    limit: Annotated[int, Query(ge=1, le=1000)] = 100,
) -> list[InboxItem]:
    items = []
    for d in routing.inbox(session, caller, limit):
        b = batches.batch_of(session, d.batch_id)
        payload = routing.payload_of(session, d)
        items.append(
            InboxItem(
                delivery_id=d.id,
                batch_id=d.batch_id,
                resource=d.resource_code,
                sha256=payload.sha256,
                rows=b.rows,
                size_bytes=payload.size,
                created_at=d.created_at,
            )
        )
    return items


@router.get("/inbox/{delivery_id}/payload", summary="The delivery's Arrow IPC stream")
def get_delivery_payload(
    delivery_id: int, caller: ConnectorDep, session: DbSession, rt: RuntimeDep
) -> StreamingResponse:
    d = routing.delivery_for(session, caller, delivery_id)
    payload = routing.payload_of(session, d)

    def chunks() -> Iterator[bytes]:
        with rt.store.open(payload.key) as fh:
            while chunk := fh.read(1024 * 1024):
                yield chunk

    return StreamingResponse(
        chunks(),
        media_type=wire.ARROW_STREAM,
        headers={
            wire.SHA256: payload.sha256,
            wire.BATCH_ID: str(d.batch_id),
            "Content-Length": str(payload.size),
        },
    )


@router.post("/inbox/{delivery_id}/ack", summary="Confirm a delivery was written")
def ack_delivery(
    delivery_id: int, caller: ConnectorDep, session: DbSession, rt: RuntimeDep
) -> dict[str, object]:
    d = routing.acknowledge(session, rt, caller, delivery_id)
    return {"delivery_id": d.id, "state": d.state}


router.include_router(keys_router)
router.include_router(clock_router)
