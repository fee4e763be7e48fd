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
from exchange.platforms.exchange.deps import CallerDep
from exchange.platforms.exchange.errors import InvalidSignature
from exchange.platforms.exchange.keys import service as keys_service
from exchange.platforms.exchange.keys.schemas import KeyCreate, KeyRead, KeyRetire


async def body_is_signed(request: Request) -> None:
    """The signature covers X-Content-SHA256; the body must be what that header says."""
    declared = request.headers.get("x-content-sha256", EMPTY_SHA256).lower()
    if hashlib.sha256(await request.body()).hexdigest() != declared:
        raise InvalidSignature("the body does not match X-Content-SHA256")


router = APIRouter(tags=["exchange: keys"])
SignedBody = Annotated[None, Depends(body_is_signed)]


@router.get("/node/keys", response_model=list[KeyRead], summary="This node's keys, retired too")
def own_keys(session: DbSession, rt: RuntimeDep) -> list[KeyRead]:
    return keys_service.list_keys(session, keys.KeyOwner(keys.NODE, rt.settings.node_code))


@router.get(
    "/nodes/{code}/keys", response_model=list[KeyRead], summary="The keys we hold for a node"
)
def node_keys(code: str, session: DbSession) -> list[KeyRead]:
    return keys_service.list_keys(session, keys_service.key_owner(keys.NODE, code))


@router.get(
    "/connectors/{connector_id}/keys",
    response_model=list[KeyRead],
    summary="A connector's keys (asked by that connector)",
)
def connector_keys(connector_id: str, caller: CallerDep, session: DbSession) -> list[KeyRead]:
    return keys_service.list_keys(
        session, keys_service.key_owner(keys.CONNECTOR, connector_id), caller
    )


def _rotation_routes(kind: str, prefix: str, who: str) -> None:
    """A principal's own key-set changes, the same for nodes and connectors: add a successor
    key, retire one (each in a request signed with a current key of that principal)."""

    @router.post(
        f"{prefix}/keys",
        response_model=KeyRead,
        summary=f"A {who} registers its successor key (signed by that {who})",
        operation_id=f"add_{kind}_key",
    )
    def add_key(
        principal: str, body: KeyCreate, caller: CallerDep, _: SignedBody, session: DbSession
    ) -> KeyRead:
        owner = keys_service.key_owner(kind, principal)
        return keys_service.add_key(session, caller, owner, body.public_key)

    @router.post(
        f"{prefix}/keys/{{key_id}}/retire",
        response_model=KeyRead,
        summary=f"A {who} retires one of its keys, now or after an overlap",
        operation_id=f"retire_{kind}_key",
    )
    def retire_key(
        principal: str,
        key_id: str,
        body: KeyRetire,
        caller: CallerDep,
        _: SignedBody,
        session: DbSession,
    ) -> KeyRead:
        owner = keys_service.key_owner(kind, principal)
        return keys_service.retire_key(session, caller, owner, key_id, body.after_s)


_rotation_routes(keys.NODE, "/nodes/{principal}", "neighbouring node")
_rotation_routes(keys.CONNECTOR, "/connectors/{principal}", "connector")
