"""The catalogue's rules: a provider department catalogues (编目) and submits; the bureau
reviews (审核), publishes (发布) and withdraws (停用). Every step is an event: who, when, why.

Publishing is one transaction: the version row, the resource table (created or altered), the
directory's entry the sharing and open-data platforms read, and the generation counter every
worker watches. Refused at any point, nothing of it is written.
"""

from __future__ import annotations

import copy
import datetime as dt
import uuid
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy.orm import Session

from exchange.catalogue import hooks, validation
from exchange.catalogue import repository as repo
from exchange.catalogue.errors import (
    BreakingChange,
    CatalogueEntryNotFound,
    IncompleteCatalogue,
    InvalidDescriptor,
    NotBureau,
    NotOwnDepartment,
    OwnSubmission,
    ReasonRequired,
    ResourceCodeTaken,
    VersionNotFound,
    WrongStatus,
)
from exchange.catalogue.models import CatalogueEvent, CatalogueResource, CatalogueVersion, Status
from exchange.catalogue.schema_change import apply_change
from exchange.catalogue.sources import SourceFlag, flag_sources
from exchange.core.db import utcnow
from exchange.core.live_schemas import LiveSchemas
from exchange.core.resource_schema import ResourceSchema, schema_from_descriptor
from exchange.core.settings import Settings
from exchange.directory import repository as directory
from exchange.directory import service as directory_service
from exchange.directory.models import Department

EDITABLE = (Status.draft, Status.returned)


@dataclass(frozen=True)
class Actor:
    """Who acts: `name` as the event log shows it; `bureau` for the bureau's own staff."""

    name: str
    department_id: uuid.UUID | None
    department_code: str | None
    bureau: bool
    # The bureau's import at the node itself (`hub catalogue import`): it does every step of
    # the workflow as one actor, so the four-eyes rule of review does not apply to it.
    import_tool: bool = False


@dataclass(frozen=True)
class Context:
    node_code: str
    schemas: Mapping[str, ResourceSchema]
    bureau_department: str = "DSJ"
    grace_days: int = 30
    now: Callable[[], dt.datetime] = field(default=utcnow)

    @classmethod
    def of(cls, settings: Settings, schemas: Mapping[str, ResourceSchema]) -> Context:
        """The node's catalogue context from its settings (API, CLI and demo alike)."""
        return cls(
            node_code=settings.node_code,
            schemas=schemas,
            bureau_department=settings.sharing.catalogue_bureau,
            grace_days=settings.sharing.catalogue_grace_days,
        )


# -- provider department: 编目 --------------------------------------------------------------
def create(
    session: Session, ctx: Context, who: Actor, descriptor: dict[str, Any]
) -> CatalogueResource:
    provider = _own_department(session, who, descriptor)
    descriptor = _stamped(descriptor, provider, identifier="")
    schema = validation.check_draft(descriptor, ctx.schemas)
    if schema.code in ctx.schemas or repo.code_taken(session, schema.code):
        raise ResourceCodeTaken(schema.code)
    identifier = _issue_identifier(session, ctx.node_code, provider.code)
    descriptor["catalog"]["identifier"] = identifier
    resource = repo.add(
        session,
        CatalogueResource(
            code=schema.code,
            identifier=identifier,
            provider_id=provider.id,
            status=Status.draft,
            draft=descriptor,
            created_by=who.name,
            created_at=ctx.now(),
            updated_at=ctx.now(),
        ),
    )
    if resource is None:
        raise ResourceCodeTaken(schema.code)
    _log(session, ctx, resource, who, "created", detail={"identifier": identifier})
    return resource


def update(
    session: Session, ctx: Context, who: Actor, code: str, descriptor: dict[str, Any]
) -> CatalogueResource:
    """Edit a draft; for a published resource this drafts its next version."""
    resource = _get(session, code, for_update=True)
    provider = _provider_of(session, who, resource, "edit")
    state = review_state(resource)
    if state not in (*EDITABLE, None):
        raise WrongStatus(resource.code, "edit", state or resource.status, ("draft", "returned"))
    if resource.status == Status.withdrawn:
        raise WrongStatus(resource.code, "edit", resource.status, ("draft", "returned"))
    if descriptor.get("name", resource.code) != resource.code:
        raise InvalidDescriptor("name", f"a resource's code stays {resource.code!r}")
    descriptor = _stamped({**descriptor, "name": resource.code}, provider, resource.identifier)
    validation.check_draft(descriptor, ctx.schemas, builtin=resource.builtin)
    if resource.current_version is not None:
        _refuse_breaking(session, resource, descriptor)
    resource.draft = descriptor
    _set_review_state(resource, Status.draft)
    resource.updated_at = ctx.now()
    _log(session, ctx, resource, who, "edited")
    return resource


def delete(session: Session, ctx: Context, who: Actor, code: str) -> None:
    """A draft never published goes; its resource code is never issued again."""
    resource = _get(session, code, for_update=True)
    _provider_of(session, who, resource, "delete")
    if resource.status not in EDITABLE:
        raise WrongStatus(resource.code, "delete", resource.status, ("draft", "returned"))
    repo.delete(session, resource)


def submit(session: Session, ctx: Context, who: Actor, code: str) -> CatalogueResource:
    resource = _get(session, code, for_update=True)
    _provider_of(session, who, resource, "submit")
    state = review_state(resource)
    if state not in EDITABLE:
        raise WrongStatus(resource.code, "submit", state or resource.status, ("draft", "returned"))
    assert resource.draft is not None
    missing = validation.missing_fields(resource.draft)
    if missing:
        raise IncompleteCatalogue(resource.code, missing)
    validation.check_draft(resource.draft, ctx.schemas, builtin=resource.builtin)
    if resource.current_version is not None:
        _refuse_breaking(session, resource, resource.draft)
    _set_review_state(resource, Status.submitted)
    resource.submitted_by = who.name
    resource.updated_at = ctx.now()
    _log(session, ctx, resource, who, "submitted", version=_next_number(resource))
    return resource


# -- the bureau: 审核, 发布, 停用 ------------------------------------------------------------
def source_flags(session: Session, code: str) -> list[SourceFlag]:
    """一数一源: the draft's data items another department already provides as their source."""
    resource = _get(session, code)
    if resource.draft is None:
        return []
    provider = directory.get_department_by_id(session, resource.provider_id)
    assert provider is not None
    return flag_sources(resource.draft, provider.code, repo.all_descriptors_in_force(session))


def approve(
    session: Session,
    ctx: Context,
    who: Actor,
    code: str,
    *,
    decisions: Mapping[str, str] | None = None,
    note: str | None = None,
) -> CatalogueResource:
    """`decisions` answers each 一数一源 flag by field name (why this department may be a
    source of it too); a flag left unanswered refuses the approval, naming the field."""
    resource = _reviewable(session, ctx, who, code, "approve")
    flags = source_flags(session, resource.code)
    decisions = dict(decisions or {})
    unanswered = [f for f in flags if not (decisions.get(f.field) or "").strip()]
    if unanswered:
        first = unanswered[0]
        raise InvalidDescriptor(
            f"decisions.{first.field}",
            f"一数一源: {first.existing_resource}.{first.existing_field} of department "
            f"{first.source_department} already provides this item; decide whether "
            f"{resource.code} may be a source of it too (or return it)",
        )
    _set_review_state(resource, Status.approved)
    resource.updated_at = ctx.now()
    detail = {"source_flags": [f.as_dict() | {"decision": decisions[f.field]} for f in flags]}
    _log(session, ctx, resource, who, "approved", reason=note, detail=detail)
    return resource


def send_back(
    session: Session, ctx: Context, who: Actor, code: str, reasons: list[str]
) -> CatalogueResource:
    reasons = [r.strip() for r in reasons if r and r.strip()]
    if not reasons:
        raise ReasonRequired("returning a resource")
    resource = _reviewable(session, ctx, who, code, "return")
    _set_review_state(resource, Status.returned)
    resource.updated_at = ctx.now()
    _log(session, ctx, resource, who, "returned", reason="; ".join(reasons))
    return resource


def publish(session: Session, ctx: Context, who: Actor, code: str) -> CatalogueVersion:
    resource = _get(session, code, for_update=True)
    _require_bureau(ctx, who, "publish")
    state = review_state(resource)
    if state != Status.approved:
        raise WrongStatus(resource.code, "publish", state or resource.status, ("approved",))
    assert resource.draft is not None
    descriptor = {k: v for k, v in resource.draft.items() if k != "_review"}
    missing = validation.missing_fields(descriptor)
    if missing:
        raise IncompleteCatalogue(resource.code, missing)
    new = validation.check_draft(descriptor, ctx.schemas, builtin=resource.builtin)
    old = _schema_in_force(session, resource)
    changes: list[validation.Change] = []
    if old is not None:
        changes, breaking = validation.compare(old, new)
        if breaking:
            raise BreakingChange(resource.code, breaking)
    apply_change(session.connection(), old, new, changes)
    number = _next_number(resource)
    now = ctx.now()
    version = repo.add_version(
        session,
        CatalogueVersion(
            resource_id=resource.id,
            number=number,
            descriptor=descriptor,
            published_at=now,
            published_by=who.name,
            previous_until=now + dt.timedelta(days=ctx.grace_days) if old else None,
        ),
    )
    resource.current_version = number
    resource.status = Status.published
    resource.draft = None
    resource.updated_at = now
    _sync_directory(session, ctx, new, status="published")
    _went_live(session, ctx)
    _log(
        session,
        ctx,
        resource,
        who,
        "published",
        version=number,
        detail={"changes": [c.__dict__ for c in changes]},
    )
    return version


def withdraw(
    session: Session, ctx: Context, who: Actor, code: str, reason: str
) -> CatalogueResource:
    if not (reason or "").strip():
        raise ReasonRequired("withdrawing a resource")
    resource = _get(session, code, for_update=True)
    _require_bureau(ctx, who, "withdraw")
    if resource.status != Status.published:
        raise WrongStatus(resource.code, "withdraw", resource.status, ("published",))
    resource.status = Status.withdrawn
    resource.updated_at = ctx.now()
    entry = directory.get_resource(session, resource.code)
    if entry is not None:
        entry.status = "withdrawn"  # kept with its data; intake and readers refuse it
    _went_live(session, ctx)
    _log(session, ctx, resource, who, "withdrawn", reason=reason.strip())
    return resource


# -- reads -------------------------------------------------------------------------------------
def get(session: Session, code: str) -> CatalogueResource:
    return _get(session, code)


def versions(session: Session, code: str) -> list[CatalogueVersion]:
    return list(repo.versions(session, _get(session, code).id))


def version(session: Session, code: str, number: int) -> CatalogueVersion:
    resource = _get(session, code)
    found = repo.version(session, resource.id, number)
    if found is None:
        raise VersionNotFound(resource.code, number)
    return found


def events(session: Session, code: str) -> list[CatalogueEvent]:
    return list(repo.events(session, _get(session, code).id))


def listing(
    session: Session,
    *,
    status: str | None = None,
    provider: str | None = None,
    node_code: str = "",
    limit: int = 50,
    offset: int = 0,
) -> tuple[int, list[CatalogueResource]]:
    provider_id = None
    if provider:
        dept = directory.get_department(session, node_code, provider)
        if dept is None:
            return 0, []
        provider_id = dept.id
    total, rows = repo.listing(
        session, status=status, provider_id=provider_id, limit=limit, offset=offset
    )
    return total, list(rows)


def in_force(
    session: Session, code: str, schemas: Mapping[str, ResourceSchema]
) -> tuple[int, dict[str, Any]]:
    """(version, descriptor) batches of `code` are written against now: what a connector asks
    the node before it pushes. A built-in file not yet registered is its version 1."""
    resource = repo.get(session, code)
    if resource is not None and resource.status == Status.withdrawn:
        from exchange.catalogue.errors import NotPublished

        raise NotPublished(code, resource.status)
    if resource is not None and resource.current_version is not None:
        v = repo.version(session, resource.id, resource.current_version)
        assert v is not None
        return v.number, v.descriptor
    schema = schemas.get(code)
    if schema is None or resource is not None:
        raise CatalogueEntryNotFound(code)
    return 1, schema.descriptor


def review_state(resource: CatalogueResource) -> str | None:
    """Where the resource's next version stands: its own status until first published, then
    the pending change's (None: nothing pending)."""
    if resource.current_version is None:
        return resource.status
    return (resource.draft or {}).get("_review")


# -- helpers -----------------------------------------------------------------------------------
def _set_review_state(resource: CatalogueResource, state: Status) -> None:
    if resource.current_version is None:
        resource.status = state
        return
    draft = dict(resource.draft or {})
    draft["_review"] = state.value
    resource.draft = draft


def _get(session: Session, code: str, *, for_update: bool = False) -> CatalogueResource:
    found = repo.get(session, code, for_update=for_update)
    if found is None:
        raise CatalogueEntryNotFound(code)
    return found


def _own_department(session: Session, who: Actor, descriptor: dict[str, Any]) -> Department:
    if who.department_id is None:
        raise NotOwnDepartment("catalogue")
    dept = directory.get_department_by_id(session, who.department_id)
    assert dept is not None
    claimed = (descriptor.get("catalog") or {}).get("provider")
    if claimed and claimed != dept.code:
        raise NotOwnDepartment(f"catalog.provider {claimed!r}")
    return dept


def _provider_of(
    session: Session, who: Actor, resource: CatalogueResource, action: str
) -> Department:
    if who.department_id != resource.provider_id:
        raise NotOwnDepartment(f"{action} {resource.code}")
    dept = directory.get_department_by_id(session, resource.provider_id)
    assert dept is not None
    return dept


def _require_bureau(ctx: Context, who: Actor, action: str) -> None:
    if not who.bureau:
        raise NotBureau(action, ctx.bureau_department)


def _reviewable(
    session: Session, ctx: Context, who: Actor, code: str, action: str
) -> CatalogueResource:
    resource = _get(session, code, for_update=True)
    _require_bureau(ctx, who, action)
    state = review_state(resource)
    if state != Status.submitted:
        raise WrongStatus(resource.code, action, state or resource.status, ("submitted",))
    if resource.submitted_by == who.name and not who.import_tool:
        raise OwnSubmission(who.name)
    return resource


def _stamped(descriptor: dict[str, Any], provider: Department, identifier: str) -> dict[str, Any]:
    """The descriptor with what the node, not the department, says: provider and code."""
    if not isinstance(descriptor, dict):
        raise InvalidDescriptor("body", "a Table Schema descriptor (object) is expected")
    d = copy.deepcopy(descriptor)
    d.pop("_review", None)
    catalog = d.get("catalog")
    if catalog is None:
        catalog = d["catalog"] = {}
    if not isinstance(catalog, dict):
        raise InvalidDescriptor("catalog", "must be an object")
    catalog["provider"] = provider.code
    catalog["provider_name"] = provider.name
    catalog["identifier"] = identifier or catalog.get("identifier")
    return d


def _schema_in_force(session: Session, resource: CatalogueResource) -> ResourceSchema | None:
    if resource.current_version is None:
        return None
    v = repo.version(session, resource.id, resource.current_version)
    assert v is not None
    return schema_from_descriptor(v.descriptor, _where(resource.code))


def _refuse_breaking(
    session: Session, resource: CatalogueResource, descriptor: dict[str, Any]
) -> None:
    old = _schema_in_force(session, resource)
    if old is None:
        return
    new = schema_from_descriptor(
        {k: v for k, v in descriptor.items() if k != "_review"}, _where(resource.code)
    )
    _, breaking = validation.compare(old, new)
    if breaking:
        raise BreakingChange(resource.code, breaking)


def _where(code: str) -> Any:
    from pathlib import Path

    return Path("catalogue", f"{code}.json")


def _issue_identifier(session: Session, node_code: str, provider_code: str) -> str:
    """The provider's next 资源代码. A number already carried by an entry (one recorded
    before the counter knew of it) is skipped, so that two resources never share a code."""
    while True:
        seq = repo.next_sequence(session, provider_code)
        identifier = f"{node_code[:6]}/{provider_code}/{seq:06d}"
        if not repo.identifier_taken(session, identifier):
            return identifier


def _next_number(resource: CatalogueResource) -> int:
    return (resource.current_version or 0) + 1


def _sync_directory(session: Session, ctx: Context, schema: ResourceSchema, status: str) -> None:
    node = directory.get_node(session, ctx.node_code)
    if node is None:
        raise InvalidDescriptor(
            "node", f"node {ctx.node_code} is not in the directory (hub node init)"
        )
    directory_service.sync_catalog(session, node, {schema.code: schema})


def _went_live(session: Session, ctx: Context) -> None:
    """Bump the counter every worker watches; this worker sees the change at once, and the
    hooks (the search index) run on the new set, all in the same transaction."""
    repo.bump_generation(session)
    if isinstance(ctx.schemas, LiveSchemas):
        ctx.schemas.refresh(session)
    hooks.run(session, ctx.schemas)


def _log(
    session: Session,
    ctx: Context,
    resource: CatalogueResource,
    who: Actor,
    action: str,
    *,
    reason: str | None = None,
    version: int | None = None,
    detail: dict[str, Any] | None = None,
) -> None:
    repo.record(
        session,
        CatalogueEvent(
            resource_id=resource.id,
            at=ctx.now(),
            actor=who.name,
            action=action,
            reason=reason,
            version=version,
            detail=detail or {},
        ),
    )
