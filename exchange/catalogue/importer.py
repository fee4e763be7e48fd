"""`hub catalogue import`: the bureau catalogues a schema file through the same workflow a
department's draft goes through (draft, submit, approve, publish), each step logged as done by
the import. Idempotent: a file already published as it is changes nothing; a changed one
becomes the resource's next version (refused, like any, when it breaks compatibility)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from sqlalchemy.orm import Session

from exchange.catalogue import repository as repo
from exchange.catalogue import service
from exchange.catalogue.errors import InvalidDescriptor
from exchange.directory import repository as directory
from exchange.directory import service as directory_service

IMPORT_ACTOR = "cli:catalogue-import"


@dataclass(frozen=True)
class Imported:
    code: str
    identifier: str
    version: int | None  # None: already published as it is
    action: str  # published | unchanged


def read_file(path: Path) -> dict[str, Any]:
    try:
        descriptor = json.loads(path.read_text("utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise InvalidDescriptor(str(path), f"not readable JSON ({exc})") from None
    if not isinstance(descriptor, dict):
        raise InvalidDescriptor(str(path), "top level must be a JSON object")
    return descriptor


def import_descriptor(
    session: Session, ctx: service.Context, descriptor: dict[str, Any], *, as_dept: str | None
) -> Imported:
    raw = descriptor.get("catalog")
    catalog: dict[str, Any] = raw if isinstance(raw, dict) else {}
    code = as_dept or str(catalog.get("provider") or "")
    if not code:
        raise InvalidDescriptor("catalog.provider", "name the provider department (or --as DEPT)")
    node = directory.get_node(session, ctx.node_code)
    if node is None:
        raise InvalidDescriptor(
            "node", f"node {ctx.node_code} is not in the directory (hub node init)"
        )
    dept = directory.get_department(session, node.code, code)
    if dept is None:
        name = str(catalog.get("provider_name") or "")
        if not name:
            raise InvalidDescriptor("--as", f"department {code} is not in the directory")
        dept = directory_service.add_department(session, node.code, code, name)
    d = {**descriptor, "catalog": {**catalog, "provider": dept.code}}
    who = service.Actor(
        name=IMPORT_ACTOR,
        department_id=dept.id,
        department_code=dept.code,
        bureau=True,
        import_tool=True,
    )
    existing = repo.get(session, str(descriptor.get("name") or ""))
    if existing is None:
        resource = service.create(session, ctx, who, d)
    else:
        in_force = (
            repo.version(session, existing.id, existing.current_version)
            if existing.current_version
            else None
        )
        stamped = {**d, "catalog": {**d["catalog"], "identifier": existing.identifier,
                                    "provider_name": dept.name}}  # fmt: skip
        if in_force is not None and in_force.descriptor == stamped:
            return Imported(existing.code, existing.identifier, None, "unchanged")
        resource = service.update(session, ctx, who, existing.code, d)
    service.submit(session, ctx, who, resource.code)
    flags = service.source_flags(session, resource.code)
    service.approve(
        session,
        ctx,
        who,
        resource.code,
        decisions={f.field: "catalogued by the bureau's import" for f in flags},
        note="imported from a schema file",
    )
    version = service.publish(session, ctx, who, resource.code)
    return Imported(resource.code, resource.identifier, version.number, "published")
