"""Reading shared records: one keyed lookup, filtered pages, the change feed.

Each read follows the same steps: find the caller's grant (deny by default), check the call
headers of a conditional resource, validate fields and filters, run one lean select, charge
the grant's quotas, mask what the grant does not allow in plain, and write the audit entry
(which re-checks the grant in the database) before anything is returned.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import uuid
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Row
from sqlalchemy.orm import Session

from basebases.protocol import Record
from basebases.registry import registry_for
from exchange.catalogue.errors import ResourceWithdrawn
from exchange.core.live_schemas import is_withdrawn
from exchange.core.masking import mask
from exchange.core.resource_schema import ResourceSchema, Sensitivity
from exchange.core.values import jsonable
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.errors import (
    BadFilter,
    KeyLookupUnsupported,
    NotInTime,
    ResourceNotFound,
)
from exchange.platforms.sharing.grants import service as grants
from exchange.platforms.sharing.grants.service import GrantView
from exchange.platforms.sharing.records import query
from exchange.platforms.sharing.records import repository as repo
from exchange.platforms.sharing.records.query import MaskPlan
from exchange.platforms.sharing.records.quotas import QuotaState


@dataclass(frozen=True, slots=True)
class RecordResult:
    resource: str
    key: str
    grant_id: uuid.UUID
    record: dict[str, Any] | None
    masked: list[str]
    quota: QuotaState
    version: Record | None = None  # set by a read in time (`by_key_at`): which version it was


@dataclass(frozen=True, slots=True)
class PageResult:
    resource: str
    grant_id: uuid.UUID
    items: list[dict[str, Any]]
    next_cursor: str | None
    masked: list[str]
    quota: QuotaState


def schema_of(env: SharingEnv, code: str) -> ResourceSchema:
    schema = env.schemas.get(code)
    if schema is None:
        raise ResourceNotFound(code)
    if is_withdrawn(env.schemas, code):
        raise ResourceWithdrawn(code)  # 410: the data is kept, no longer served
    return schema


def masked_text(value: Any, sensitivity: Sensitivity) -> str:
    """A value as a consumer without plain access sees it, on every read path."""
    return mask(str(jsonable(value)), sensitivity)


def apply_mask(
    row: Row[Any] | Mapping[str, Any], plan: MaskPlan, *, as_json: bool = True
) -> dict[str, Any]:
    """The planned fields of `row`, masked where planned; JSON-ready unless `as_json` is off."""
    src = row._mapping if isinstance(row, Row) else row
    out: dict[str, Any] = {}
    for name, sensitivity in plan:
        value = src[name]
        if value is not None and sensitivity is not None:
            value = masked_text(value, sensitivity)
        out[name] = jsonable(value) if as_json else value
    return out


def key_text(schema: ResourceSchema, row: Row[Any]) -> str:
    m = row._mapping
    return "|".join(str(jsonable(m[k])) for k in schema.primary_key)


def begin_read(
    session: Session, env: SharingEnv, ctx: ReadContext, code: str
) -> tuple[ResourceSchema, GrantView]:
    schema = schema_of(env, code)
    grant = grants.resolve(session, env.grants, ctx.principal, code)
    query.require_call_headers(grant, query.CallHeaders(ctx.purpose, ctx.case_number))
    return schema, grant


def audit_read(
    session: Session,
    env: SharingEnv,
    ctx: ReadContext,
    grant: GrantView,
    *,
    action: str,
    keys: Sequence[str],
    rows: int,
) -> None:
    entry = env.audit.record_read(
        session,
        ctx,
        grant_id=grant.id,
        action=action,
        resource=grant.resource,
        keys=keys,
        rows=rows,
    )
    if entry is None:
        raise grants.why_refused(session, env.grants, grant)


@dataclass(frozen=True, slots=True)
class KeyLookup:
    """A checked keyed lookup, ready to run: what to select, how to mask, what to audit."""

    schema: ResourceSchema
    grant: GrantView
    key: str
    value: Any
    fields: tuple[str, ...]
    plan: MaskPlan


def plan_by_key(
    schema: ResourceSchema, grant: GrantView, ctx: ReadContext, key: str, fields: str | None
) -> KeyLookup:
    """Every check a keyed lookup makes before the database is asked (no I/O)."""
    query.require_call_headers(grant, query.CallHeaders(ctx.purpose, ctx.case_number))
    if len(schema.primary_key) != 1:
        raise KeyLookupUnsupported(schema.code)
    out = query.output_fields(schema, grant, fields)
    _, value = query.key_value(schema, grant, key)
    return KeyLookup(schema, grant, key, value, out, query.mask_plan(schema, grant, out))


def finish_by_key(
    lookup: KeyLookup, row: Row[Any] | Mapping[str, Any] | None, state: QuotaState
) -> RecordResult:
    """The masked answer of a keyed lookup (no I/O)."""
    record = apply_mask(row, lookup.plan) if row is not None else None
    schema, grant = lookup.schema, lookup.grant
    return RecordResult(
        resource=schema.code,
        key=query.shown_key(schema, grant, lookup.key),  # the caller's key, masked like its field
        grant_id=grant.id,
        record=record,
        masked=[f for f, sensitivity in lookup.plan if sensitivity is not None],
        quota=state,
    )


def by_key(
    session: Session,
    env: SharingEnv,
    ctx: ReadContext,
    code: str,
    key: str,
    fields: str | None = None,
) -> RecordResult:
    """One record by its key; a miss is audited too (who looked for whom matters)."""

    def now(lookup: KeyLookup) -> tuple[Row[Any] | None, None]:
        return repo.by_key(session, lookup.schema, lookup.fields, lookup.value), None

    return _keyed(session, env, ctx, code, key, fields, now)


def by_key_at(
    session: Session,
    env: SharingEnv,
    ctx: ReadContext,
    code: str,
    key: str,
    fields: str | None = None,
    *,
    as_of: dt.datetime | None = None,
    valid_at: dt.datetime | None = None,
) -> RecordResult:
    """One record as its base registry knew it at `as_of` (registration time) and as it was
    in the world at `valid_at` (effective time): the registries' bitemporal lookup
    (`basebases.REGISTRIES`), behind the same grant, masking, quota and audit as `by_key`."""

    def then(lookup: KeyLookup) -> tuple[dict[str, Any] | None, Record | None]:
        # checked once the resource, the grant and the key are known good (404 and 403 first)
        registry = registry_for(code)
        if registry is None:
            raise NotInTime(code)
        for name, when in (("as_of", as_of), ("valid_at", valid_at)):
            if when is not None and when.tzinfo is None:
                raise BadFilter(name, "give a time zone, e.g. 2026-01-01T00:00:00+08:00")
        found = registry.lookup(
            session, (lookup.value,), as_of=as_of, valid_at=valid_at, resource=code
        )
        if found is None:
            return None, None
        return {f: found.values.get(f) for f in lookup.fields}, found

    return _keyed(session, env, ctx, code, key, fields, then)


Fetch = Callable[[KeyLookup], tuple[Row[Any] | Mapping[str, Any] | None, Record | None]]


def _keyed(
    session: Session,
    env: SharingEnv,
    ctx: ReadContext,
    code: str,
    key: str,
    fields: str | None,
    fetch: Fetch,
) -> RecordResult:
    schema = schema_of(env, code)
    grant = grants.resolve(session, env.grants, ctx.principal, code)
    lookup = plan_by_key(schema, grant, ctx, key, fields)
    row, version = fetch(lookup)
    rows = 1 if row is not None else 0
    state = env.quotas.take(grant, rows)
    audit_read(session, env, ctx, grant, action="record", keys=[key], rows=rows)
    result = finish_by_key(lookup, row, state)
    return result if version is None else dataclasses.replace(result, version=version)


def page(
    session: Session,
    env: SharingEnv,
    ctx: ReadContext,
    code: str,
    params: Iterable[tuple[str, str]],
    *,
    fields: str | None,
    cursor: str | None,
    limit: int,
) -> PageResult:
    schema, grant = begin_read(session, env, ctx, code)
    if limit < 1 or limit > env.settings.max_page_rows:
        raise BadFilter("limit", f"must be 1-{env.settings.max_page_rows}")
    out = query.output_fields(schema, grant, fields)
    filters = query.parse_filters(schema, grant, params)
    digest = query.filters_digest(filters)
    after = query.read_page_cursor(env.cursor_key, schema, digest, cursor) if cursor else None
    rows = repo.page(session, schema, out, filters, after, limit + 1)
    more, rows = len(rows) > limit, rows[:limit]
    state = env.quotas.take(grant, len(rows))
    plan = query.mask_plan(schema, grant, out)
    items = [apply_mask(r, plan) for r in rows]
    next_cursor = None
    if more:
        last = rows[-1]._mapping
        next_cursor = query.page_cursor(
            env.cursor_key, code, digest, [last[k] for k in schema.primary_key]
        )
    keys = [key_text(schema, r) for r in rows]
    audit_read(session, env, ctx, grant, action="records", keys=keys, rows=len(rows))
    return PageResult(
        code, grant.id, items, next_cursor, query.masked_fields(schema, grant, out), state
    )


def events(
    session: Session,
    env: SharingEnv,
    ctx: ReadContext,
    code: str,
    *,
    after: str | None,
    limit: int,
) -> PageResult:
    """Changes in order (insert, update, delete with the row's version): how deletions travel."""
    schema, grant = begin_read(session, env, ctx, code)
    if limit < 1 or limit > env.settings.max_page_rows:
        raise BadFilter("limit", f"must be 1-{env.settings.max_page_rows}")
    after_seq = query.read_seq_cursor(env.cursor_key, code, after)
    rows = repo.events(session, schema, grant.fields, after_seq, limit)
    state = env.quotas.take(grant, len(rows))
    plan = query.mask_plan(schema, grant, grant.fields)
    items = []
    for r in rows:
        m = r._mapping
        deleted = m["_action"] == "delete"
        items.append(
            {
                "seq": m["_seq"],
                "action": m["_action"],
                "version": m["_version"],
                "recorded_at": jsonable(m["_recorded_at"]),
                "valid_from": jsonable(m["_valid_from"]),
                "key": {k: _key_part(m, k, grant, plan) for k in schema.primary_key},
                "record": None if deleted else apply_mask(r, plan),
            }
        )
    last_seq = rows[-1]._mapping["_seq"] if rows else after_seq
    next_cursor = query.seq_cursor(env.cursor_key, code, last_seq)
    keys = [key_text(schema, r) for r in rows]
    audit_read(session, env, ctx, grant, action="events", keys=keys, rows=len(rows))
    return PageResult(
        code, grant.id, items, next_cursor, query.masked_fields(schema, grant, grant.fields), state
    )


def _key_part(m: Any, name: str, grant: GrantView, plan: MaskPlan) -> Any:
    """A key in an event is shown as its field would be: masked unless granted in plain."""
    sensitivity = dict(plan).get(name)
    value = jsonable(m[name])
    if name not in grant.fields:
        return None
    return mask(str(value), sensitivity) if sensitivity is not None and value is not None else value
