"""This node and its neighbours, as the directory knows them."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.directory import repository as directory
from exchange.directory.models import Node
from exchange.platforms.exchange.errors import (
    NodeNotFound,
    NodeNotInitialised,
)


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
