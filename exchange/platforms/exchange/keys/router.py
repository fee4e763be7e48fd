"""Routes: key sets of nodes and connectors (rotation without failed calls).

A principal changes its own set only, in a request signed with one of its current keys; the
JSON body is covered by the signature through `X-Content-SHA256`.
"""

from __future__ import annotations

import hashlib
from typing import Annotated

from fastapi import APIRouter, Depends, Request

from exchange.core.deps import DbSession, RuntimeDep
from exchange.core.signing import EMPTY_SHA256
from exchange.directory import keys
from exchange.platforms.exchange import service
from exchange.platforms.exchange.deps import CallerDep
from exchange.platforms.exchange.errors import InvalidSignature
from exchange.platforms.exchange.schemas import KeyCreate, KeyRead, KeyRetire


async def body_is_signed(request: Request) -> None:
    """The signature covers X-Content-SHA256; the body must be what that header says."""
    declared = request.headers.get("x-content-sha256", EMPTY_SHA256).lower()
    if hashlib.sha256(await request.body()).hexdigest() != declared:
        raise InvalidSignature("the body does not match X-Content-SHA256")


router = APIRouter(tags=["exchange: keys"])
SignedBody = Annotated[None, Depends(body_is_signed)]


@router.get("/node/keys", response_model=list[KeyRead], summary="This node's keys, retired too")
def own_keys(session: DbSession, rt: RuntimeDep) -> list[KeyRead]:
    return service.list_keys(session, keys.KeyOwner(keys.NODE, rt.settings.node_code))


@router.get(
    "/nodes/{code}/keys", response_model=list[KeyRead], summary="The keys we hold for a node"
)
def node_keys(code: str, session: DbSession) -> list[KeyRead]:
    return service.list_keys(session, service.key_owner(keys.NODE, code))


@router.post(
    "/nodes/{code}/keys",
    response_model=KeyRead,
    summary="A neighbouring node registers its successor key (signed by that node)",
)
def add_node_key(
    code: str, body: KeyCreate, caller: CallerDep, _: SignedBody, session: DbSession
) -> KeyRead:
    return service.add_key(session, caller, service.key_owner(keys.NODE, code), body.public_key)


@router.post(
    "/nodes/{code}/keys/{key_id}/retire",
    response_model=KeyRead,
    summary="A neighbouring node retires one of its keys, now or after an overlap",
)
def retire_node_key(
    code: str,
    key_id: str,
    body: KeyRetire,
    caller: CallerDep,
    _: SignedBody,
    session: DbSession,
) -> KeyRead:
    owner = service.key_owner(keys.NODE, code)
    return service.retire_key(session, caller, owner, key_id, body.after_s)


@router.get(
    "/connectors/{connector_id}/keys",
    response_model=list[KeyRead],
    summary="A connector's keys (asked by that connector)",
)
def connector_keys(connector_id: str, caller: CallerDep, session: DbSession) -> list[KeyRead]:
    return service.list_keys(session, service.key_owner(keys.CONNECTOR, connector_id), caller)


@router.post(
    "/connectors/{connector_id}/keys",
    response_model=KeyRead,
    summary="A connector registers its successor key (signed by that connector)",
)
def add_connector_key(
    connector_id: str, body: KeyCreate, caller: CallerDep, _: SignedBody, session: DbSession
) -> KeyRead:
    owner = service.key_owner(keys.CONNECTOR, connector_id)
    return service.add_key(session, caller, owner, body.public_key)


@router.post(
    "/connectors/{connector_id}/keys/{key_id}/retire",
    response_model=KeyRead,
    summary="A connector retires one of its keys, now or after an overlap",
)
def retire_connector_key(
    connector_id: str,
    key_id: str,
    body: KeyRetire,
    caller: CallerDep,
    _: SignedBody,
    session: DbSession,
) -> KeyRead:
    owner = service.key_owner(keys.CONNECTOR, connector_id)
    return service.retire_key(session, caller, owner, key_id, body.after_s)
