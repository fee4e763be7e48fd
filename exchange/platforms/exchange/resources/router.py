from __future__ import annotations

from typing import Any

from fastapi import APIRouter

from exchange.catalogue import service as catalogue
from exchange.core.deps import DbSession, RuntimeDep
from exchange.platforms.exchange.deps import ConnectorDep

router = APIRouter(tags=["exchange: resources"])


@router.get(
    "/resources/{code}/schema",
    summary="The schema version in force: what a connector writes its batches against",
)
def get_resource_schema(
    code: str, caller: ConnectorDep, session: DbSession, rt: RuntimeDep
) -> dict[str, Any]:
    number, descriptor = catalogue.in_force(session, code, rt.schemas)
    return {"resource": code, "version": number, "descriptor": descriptor}
