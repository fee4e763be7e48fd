"""The built-in schema files as published version 1 of the same catalogue."""

from __future__ import annotations

from collections.abc import Mapping

from sqlalchemy.orm import Session

from exchange.catalogue import repository as repo
from exchange.catalogue.models import CatalogueEvent, CatalogueResource, CatalogueVersion, Status
from exchange.core.live_schemas import LiveSchemas
from exchange.core.resource_schema import ResourceSchema
from exchange.directory import repository as directory
from exchange.directory import service as directory_service


def register_builtins(
    session: Session, node_code: str, schemas: Mapping[str, ResourceSchema]
) -> int:
    """The schema files join the catalogue as published version 1 (idempotent)."""
    builtin = schemas.builtin if isinstance(schemas, LiveSchemas) else schemas
    node = directory.get_node(session, node_code)
    added = 0
    for schema in builtin.values():
        if repo.code_taken(session, schema.code) or node is None:
            continue
        cat = schema.catalog
        provider = directory_service.ensure_department(
            session, node, cat.provider, cat.provider_name
        )
        identifier = cat.identifier or ""
        prefix, _, seq = identifier.rpartition("/")
        if seq.isdigit() and prefix.endswith(f"/{cat.provider}"):
            repo.reserve_sequence(session, cat.provider, int(seq))
        else:
            number = repo.next_sequence(session, cat.provider)
            identifier = f"{node_code[:6]}/{cat.provider}/{number:06d}"
        resource = repo.add(
            session,
            CatalogueResource(
                code=schema.code,
                identifier=identifier,
                provider_id=provider.id,
                status=Status.published,
                builtin=True,
                current_version=1,
                created_by="node",
            ),
        )
        if resource is None:
            continue  # registered by another process meanwhile
        repo.add_version(
            session,
            CatalogueVersion(
                resource_id=resource.id, number=1, descriptor=schema.descriptor, published_by="node"
            ),
        )
        repo.record(
            session,
            CatalogueEvent(
                resource_id=resource.id,
                actor="node",
                action="registered",
                version=1,
                detail={"file": schema.path.name},
            ),
        )
        added += 1
    return added
