"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from exchange.core.ratelimit import RateCounter
from exchange.directory.models import Department, Node, Resource
from exchange.platforms.exchange.models import Batch, Connector, Delivery, Receipt, Subscription

__all__ = [
    "Batch",
    "Connector",
    "Delivery",
    "Department",
    "Node",
    "RateCounter",
    "Receipt",
    "Resource",
    "Subscription",
]
