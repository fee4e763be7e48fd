"""Bring a node's database to the code's level: Alembic migrations, then resource tables."""

from __future__ import annotations

from sqlalchemy import Engine

from exchange.core.migrate import upgrade
from exchange.core.resource_schema import ResourceSchema
from exchange.datastore.tables import sync_tables


def prepare_database(engine: Engine, schemas: dict[str, ResourceSchema]) -> list[str]:
    """Idempotent; returns the resource-table changes it made."""
    upgrade(engine)
    return sync_tables(engine, schemas)
