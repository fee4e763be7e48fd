"""The check the exchange platform makes before queuing a batch for a department's inbox.

A subscription made through a sharing grant delivers only while the grant holds; each
delivery is a bulk read and is audited before the batch becomes fetchable, and carries the
batch cut to the grant's fields and masking unless the grant covers it all in plain
(bulk_shape). Subscriptions made by an operator at the exchange level (`hub subscription add`)
are not affected.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session

from exchange.core.db import utcnow
from exchange.core.runtime import Runtime
from exchange.core.store import StoredObject
from exchange.directory import repository as directory
from exchange.platforms.exchange.models import Batch, Subscription
from exchange.platforms.sharing.access.principal import Principal, Role
from exchange.platforms.sharing.audit.log import AuditLog, ReadContext
from exchange.platforms.sharing.bulk import shape as bulk_shape
from exchange.platforms.sharing.grants import repository as repo
from exchange.platforms.sharing.grants import service as grants


@dataclass(frozen=True)
class Admitted:
    payload: StoredObject | None = None  # the delivery's own payload; None: the batch's


AS_PUBLISHED = Admitted()


def admit_delivery(
    session: Session, rt: Runtime, batch: Batch, sub: Subscription
) -> Admitted | None:
    """How `batch` goes to `sub`'s department, or None when it does not go at all."""
    link = repo.bulk_of_subscription(session, sub.id)
    if link is None:
        return AS_PUBLISHED
    bulk, grant = link
    if grant.revoked_at is not None or grant.expires_at <= utcnow():
        sub.active = False  # the grant has ended: so has its subscription
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
        keys=[str(batch.id)],
        rows=batch.rows or 0,
    )
    view = grants.view_of(grant)
    plan = bulk_shape.plan_for(rt.schemas[batch.resource_code], view)
    if bulk_shape.is_as_published(rt.schemas[batch.resource_code], plan):
        return AS_PUBLISHED
    return Admitted(bulk_shape.shape(rt.store, batch, plan, view))
