"""Departments' connectors: registration and approval."""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from exchange.core import signing
from exchange.core.db import add_row, utcnow
from exchange.core.errors import Unprocessable
from exchange.core.runtime import Runtime
from exchange.directory import keys
from exchange.directory import repository as directory
from exchange.platforms.exchange.connectors import repository as connectors_repo
from exchange.platforms.exchange.connectors.schemas import ConnectorCreate, ConnectorRead
from exchange.platforms.exchange.errors import (
    ConnectorNotFound,
    UnknownDepartment,
)
from exchange.platforms.exchange.models import Connector


def register_connector(session: Session, rt: Runtime, req: ConnectorCreate) -> ConnectorRead:
    dept = directory.get_department(session, rt.settings.node_code, req.department)
    if dept is None:
        raise UnknownDepartment(req.department, rt.settings.node_code)
    if not signing.valid_public_key(req.public_key):
        raise Unprocessable("public_key: not a base64 Ed25519 public key (32 raw bytes)")
    connector = Connector(department_id=dept.id, name=req.name, public_key=req.public_key)
    add_row(session, connector)
    keys.add(session, keys.KeyOwner(keys.CONNECTOR, str(connector.id)), req.public_key)
    return connector_view(connector, dept.code)


def set_connector_state(session: Session, connector_id: uuid.UUID, state: str) -> Connector:
    connector = connectors_repo.get_connector_with_department(session, connector_id)
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
