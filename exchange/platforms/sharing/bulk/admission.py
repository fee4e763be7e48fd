"""The check the exchange platform makes before queuing a batch for a department's inbox
(`ports.DeliveryAdmission`, wired at start).

A subscription made through a sharing grant delivers only while the grant holds; each
delivery is a bulk read and is audited before the batch becomes fetchable, and carries the
batch cut to the grant's fields and masking unless the grant covers it all in plain
(bulk_shape). Subscriptions made by an operator at the exchange level (`hub subscription add`)
are not affected.
"""

from __future__ import annotations

import uuid

from sqlalchemy.orm import Session

from exchange.core import ports
from exchange.core.db import utcnow
from exchange.core.ports import AS_PUBLISHED, Admitted, DeliveryRequest
from exchange.core.runtime import Runtime
from exchange.directory import repository as directory
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.audit.log import AuditLog, ReadContext
from exchange.platforms.sharing.bulk import shape as bulk_shape
from exchange.platforms.sharing.env import shared_env
from exchange.platforms.sharing.grants import repository as repo
from exchange.platforms.sharing.grants import service as grants


def admit_delivery(session: Session, rt: Runtime, batch: DeliveryRequest) -> Admitted | None:
    """How `batch` goes to its subscription's department, or None when it does not go at all."""
    link = repo.bulk_of_subscription(session, batch.subscription_id)
    if link is None:
        return AS_PUBLISHED
    bulk, grant = link
    if grant.revoked_at is not None or grant.expires_at <= utcnow():
        # the grant has ended: so has its subscription
        ports.department_feeds().stop(session, [batch.subscription_id])
        return None
    consumer = directory.get_department_by_id(session, grant.consumer_id)
    assert consumer is not None
    who = Principal(
        kind="subscription",
        id=bulk.id,
        name=str(bulk.id),
        role=Role.department,
        node_code=consumer.node_code,
        department_id=consumer.id,
        department_code=consumer.code,
    )
    AuditLog(rt.settings.secret_key.get_secret_value()).record(
        session,
        ReadContext(who, "bulk", grant.purpose, None, None),
        action="delivery",
        resource=batch.resource_code,
        grant_id=grant.id,
        keys=[str(batch.batch_id)],
        rows=batch.rows,
    )
    view = grants.view_of(grant)
    plan = bulk_shape.plan_for(rt.schemas[batch.resource_code], view)
    if bulk_shape.is_as_published(rt.schemas[batch.resource_code], plan):
        return AS_PUBLISHED
    return Admitted(bulk_shape.shape(rt.store, batch.payload, plan, view))


def release_delivery(
    session: Session, rt: Runtime, department_id: uuid.UUID, resource: str, rows: int
) -> None:
    """A bulk download counts against the grant's quotas like an API read of as many rows
    (calls per minute, rows per day): over either, 429 QuotaExceeded naming it, and the
    delivery stays in the inbox for a later try. Deliveries of exchange-level subscriptions
    (no grant) are not counted."""
    now = utcnow()
    for _, grant in repo.bulk_subscriptions(session, department_id):
        if grant.resource_code == resource and grant.revoked_at is None and grant.expires_at > now:
            shared_env(rt).quotas.take(grants.view_of(grant), rows)
            return
