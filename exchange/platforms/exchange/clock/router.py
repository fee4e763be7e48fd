from __future__ import annotations

from fastapi import APIRouter, Request

from exchange.core.deps import RuntimeDep
from exchange.platforms.exchange.clock import service
from exchange.platforms.exchange.clock.schemas import ClockRead
from exchange.platforms.exchange.deps import NodeAnyClockDep

router = APIRouter(tags=["exchange: clock"])


@router.get(
    "/clock",
    response_model=ClockRead,
    summary="This node's clock, signed, for a neighbouring node (answered whatever its skew)",
)
def get_clock(request: Request, caller: NodeAnyClockDep, rt: RuntimeDep) -> ClockRead:
    return service.answer(rt, caller, request.headers.get("authorization", ""))
