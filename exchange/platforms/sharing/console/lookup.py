"""Page query: find one person or company by key across every registry the department holds a
grant for (an ID number in population, credit records, materials; a credit code in legal
persons ...), with the API's masking, quotas and audit (channel "page")."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from sqlalchemy.orm import Session

from exchange.core.context import request_id_var
from exchange.core.errors import HubError
from exchange.core.masking import sensitivity_of
from exchange.core.resource_schema import FieldSpec, ResourceSchema, Sensitivity
from exchange.platforms.sharing.access.principal import Principal
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.errors import BadFilter, is_refusal
from exchange.platforms.sharing.grants import service as grants
from exchange.platforms.sharing.records import query
from exchange.platforms.sharing.records import repository as repo
from exchange.platforms.sharing.records.service import apply_mask, key_text

MAX_HITS = 20
KEY_CHECKS = ("cn_ric", "cn_uscc")


@dataclass(frozen=True)
class Hit:
    resource: str
    title: str
    field: str
    fields: list[str]
    rows: list[dict[str, Any]]
    masked: list[str]


def key_fields(schema: ResourceSchema) -> list[FieldSpec]:
    """Fields a person or company can be looked up by: identifiers that are indexed."""
    return [
        f
        for f in schema.fields
        if f.indexed and (f.check in KEY_CHECKS or sensitivity_of(f) is Sensitivity.personal_id)
    ]


def registries(session: Session, env: SharingEnv, ctx: ReadContext) -> list[tuple[str, str]]:
    """(resource, field) pairs this department can search by key."""
    pairs = []
    for g in grants.listed(
        session, ctx.principal, side="consumer", active_only=True, limit=500, offset=0
    ):
        schema = env.schemas.get(g.resource_code)
        for f in key_fields(schema) if schema else []:
            if f.name in g.fields:
                pairs.append((g.resource_code, f.name))
    return pairs


def lookup(session: Session, env: SharingEnv, ctx: ReadContext, key: str) -> list[Hit]:
    hits = []
    searchable = registries(session, env, ctx)
    if not searchable:  # nothing was read, but someone looked for this key: say so
        env.audit.record(
            session,
            ctx,
            action="lookup",
            resource=None,
            grant_id=None,
            keys=[key],
            rows=0,
            outcome="NoGrant",
        )
        return []
    for resource, field in searchable:
        schema = env.schemas[resource]
        try:
            value = query.parse_value(schema.field(field), key)
        except BadFilter:
            continue  # the key does not have this field's format: nothing to ask
        grant = grants.resolve(session, env.grants, ctx.principal, resource)
        query.require_call_headers(grant, query.CallHeaders(ctx.purpose, ctx.case_number))
        rows = repo.page(session, schema, grant.fields, {field: [value]}, None, MAX_HITS)
        env.quotas.take(grant, len(rows))
        plan = query.mask_plan(schema, grant, grant.fields)
        entry = env.audit.record_read(
            session,
            ctx,
            grant_id=grant.id,
            action="lookup",
            resource=resource,
            keys=list(dict.fromkeys([key, *(key_text(schema, r) for r in rows)])),
            rows=len(rows),
        )
        if entry is None:
            raise grants.why_refused(session, env.grants, grant)
        hits.append(
            Hit(
                resource=resource,
                title=schema.catalog.title,
                field=field,
                fields=list(grant.fields),
                rows=[apply_mask(r, plan) for r in rows],
                masked=query.masked_fields(schema, grant, grant.fields),
            )
        )
    return hits


def refused(session: Session, env: SharingEnv, who: Principal, exc: HubError) -> None:
    """A refused lookup returns no data: roll its reads back, audit the refusal."""
    session.rollback()
    if is_refusal(exc):
        env.audit.record(
            session,
            ReadContext(who, "page", None, None, request_id_var.get()),
            action="lookup",
            resource=None,
            grant_id=None,
            keys=None,
            rows=0,
            outcome=exc.code,
        )
