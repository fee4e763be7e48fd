"""Exchange platform rules: topology, connector registration, batch views."""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.db import utcnow
from exchange.core.errors import Unprocessable
from exchange.core.runtime import Runtime
from exchange.directory import keys
from exchange.directory import repository as directory
from exchange.directory.errors import NotKeyOwner
from exchange.directory.models import Node, PrincipalKey
from exchange.platforms.exchange import repository as repo
from exchange.platforms.exchange.auth import Caller
from exchange.platforms.exchange.errors import (
    ConnectorNotFound,
    DeliveryNotRejected,
    NodeNotFound,
    NodeNotInitialised,
    UnknownDepartment,
)
from exchange.platforms.exchange.models import Connector, Delivery
from exchange.platforms.exchange.schemas import (
    ConnectorCreate,
    ConnectorRead,
    KeyRead,
)

DELIVERY_STATES = ("pending", "rejected", "delivered")


def topology(session: Session) -> tuple[Node, Node | None, list[Node]]:
    me = directory.get_self_node(session)
    if me is None:
        raise NodeNotInitialised()
    nodes = directory.list_nodes(session)
    parent = next((n for n in nodes if n.code == me.parent_code), None)
    children = [n for n in nodes if n.parent_code == me.code and not n.is_self]
    return me, parent, children


def node(session: Session, code: str) -> Node:
    found = directory.get_node(session, code)
    if found is None:
        raise NodeNotFound(code)
    return found


# -- connectors ------------------------------------------------------------------------------
def register_connector(session: Session, rt: Runtime, req: ConnectorCreate) -> ConnectorRead:
    dept = directory.get_department(session, rt.settings.node_code, req.department)
    if dept is None:
        raise UnknownDepartment(req.department, rt.settings.node_code)
    if not signing.valid_public_key(req.public_key):
        raise Unprocessable("public_key: not a base64 Ed25519 public key (32 raw bytes)")
    connector = Connector(department_id=dept.id, name=req.name, public_key=req.public_key)
    repo.add(session, connector)
    keys.add(session, keys.KeyOwner(keys.CONNECTOR, str(connector.id)), req.public_key)
    return connector_view(connector, dept.code)


def set_connector_state(session: Session, connector_id: uuid.UUID, state: str) -> Connector:
    connector = repo.get_connector_with_department(session, connector_id)
    if connector is None:
        raise ConnectorNotFound(connector_id)
    connector.state = state
    if state == "active" and connector.approved_at is None:
        connector.approved_at = utcnow()
    session.flush()
    return connector


def connector_view(c: Connector, department_code: str) -> ConnectorRead:
    return ConnectorRead(
        id=c.id,
        department=department_code,
        name=c.name,
        state=c.state,
        created_at=c.created_at,
        approved_at=c.approved_at,
        last_seen_at=c.last_seen_at,
        last_push_at=c.last_push_at,
    )


# -- key sets ------------------------------------------------------------------------------
def key_owner(kind: str, principal: str) -> keys.KeyOwner:
    if kind == keys.CONNECTOR:
        try:
            principal = str(uuid.UUID(principal))
        except ValueError:
            raise ConnectorNotFound(principal) from None
    return keys.KeyOwner(kind, principal)


def _require_owner(caller: Caller, owner: keys.KeyOwner) -> None:
    if caller.owner != owner:
        raise NotKeyOwner(caller.path, owner.id)


def add_key(session: Session, caller: Caller, owner: keys.KeyOwner, public_key: str) -> KeyRead:
    """The owner registers its successor key, in a request signed with a current key."""
    _require_owner(caller, owner)
    return key_view(keys.add(session, owner, public_key))


def retire_key(
    session: Session, caller: Caller, owner: keys.KeyOwner, key_id: str, after_s: float
) -> KeyRead:
    _require_owner(caller, owner)
    return key_view(keys.retire(session, owner, key_id, after_s=after_s))


def list_keys(
    session: Session, owner: keys.KeyOwner, caller: Caller | None = None
) -> list[KeyRead]:
    if caller is not None:
        _require_owner(caller, owner)
    return [key_view(k) for k in keys.history(session, owner)]


def key_view(k: PrincipalKey) -> KeyRead:
    state = "current"
    if k.retired_at is not None:
        state = "retired" if k.retired_at <= utcnow() else "retiring"
    return KeyRead(
        owner=k.principal,
        key_id=k.key_id,
        public_key=k.public_key,
        state=state,
        created_at=k.created_at,
        activated_at=k.activated_at,
        retired_at=k.retired_at,
    )


# -- deliveries ---------------------------------------------------------------------------
def deliveries(session: Session, state: str, limit: int = 1000) -> Sequence[Delivery]:
    """Relay deliveries to neighbouring nodes in `state` (pending, rejected, delivered)."""
    if state not in DELIVERY_STATES:
        raise Unprocessable(f"state {state!r}: one of {', '.join(DELIVERY_STATES)}")
    return repo.node_deliveries(session, state, limit=limit)


def retry_deliveries(
    session: Session, ids: Sequence[int] | None = None, *, all_rejected: bool = False
) -> list[Delivery]:
    """Queue refused deliveries again (after the cause was fixed), to be sent at once."""
    if (ids is None) == (not all_rejected):
        raise Unprocessable("name delivery ids or ask for all rejected ones, not both")
    found = list(repo.node_deliveries(session, "rejected", ids=ids, limit=100_000))
    if ids is not None:
        missing = sorted(set(ids) - {d.id for d in found})
        if missing:
            raise DeliveryNotRejected(missing)
    now = utcnow()
    for d in found:
        d.state = "pending"
        d.attempts = 0
        d.next_attempt_at = now
    return found
