"""Builders with sensible defaults for test data."""

from __future__ import annotations

from sqlalchemy.orm import Session

from exchange.core.resource_schema import load_all
from exchange.core.runtime import SCHEMAS_DIR
from exchange.core.settings import Settings
from exchange.demo import seed_demo_city
from exchange.directory.models import Node


def seed_city(session: Session, settings: Settings) -> Node:
    """The demo city of 杭州市: its districts and the catalogue from schemas/."""
    seed_demo_city(session, settings, load_all(SCHEMAS_DIR))
    node = session.get(Node, settings.node_code)
    assert node is not None
    return node
