"""Bulk exchange: a granted resource's new batches delivered to the consumer's connector inbox.

Batches travel as their provider published them (the exchange platform does not rewrite
them), so a subscription needs a grant of every field, personal ones in plain values.
Field-restricted or masked grants take the Parquet snapshots and deltas instead.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from exchange.core.masking import sensitivity_of
from exchange.core.runtime import Runtime
from exchange.platforms.exchange import routing
from exchange.platforms.sharing import grants
from exchange.platforms.sharing import grants_repository as repo
from exchange.platforms.sharing.access_schemas import SubscriptionRead
from exchange.platforms.sharing.errors import (
    BulkNeedsFullGrant,
    ResourceNotFound,
    SubscriptionNotFound,
)
from exchange.platforms.sharing.models import BulkSubscription
from exchange.platforms.sharing.principal import Principal


def subscribe(session: Session, rt: Runtime, who: Principal, resource: str) -> SubscriptionRead:
    schema = rt.schemas.get(resource)
    if schema is None:
        raise ResourceNotFound(resource)
    grant = grants.current(session, who, resource)
    missing = [
        f.name
        for f in schema.fields
        if f.name not in grant.fields
        or (sensitivity_of(f).is_personal and f.name not in grant.plain_fields)
    ]
    if missing:
        raise BulkNeedsFullGrant(resource, missing)
    for bulk, sub, g in repo.bulk_subscriptions(session, grant.consumer_id):
        if g.id == grant.id and sub.active:
            return _read(bulk, sub.active, g.resource_code)  # already subscribed
    sub = routing.subscribe(session, rt, resource, department=who.department_code)
    bulk = BulkSubscription(grant_id=grant.id, subscription_id=sub.id, created_by=who.actor)
    repo.add(session, bulk)
    return _read(bulk, True, resource)


def listed(session: Session, who: Principal) -> list[SubscriptionRead]:
    return [
        _read(b, s.active, g.resource_code)
        for b, s, g in repo.bulk_subscriptions(session, who.require_department())
    ]


def unsubscribe(session: Session, who: Principal, bulk_id: uuid.UUID) -> SubscriptionRead:
    for b, s, g in repo.bulk_subscriptions(session, who.require_department()):
        if b.id == bulk_id:
            s.active = False
            session.flush()
            return _read(b, False, g.resource_code)
    raise SubscriptionNotFound(bulk_id)


def _read(b: BulkSubscription, active: bool, resource: str) -> SubscriptionRead:
    return SubscriptionRead(
        id=b.id, resource=resource, grant_id=b.grant_id, active=active, created_at=b.created_at
    )
