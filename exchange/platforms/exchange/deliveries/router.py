from __future__ import annotations

from collections.abc import Iterator
from typing import Annotated

from fastapi import APIRouter, Query
from fastapi.responses import StreamingResponse

from exchange.core import wire
from exchange.core.deps import DbSession, RuntimeDep
from exchange.platforms.exchange.batches import service as batches
from exchange.platforms.exchange.deliveries.schemas import InboxItem
from exchange.platforms.exchange.deps import ConnectorDep
from exchange.platforms.exchange.relay import routing

router = APIRouter(tags=["exchange: inbox"])


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
    routing.release(session, rt, d)
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
