"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from exchange.core.ratelimit import RateCounter
from exchange.directory.models import Department, Node, Resource
from exchange.platforms.exchange.models import Batch, Connector, Delivery, Receipt, Subscription
from exchange.platforms.sharing.models import (
    ApiClient,
    Application,
    AuditEntry,
    AuditSeal,
    BulkSubscription,
    ConsoleUser,
    Grant,
)

__all__ = [
    "ApiClient",
    "Application",
    "AuditEntry",
    "AuditSeal",
    "Batch",
    "BulkSubscription",
    "Connector",
    "ConsoleUser",
    "Delivery",
    "Department",
    "Grant",
    "Node",
    "RateCounter",
    "Receipt",
    "Resource",
    "Subscription",
]
