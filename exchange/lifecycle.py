"""Bring a node's database to the code's level: Alembic migrations, then resource tables."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy import Engine

from exchange.core.db import session_scope
from exchange.core.migrate import upgrade
from exchange.core.resource_schema import ResourceSchema
from exchange.core.runtime import Runtime
from exchange.datastore.tables import sync_tables


def prepare_database(engine: Engine, schemas: dict[str, ResourceSchema]) -> list[str]:
    """Idempotent; returns the resource-table changes it made."""
    upgrade(engine)
    return sync_tables(engine, schemas)


@dataclass(frozen=True)
class NodeInit:
    code: str
    name: str
    catalogue_changes: int
    divisions: dict[str, Any]


def init_node(rt: Runtime) -> NodeInit:
    """Record this node, its neighbours, its key and the catalogue from settings and schemas/;
    load the division layer (`hub node init`, and `hub cluster up` for each node)."""
    from exchange.catalogue.builtins import register_builtins
    from exchange.directory.service import record_own_key, sync_catalog, sync_topology
    from exchange.platforms.open_data.portal.service import refresh_catalog
    from exchange.seed import load_divisions

    with session_scope(rt.sessions) as session:
        me = sync_topology(session, rt.settings)
        record_own_key(session, me.code, rt.node_keys.public_b64)
        changed = sync_catalog(session, me, rt.schemas)
        register_builtins(session, me.code, rt.schemas)
        refresh_catalog(session, rt.schemas)
        code, name = me.code, me.name
    return NodeInit(code, name, changed, load_divisions(rt))
