"""Grants: what a consumer department may read, until when; renewal, revocation, discovery.

A grant's fields, plain fields and quotas never change after approval, so the read path keeps
them in a per-process cache. Whether it still holds (revoked? expired? renewed?) is decided by
the database on every read, in the statement that writes the audit entry, so revocation takes
effect on the very next call in every worker.
"""

from __future__ import annotations

import datetime as dt
import threading
import uuid
from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core import ports
from exchange.core.db import utcnow
from exchange.core.masking import hidden_fields
from exchange.core.resource_schema import ResourceSchema
from exchange.core.settings import SharingSettings
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.access.schemas import Allowed, AllowedCall, AllowedResource
from exchange.platforms.sharing.errors import (
    ClientRevoked,
    DurationTooLong,
    GrantClosed,
    GrantExpired,
    GrantNotFound,
    GrantRevoked,
    NoGrant,
    NotProvider,
)
from exchange.platforms.sharing.grants import repository as repo
from exchange.platforms.sharing.models import Grant

CALL_HEADERS = ("X-Purpose", "X-Case-Number")


@dataclass(frozen=True, slots=True)
class GrantView:
    """The unchanging part of a grant, as the read path needs it."""

    id: uuid.UUID
    resource: str
    consumer_id: uuid.UUID
    fields: tuple[str, ...]
    plain_fields: frozenset[str]
    conditional: bool
    rate_per_minute: int
    rows_per_day: int


def view_of(g: Grant) -> GrantView:
    return GrantView(
        id=g.id,
        resource=g.resource_code,
        consumer_id=g.consumer_id,
        fields=tuple(g.fields),
        plain_fields=frozenset(g.plain_fields),
        conditional=g.conditional,
        rate_per_minute=g.rate_per_minute,
        rows_per_day=g.rows_per_day,
    )


class GrantCache:
    def __init__(self) -> None:
        self._by_key: dict[tuple[uuid.UUID, str], GrantView] = {}
        self._lock = threading.Lock()

    def get(self, consumer_id: uuid.UUID, resource: str) -> GrantView | None:
        return self._by_key.get((consumer_id, resource))

    def put(self, view: GrantView) -> None:
        with self._lock:
            self._by_key[(view.consumer_id, view.resource)] = view

    def evict(self, consumer_id: uuid.UUID, resource: str) -> None:
        with self._lock:
            self._by_key.pop((consumer_id, resource), None)


def current(session: Session, who: Principal, resource: str) -> Grant:
    """The caller's grant for `resource` now, or the reason there is none (deny by default)."""
    consumer = who.require_department()
    found = repo.active_grant(session, consumer, resource, utcnow())
    if found is not None:
        return found
    latest = repo.latest_grant(session, consumer, resource)
    if latest is not None and latest.revoked_at is not None:
        raise GrantRevoked(latest.id, latest.revoked_at)
    if latest is not None:
        raise GrantExpired(latest.id, latest.expires_at)
    raise NoGrant(who.department_path or "?", resource)


def resolve(session: Session, cache: GrantCache, who: Principal, resource: str) -> GrantView:
    """`current`, through the per-process cache of grants' unchanging parts."""
    cached = cache.get(who.require_department(), resource)
    if cached is not None:
        return cached
    view = view_of(current(session, who, resource))
    cache.put(view)
    return view


def why_refused(session: Session, cache: GrantCache, view: GrantView) -> Exception:
    """After the database refused a read: the error to report (and forget the cached grant)."""
    cache.evict(view.consumer_id, view.resource)

    state = repo.grant_state(session, view.id)
    if state is not None and state.revoked_at is not None:
        return GrantRevoked(view.id, state.revoked_at)
    if state is not None and state.expires_at <= utcnow():
        return GrantExpired(view.id, state.expires_at)
    return ClientRevoked()


def state_of(g: Grant, now: dt.datetime) -> str:
    if g.revoked_at is not None:
        return "revoked"
    return "active" if g.expires_at > now else "expired"


# -- management --------------------------------------------------------------------------------
def visible(session: Session, who: Principal, grant_id: uuid.UUID) -> Grant:
    g = repo.get_grant(session, grant_id)
    if g is None:
        raise GrantNotFound(grant_id)
    if who.role is Role.department and who.department_id not in (g.consumer_id, g.provider_id):
        raise GrantNotFound(grant_id)  # another department's grant: it does not exist
    return g


def renew(
    session: Session, settings: SharingSettings, who: Principal, grant_id: uuid.UUID, days: int
) -> Grant:
    """Extend a grant. The provider renews; a consumer may renew an unconditional grant."""
    g = visible(session, who, grant_id)
    own_unconditional = (
        who.department_id == g.consumer_id and not g.conditional and not g.plain_fields
    )
    if who.department_id != g.provider_id and not own_unconditional:
        raise NotProvider("renew this grant")
    if g.revoked_at is not None:
        raise GrantClosed(grant_id, "revoked")
    if days > settings.max_grant_days:
        raise DurationTooLong(days, settings.max_grant_days, "the longest grant")
    now = utcnow()
    g.expires_at = max(now, g.expires_at) + dt.timedelta(days=days)
    g.renewed_at = now
    session.flush()
    return g


def revoke(
    session: Session, cache: GrantCache, who: Principal, grant_id: uuid.UUID, reason: str
) -> Grant:
    """At once: the next read fails in every worker, bulk deliveries stop and are withdrawn."""
    g = visible(session, who, grant_id)
    if who.role is not Role.admin and who.department_id != g.provider_id:
        raise NotProvider("revoke this grant")
    if g.revoked_at is not None:
        raise GrantClosed(grant_id, "already revoked")
    g.revoked_at = utcnow()
    g.revoked_by = who.actor
    g.revoke_reason = reason.strip()
    feeds = ports.department_feeds()
    feeds.stop(session, repo.feeds_of_grant(session, g.id))
    feeds.withdraw_pending(session, g.consumer_id, g.resource_code)
    session.flush()
    cache.evict(g.consumer_id, g.resource_code)
    return g


def allowed(session: Session, schemas: dict[str, ResourceSchema], who: Principal) -> Allowed:
    """X-Road's allowedMethods: exactly the calls the caller's department may make now."""
    consumer = who.require_department()
    now = utcnow()
    items = []
    for g in repo.list_grants(
        session, department_id=consumer, side="consumer", active_at=now, limit=1000, offset=0
    ):
        schema = schemas.get(g.resource_code)
        if schema is None:
            continue
        base = f"/sharing/v1/resources/{g.resource_code}"
        calls = [
            AllowedCall(method="GET", path=f"{base}/records"),
            AllowedCall(method="GET", path=f"{base}/events"),
            AllowedCall(method="GET", path=f"{base}/snapshots/full"),
            AllowedCall(method="GET", path=f"{base}/snapshots/delta"),
        ]
        if len(schema.primary_key) == 1 and schema.primary_key[0] in g.fields:
            calls.insert(1, AllowedCall(method="GET", path=f"{base}/records/{{key}}"))
        masked = hidden_fields(schema, g.fields, g.plain_fields)
        items.append(
            AllowedResource(
                resource=g.resource_code,
                grant_id=g.id,
                fields=list(g.fields),
                plain_fields=[f for f in g.plain_fields if f not in masked],
                masked_fields=masked,
                filterable_fields=[
                    f.name for f in schema.fields if f.indexed and f.name in g.fields
                ],
                expires_at=g.expires_at,
                required_headers=list(CALL_HEADERS) if g.conditional else [],
                rate_per_minute=g.rate_per_minute,
                rows_per_day=g.rows_per_day,
                calls=calls,
            )
        )
    return Allowed(department=who.department_path or "", resources=items)


def listed(
    session: Session,
    who: Principal,
    *,
    side: str | None,
    active_only: bool,
    limit: int,
    offset: int,
) -> list[Grant]:
    return list(
        repo.list_grants(
            session,
            department_id=who.department_id if who.role is Role.department else None,
            side=side if who.role is Role.department else None,
            active_at=utcnow() if active_only else None,
            limit=limit,
            offset=offset,
        )
    )
