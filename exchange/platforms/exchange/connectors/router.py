from __future__ import annotations

from fastapi import APIRouter

from exchange.core.deps import DbSession, RuntimeDep
from exchange.platforms.exchange.connectors import service as connectors_service
from exchange.platforms.exchange.connectors.schemas import ConnectorCreate, ConnectorRead

router = APIRouter(tags=["exchange: connectors"])


@router.post(
    "/connectors",
    response_model=ConnectorRead,
    status_code=201,
    summary="Request registration of a connector (approved by an operator at this node)",
)
def register_connector(body: ConnectorCreate, session: DbSession, rt: RuntimeDep) -> ConnectorRead:
    return connectors_service.register_connector(session, rt, body)
