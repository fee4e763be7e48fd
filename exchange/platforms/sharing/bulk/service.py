"""Bulk exchange: a granted resource's new batches delivered to the consumer's connector inbox.

A grant of every field in plain values receives each batch as its provider published it;
any other grant receives a copy cut to its fields and masking (bulk_shape). Deliveries are
applied by key, so the grant must cover the key fields in plain; one that does not takes the
masked Parquet snapshots and deltas instead.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from exchange.core import ports
from exchange.core.runtime import Runtime
from exchange.platforms.sharing.access.principal import Principal
from exchange.platforms.sharing.bulk import shape as bulk_shape
from exchange.platforms.sharing.bulk.schemas import SubscriptionRead
from exchange.platforms.sharing.errors import (
    BulkNeedsKeys,
    ResourceNotFound,
    SubscriptionNotFound,
)
from exchange.platforms.sharing.grants import repository as repo
from exchange.platforms.sharing.grants import service as grants
from exchange.platforms.sharing.models import BulkSubscription


def subscribe(session: Session, rt: Runtime, who: Principal, resource: str) -> SubscriptionRead:
    schema = rt.schemas.get(resource)
    if schema is None:
        raise ResourceNotFound(resource)
    grant = grants.current(session, who, resource)
    missing = bulk_shape.keys_not_plain(schema, bulk_shape.plan_for(schema, grants.view_of(grant)))
    if missing:
        raise BulkNeedsKeys(resource, missing)
    feeds = ports.department_feeds()
    mine = [b for b, g in repo.bulk_subscriptions(session, grant.consumer_id) if g.id == grant.id]
    active = feeds.active(session, [b.subscription_id for b in mine])
    for bulk in mine:
        if bulk.subscription_id in active:
            return _read(bulk, True, resource)  # already subscribed
    feed = feeds.open(session, rt, resource, who.department_code)
    bulk = BulkSubscription(grant_id=grant.id, subscription_id=feed, created_by=who.actor)
    repo.add(session, bulk)
    return _read(bulk, True, resource)


def listed(session: Session, who: Principal) -> list[SubscriptionRead]:
    rows = repo.bulk_subscriptions(session, who.require_department())
    active = ports.department_feeds().active(session, [b.subscription_id for b, _ in rows])
    return [_read(b, b.subscription_id in active, g.resource_code) for b, g in rows]


def unsubscribe(session: Session, who: Principal, bulk_id: uuid.UUID) -> SubscriptionRead:
    for b, g in repo.bulk_subscriptions(session, who.require_department()):
        if b.id == bulk_id:
            ports.department_feeds().stop(session, [b.subscription_id])
            session.flush()
            return _read(b, False, g.resource_code)
    raise SubscriptionNotFound(bulk_id)


def _read(b: BulkSubscription, active: bool, resource: str) -> SubscriptionRead:
    return SubscriptionRead(
        id=b.id, resource=resource, grant_id=b.grant_id, active=active, created_at=b.created_at
    )
