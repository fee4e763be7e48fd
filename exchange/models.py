"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from exchange.core.ratelimit import RateCounter
from exchange.directory.models import Department, Node, Resource
from exchange.pipelines.models import CheckFinding, CheckRun, MetricSample, QualityRun
from exchange.platforms.exchange.models import Batch, Connector, Delivery, Receipt, Subscription

__all__ = [
    "Batch",
    "CheckFinding",
    "CheckRun",
    "Connector",
    "Delivery",
    "Department",
    "MetricSample",
    "Node",
    "QualityRun",
    "RateCounter",
    "Receipt",
    "Resource",
    "Subscription",
]
