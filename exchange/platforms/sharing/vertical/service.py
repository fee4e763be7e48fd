"""The rules of a call across levels, at each hop: where it may come from, that it is new, who
the caller is at the provider, whether the resource is shared with the caller's level; what
each hop writes down (its audit entry, its four timestamps)."""

from __future__ import annotations

import datetime as dt
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core import divisions, signing
from exchange.core.db import utcnow
from exchange.core.resource_schema import ResourceSchema
from exchange.directory import repository as directory
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.audit.log import ReadContext
from exchange.platforms.sharing.env import SharingEnv
from exchange.platforms.sharing.errors import NoGrant
from exchange.platforms.sharing.records import service as records
from exchange.platforms.sharing.records.service import PageResult, RecordResult
from exchange.platforms.sharing.vertical import repository as repo
from exchange.platforms.sharing.vertical import routing
from exchange.platforms.sharing.vertical.errors import (
    BadRelayBody,
    NotSharedWithLevel,
    ReplayedRequest,
    WrongDirection,
)
from exchange.platforms.sharing.vertical.models import RelayHop
from exchange.platforms.sharing.vertical.schemas import HopRead, RelayedRead

# Nonces are kept twice the signature's clock window: a copy sent later is refused as stale.
NONCE_KEEP = dt.timedelta(seconds=2 * signing.MAX_CLOCK_SKEW_S)
_pruned_at: dt.datetime | None = None


def share_levels(schema: ResourceSchema, own: str) -> list[str]:
    """The levels a resource is shared with; by default only its own node's level."""
    declared = schema.catalog.share_levels
    return list(declared) if declared else [divisions.level_of(own)]


def admit(session: Session, *, me: str, signer: str, body: RelayedRead) -> None:
    """A relayed request arrives from the neighbour on the path back to its origin, names a
    path that runs through here, and was never received before."""
    if body.origin == me:
        raise BadRelayBody(f"the call names this node ({me}) as its origin")
    expected = routing.next_hop(me, body.origin)
    if signer != expected:
        raise WrongDirection(signer, body.origin, expected)
    if me not in routing.path(body.origin, body.provider):
        raise BadRelayBody(f"node {me} is not on the path from {body.origin} to {body.provider}")
    now = utcnow()
    global _pruned_at
    if _pruned_at is None or now - _pruned_at > NONCE_KEEP / 10:  # not on every call
        repo.prune_nonces(session, now - NONCE_KEEP)
        _pruned_at = now
    if not repo.add_nonce(session, body.nonce, signer, now):
        raise ReplayedRequest(signer)


def relayed_context(session: Session, env: SharingEnv, body: RelayedRead, via: str) -> ReadContext:
    """The caller as the provider sees it: the origin's department (a directory entry of this
    node once it applied here), named with the node that vouched for it."""
    dept = directory.get_department(session, body.origin, body.caller.department)
    name = f"{body.origin} {body.caller.actor} via {via}"[:120]
    principal = Principal(
        kind="node",
        id=dept.id if dept else uuid.UUID(int=0),
        name=name,
        role=Role.department,
        node_code=body.origin,
        department_id=dept.id if dept else None,
        department_code=body.caller.department,
    )
    return ReadContext(principal, "relay", body.purpose, body.case_number, body.request_id, None)


def provide(
    session: Session, env: SharingEnv, ctx: ReadContext, body: RelayedRead
) -> RecordResult | PageResult:
    """The provider's read for a caller of another level: the level rule first, then every
    rule a local read follows (grant, call headers, fields, masking, quotas, audit)."""
    schema = records.schema_of(env, body.resource)
    levels = share_levels(schema, env.node_code)
    if divisions.level_of(body.origin) not in levels:
        raise NotSharedWithLevel(body.resource, env.node_code, levels, body.origin)
    if ctx.principal.department_id is None:
        raise NoGrant(ctx.principal.department_path or body.origin, body.resource)
    if body.action == "record":
        if body.key is None:
            raise BadRelayBody("a record lookup names its key")
        return records.by_key(session, env, ctx, body.resource, body.key, body.fields)
    return records.page(
        session, env, ctx, body.resource, body.params,
        fields=body.fields, cursor=body.cursor, limit=body.limit,
    )  # fmt: skip


@dataclass(frozen=True, slots=True)
class Hop:
    """One hop's part, as it is written down."""

    request_id: str
    role: str
    upstream: str
    downstream: str | None
    provider_node: str
    resource: str
    action: str
    request_in: dt.datetime
    request_out: dt.datetime
    response_in: dt.datetime
    status: int
    outcome: str


def write_down(
    session: Session,
    env: SharingEnv,
    ctx: ReadContext | None,
    hop: Hop,
    *,
    keys: Sequence[str],
    rows: int,
) -> None:
    """The hop's audit entry (unless the provider's read wrote it already: `ctx` None), then
    its four timestamps; both before the answer goes back."""
    if ctx is None:
        repo.relax_commit(session)  # only the hop's times: no need to wait for the disk
    else:
        env.audit.record(
            session, ctx, action=hop.action, resource=hop.resource, grant_id=None,
            keys=keys, rows=rows, outcome=hop.outcome,
        )  # fmt: skip
    repo.add_hop(
        session,
        RelayHop(
            request_id=hop.request_id,
            role=hop.role,
            upstream=hop.upstream[:128],
            downstream=hop.downstream,
            provider_node=hop.provider_node,
            resource=hop.resource,
            action=hop.action,
            request_in=hop.request_in,
            request_out=hop.request_out,
            response_in=hop.response_in,
            response_out=utcnow(),
            status=hop.status,
            outcome=hop.outcome,
        ),
    )


def local_hops(
    session: Session, me: str, request_id: str, upstream: str | None = None
) -> list[HopRead]:
    found = repo.hops(session, request_id, upstream)
    audit = repo.audit_ids(session, request_id) if found else []
    return [_hop_read(h, me, audit) for h in found]


def _hop_read(h: RelayHop, me: str, audit: list[int]) -> HopRead:
    total = (h.response_out - h.request_in).total_seconds()
    waited = (h.response_in - h.request_out).total_seconds()
    return HopRead(
        node=me,
        role=h.role,
        upstream=h.upstream,
        downstream=h.downstream,
        provider_node=h.provider_node,
        resource=h.resource,
        action=h.action,
        request_in=h.request_in,
        request_out=h.request_out,
        response_in=h.response_in,
        response_out=h.response_out,
        status=h.status,
        outcome=h.outcome,
        audit_entry_ids=audit,
        added_ms=round((total - waited) * 1000, 3),
    )
