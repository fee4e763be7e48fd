"""Who is calling: a department's connector or a neighbouring node, proven by an Ed25519 signature.

Deny by default: an unknown or retired key, a stale timestamp, a bad signature, a connector that
is not active, or a node that is not one level away are all refused before anything else
happens. The header's `keyId=PRINCIPAL:FINGERPRINT` picks one key of the caller's key set.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from sqlalchemy.orm import Session

from exchange.core import divisions, signing
from exchange.core.db import utcnow
from exchange.directory import keys
from exchange.platforms.exchange.connectors import repository as connectors_repo
from exchange.platforms.exchange.errors import (
    ClockSkew,
    ConnectorNotActive,
    InvalidSignature,
    MissingCredentials,
    NotAdjacent,
    UnknownCaller,
)
from exchange.platforms.exchange.nodes import repository as nodes_repo


@dataclass(frozen=True)
class Caller:
    kind: str  # "connector" | "node"
    key_id: str  # who: the connector's id or the node's code (the keyId before any ":")
    node_code: str  # the caller's node (for a connector: the node it is registered at)
    department_id: uuid.UUID | None
    department_code: str | None
    public_key: str  # the key this request was signed with

    @property
    def owner(self) -> keys.KeyOwner:
        return keys.KeyOwner(self.kind, self.key_id)

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
    check_clock: bool = True,
) -> Caller:
    """The caller, proven; `check_clock=False` only for the clock handshake, which exists to
    measure a skew that would make every other call fail."""
    if not authorization:
        raise MissingCredentials()
    parsed = signing.parse_authorization(authorization)
    if parsed is None:
        raise InvalidSignature("malformed Authorization header")
    now = signing.now()
    if check_clock and abs(now - parsed.timestamp) > signing.MAX_CLOCK_SKEW_S:
        raise ClockSkew(now - parsed.timestamp, signing.MAX_CLOCK_SKEW_S)
    principal, key_id = signing.split_key_id(parsed.key_id)
    caller, legacy = _lookup(session, me, principal)
    message = signing.request_message(method, target, parsed.timestamp, content_sha256)
    candidates = keys.verifying_keys(session, caller.owner, key_id, legacy=legacy)
    if not candidates:
        raise UnknownCaller(principal)
    for public_key in candidates:
        if signing.verify(public_key, message, parsed.signature):
            caller = replace(caller, public_key=public_key)
            break
    else:
        raise InvalidSignature("signature does not match the caller's key")
    if caller.kind == "connector":
        connectors_repo.touch_connector(session, uuid.UUID(caller.key_id), utcnow())
    return caller


def _lookup(session: Session, me: str, principal: str) -> tuple[Caller, str | None]:
    """The caller named by the keyId, and its single key from before key sets existed."""
    if principal.isdigit() and len(principal) == 12:
        if not adjacent(principal, me):
            raise NotAdjacent(principal, me)
        node = nodes_repo.get_node(session, principal)
        if node is None:
            raise UnknownCaller(principal)
        return Caller("node", principal, principal, None, None, ""), node.public_key
    try:
        connector_id = uuid.UUID(principal)
    except ValueError:
        raise UnknownCaller(principal) from None
    found = connectors_repo.get_connector_with_department(session, connector_id)
    if found is None:
        raise UnknownCaller(principal)
    if found.state != "active":
        raise ConnectorNotActive(principal, found.state)
    dept = found.department
    caller = Caller("connector", str(connector_id), dept.node_code, dept.id, dept.code, "")
    return caller, found.public_key
