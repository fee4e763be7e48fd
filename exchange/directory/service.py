"""Keep the directory in step with configuration (topology) and `schemas/` (the catalogue)."""

from __future__ import annotations

import hashlib
import json
import re

from sqlalchemy.orm import Session

from exchange.core import divisions
from exchange.core.db import utcnow
from exchange.core.resource_schema import ResourceSchema
from exchange.core.settings import NodeRef, Settings
from exchange.directory import keys
from exchange.directory import repository as repo
from exchange.directory.errors import BadDepartment, DepartmentExists
from exchange.directory.models import Department, Node, Resource
from exchange.directory.publishing import publication_status


def sync_topology(session: Session, settings: Settings) -> Node:
    """Record this node and its configured neighbours; returns this node."""
    me = repo.save_node(
        session,
        Node(
            code=settings.node_code,
            level=settings.node_level.value,
            name=settings.resolved_node_name,
            url=settings.base_url,
            parent_code=settings.parent.code if settings.parent else None,
            is_self=True,
        ),
    )
    neighbours: list[tuple[NodeRef, str | None]] = (
        [(settings.parent, None)] if settings.parent else []
    )
    neighbours += [(child, settings.node_code) for child in settings.children]
    for ref, parent_code in neighbours:
        assert ref is not None
        division = divisions.get(ref.code)
        assert division is not None  # NodeRef validated the code
        repo.save_node(
            session,
            Node(
                code=ref.code,
                level=division.level,
                name=ref.name or division.name,
                url=ref.url,
                parent_code=parent_code or division.parent_code,
                public_key=ref.public_key,
                is_self=False,
            ),
        )
        if ref.public_key:
            # The first key is trusted from configuration; later ones arrive signed by their
            # predecessor (a rotation), so a stale configured key never comes back to life.
            keys.ensure(session, keys.KeyOwner(keys.NODE, ref.code), ref.public_key)
    session.flush()
    return me


def record_own_key(session: Session, node_code: str, public_b64: str) -> None:
    """Publish the key this node signs with in its own key set (the history verifiers read)."""
    keys.ensure(session, keys.KeyOwner(keys.NODE, node_code), public_b64)


def ensure_department(session: Session, node: Node, code: str, name: str) -> Department:
    found = repo.get_department(session, node.code, code)
    if found:
        return found
    full_name = name if name.startswith(node.name) else f"{node.name}{name}"
    return repo.add_department(session, Department(node_code=node.code, code=code, name=full_name))


DEPARTMENT_CODE = re.compile(r"[A-Z][A-Z0-9_]{0,31}")


def add_department(
    session: Session, node_code: str, code: str, name: str, parent_org: str | None = None
) -> Department:
    """A department of this node, as directory data: consumer-only ones too (民政局 reads
    population data and provides nothing), so clients and users can be made for it."""
    node = repo.get_node(session, node_code)
    if node is None:
        raise BadDepartment(f"node {node_code} is not in the directory; run hub node init")
    if not DEPARTMENT_CODE.fullmatch(code):
        raise BadDepartment(f"code {code!r}: 1-32 capital letters, digits or '_' (e.g. MZ)")
    if not name.strip() or len(name) > 128:
        raise BadDepartment("name: 1-128 characters")
    if parent_org is not None and len(parent_org) > 128:
        raise BadDepartment("parent_org: at most 128 characters")
    if repo.get_department(session, node_code, code) is not None:
        raise DepartmentExists(node_code, code)
    department = ensure_department(session, node, code, name.strip())
    department.parent_org = parent_org
    return department


def schema_digest(schema: ResourceSchema) -> str:
    canonical = json.dumps(schema.descriptor, sort_keys=True, ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def sync_catalog(session: Session, node: Node, schemas: dict[str, ResourceSchema]) -> int:
    """Upsert one catalogue entry per schema file; returns how many entries changed."""
    changed = 0
    for schema in schemas.values():
        digest = schema_digest(schema)
        existing = repo.get_resource(session, schema.code)
        if existing and existing.schema_sha256 == digest:
            continue
        cat = schema.catalog
        provider = ensure_department(session, node, cat.provider, cat.provider_name)
        entry = existing or Resource(code=schema.code)
        entry.title = cat.title
        entry.abstract = cat.abstract
        entry.classification = cat.classification
        entry.provider_id = provider.id
        entry.share_class = cat.share_class.value
        entry.share_conditions = cat.share_conditions
        entry.open_class = cat.open_class.value
        entry.update_cycle = cat.update_cycle.value
        entry.topic = cat.topic
        entry.tags = list(cat.tags)
        entry.licence = cat.licence
        entry.identifier = cat.identifier
        entry.data_items = [
            {"name": f.name, "title": f.title, "type": f.type, "sensitivity": f.sensitivity.value}
            for f in schema.fields
        ]
        entry.schema_sha256 = digest
        status = publication_status(entry)
        if existing and existing.status != "published" and status == "published":
            entry.published_at = utcnow()  # published when it first became complete
        entry.status = status
        repo.save_resource(session, entry)
        changed += 1
    return changed
