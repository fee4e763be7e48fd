"""Who is calling: a department's connector or a neighbouring node, proven by an Ed25519 signature.

Deny by default: an unknown key, a stale timestamp, a bad signature, a connector that is not
active, or a node that is not one level away are all refused before anything else happens.
"""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core import divisions, signing
from exchange.core.db import utcnow
from exchange.platforms.exchange import repository as repo
from exchange.platforms.exchange.errors import (
    ConnectorNotActive,
    InvalidSignature,
    MissingCredentials,
    NotAdjacent,
    UnknownCaller,
)


@dataclass(frozen=True)
class Caller:
    kind: str  # "connector" | "node"
    key_id: str
    node_code: str  # the caller's node (for a connector: the node it is registered at)
    department_id: uuid.UUID | None
    department_code: str | None
    public_key: str

    @property
    def path(self) -> str:
        """X-Road style name: NODE/DEPARTMENT/CONNECTOR for connectors, NODE for nodes."""
        if self.kind == "connector":
            return f"{self.node_code}/{self.department_code}/{self.key_id}"
        return self.node_code


def adjacent(a: str, b: str) -> bool:
    da, db = divisions.get(a), divisions.get(b)
    return bool(da and db and (da.parent_code == b or db.parent_code == a))


def authenticate(
    session: Session,
    *,
    me: str,
    authorization: str | None,
    method: str,
    target: str,
    content_sha256: str,
) -> Caller:
    if not authorization:
        raise MissingCredentials()
    parsed = signing.parse_authorization(authorization)
    if parsed is None:
        raise InvalidSignature("malformed Authorization header")
    if abs(time.time() - parsed.timestamp) > signing.MAX_CLOCK_SKEW_S:
        raise InvalidSignature(f"timestamp more than {signing.MAX_CLOCK_SKEW_S} s from our clock")
    caller = _lookup(session, me, parsed.key_id)
    message = signing.request_message(method, target, parsed.timestamp, content_sha256)
    if not signing.verify(caller.public_key, message, parsed.signature):
        raise InvalidSignature("signature does not match the caller's key")
    if caller.kind == "connector":
        repo.touch_connector(session, uuid.UUID(caller.key_id), utcnow())
    return caller


def _lookup(session: Session, me: str, key_id: str) -> Caller:
    if key_id.isdigit() and len(key_id) == 12:
        if not adjacent(key_id, me):
            raise NotAdjacent(key_id, me)
        node = repo.get_node(session, key_id)
        if node is None or not node.public_key:
            raise UnknownCaller(key_id)
        return Caller("node", key_id, key_id, None, None, node.public_key)
    try:
        connector_id = uuid.UUID(key_id)
    except ValueError:
        raise UnknownCaller(key_id) from None
    found = repo.get_connector_with_department(session, connector_id)
    if found is None:
        raise UnknownCaller(key_id)
    if found.state != "active":
        raise ConnectorNotActive(key_id, found.state)
    dept = found.department
    return Caller("connector", key_id, dept.node_code, dept.id, dept.code, found.public_key)
