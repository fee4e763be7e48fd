"""The demo city: 杭州市 with its current districts (GB/T 2260, since 2021) and its catalogue."""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

from sqlalchemy.orm import Session

from exchange import demo_city
from exchange.catalogue.builtins import register_builtins
from exchange.core import divisions
from exchange.core.db import session_scope
from exchange.core.resource_schema import ResourceSchema
from exchange.core.settings import Settings
from exchange.directory import repository as directory
from exchange.directory import service as directory_service
from exchange.directory.models import Department, Node
from exchange.platforms.open_data.portal import service as open_data_service

if TYPE_CHECKING:
    from exchange.core.runtime import Runtime


def seed_demo_city(
    session: Session, settings: Settings, schemas: dict[str, ResourceSchema]
) -> dict[str, int]:
    """Idempotent: running it twice leaves the same rows."""
    me = directory_service.sync_topology(session, settings)
    added = 0
    for d in divisions.children_of(me.code):
        if directory.get_node(session, d.code) is None:
            directory.save_node(
                session,
                Node(code=d.code, level=d.level, name=d.name, url=None, parent_code=me.code),
            )
            added += 1
    session.flush()
    departments = seed_departments(session, me)
    changed = directory_service.sync_catalog(session, me, schemas)
    register_builtins(session, me.code, schemas)
    open_data_service.refresh_catalog(session, schemas)
    return {"districts": added, "departments": departments, "resources": changed}


def seed_departments(session: Session, me: Node) -> int:
    """The city's departments (schemas/demo_city/departments.json) as directory data, before
    the catalogue names its providers, so each has its real name (国家税务总局杭州市税务局 is
    not 杭州市 + a suffix)."""
    added = 0
    for d in demo_city.departments():
        if directory.get_department(session, me.code, d.code) is None:
            directory.add_department(
                session,
                Department(
                    node_code=me.code, code=d.code, name=d.name, parent_org=demo_city.PARENT_ORG
                ),
            )
            added += 1
    session.flush()
    return added


def seed_demo_catalogue(
    rt: Runtime, rows_per_resource: int, on_resource: Callable[[str], None] | None = None
) -> dict[str, int]:
    """The demo city's own resources (schemas/demo_city/): each catalogued through the live
    catalogue's workflow by the bureau's import (draft, submit, approve, publish, each step
    logged), then its synthetic rows pushed through the intake like a connector's batch.
    Idempotent: an unchanged file is left as it is and a replayed batch writes nothing."""
    from exchange.catalogue.importer import import_descriptor
    from exchange.catalogue.service import Context
    from exchange.seed import push_table

    ctx = Context.of(rt.settings, rt.schemas)
    specs = demo_city.specs()
    published = 0
    for spec in specs:
        with session_scope(rt.sessions) as session:
            done = import_descriptor(session, ctx, spec.descriptor, as_dept=None)
        published += done.action == "published"
    accepted = findings = 0
    for spec in specs:
        if on_resource is not None:
            on_resource(spec.code)
        result = push_table(rt, spec.code, demo_city.rows(spec, rows_per_resource, seed=1))
        accepted += result["status"] == "accepted"
        findings += len((result.get("gate") or {}).get("findings") or [])
    return {
        "catalogued": len(specs),
        "published": published,
        "accepted": accepted,
        "findings": findings,
    }
