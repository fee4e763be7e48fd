from __future__ import annotations

import uuid
from collections.abc import Sequence

from sqlalchemy import select
from sqlalchemy.orm import Session

from exchange.directory.models import Department, Node, PrincipalKey, Resource


def get_node(session: Session, code: str) -> Node | None:
    return session.get(Node, code)


def get_self_node(session: Session) -> Node | None:
    return session.scalars(select(Node).where(Node.is_self.is_(True))).first()


def list_nodes(session: Session) -> Sequence[Node]:
    return session.scalars(select(Node).order_by(Node.code)).all()


def save_node(session: Session, node: Node) -> Node:
    return session.merge(node)


def get_department(session: Session, node_code: str, code: str) -> Department | None:
    return session.scalars(
        select(Department).where(Department.node_code == node_code, Department.code == code)
    ).first()


def get_department_by_id(session: Session, department_id: uuid.UUID) -> Department | None:
    return session.get(Department, department_id)


def list_departments(session: Session, node_code: str | None = None) -> Sequence[Department]:
    stmt = select(Department).order_by(Department.node_code, Department.code)
    if node_code:
        stmt = stmt.where(Department.node_code == node_code)
    return session.scalars(stmt).all()


def add_department(session: Session, department: Department) -> Department:
    session.add(department)
    session.flush()
    return department


def get_resource(session: Session, code: str) -> Resource | None:
    return session.get(Resource, code)


def list_resources(session: Session) -> Sequence[Resource]:
    return session.scalars(select(Resource).order_by(Resource.code)).all()


def save_resource(session: Session, resource: Resource) -> Resource:
    merged = session.merge(resource)
    session.flush()
    return merged


# -- key sets --------------------------------------------------------------------------------
def keys_of(session: Session, kind: str, principal: str) -> Sequence[PrincipalKey]:
    """Every key the principal ever had, oldest first (retired ones included)."""
    return session.scalars(
        select(PrincipalKey)
        .where(PrincipalKey.kind == kind, PrincipalKey.principal == principal)
        .order_by(PrincipalKey.activated_at, PrincipalKey.id)
    ).all()


def get_key(session: Session, kind: str, principal: str, key_id: str) -> PrincipalKey | None:
    return session.scalars(
        select(PrincipalKey).where(
            PrincipalKey.kind == kind,
            PrincipalKey.principal == principal,
            PrincipalKey.key_id == key_id,
        )
    ).first()


def add_key(session: Session, key: PrincipalKey) -> PrincipalKey:
    session.add(key)
    session.flush()
    return key
