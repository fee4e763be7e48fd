"""Every SQL statement of the exchange platform's nodes."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.directory.models import Node


def get_node(session: Session, code: str) -> Node | None:
    return session.get(Node, code)
