"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from exchange.core.ratelimit import RateCounter
from exchange.directory.models import Department, Node, Resource
from exchange.pipelines.models import CheckFinding, CheckRun, MetricSample, QualityRun
from exchange.platforms.exchange.models import Batch, Connector, Delivery, Receipt, Subscription
from exchange.platforms.open_data.models import (
    ApiKey,
    FacetValue,
    Feedback,
    PortalDataset,
    SearchTerm,
)

__all__ = [
    "ApiKey",
    "Batch",
    "CheckFinding",
    "CheckRun",
    "Connector",
    "Delivery",
    "Department",
    "FacetValue",
    "Feedback",
    "MetricSample",
    "Node",
    "PortalDataset",
    "QualityRun",
    "RateCounter",
    "Receipt",
    "Resource",
    "SearchTerm",
    "Subscription",
]
