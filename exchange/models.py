"""Every ORM model, imported in one place so Alembic and tests see the whole schema."""

from exchange.catalogue.models import (
    CatalogueCounter,
    CatalogueEvent,
    CatalogueGeneration,
    CatalogueResource,
    CatalogueVersion,
)
from exchange.core.ratelimit import RateCounter
from exchange.directory.models import Department, Node, PrincipalKey, Resource
from exchange.pipelines.alerts.models import AssuranceAlert
from exchange.pipelines.models import CheckFinding, CheckRun, MetricSample, QualityRun
from exchange.platforms.exchange.models import Batch, Connector, Delivery, Receipt, Subscription
from exchange.platforms.open_data.models import (
    ApiKey,
    FacetValue,
    Feedback,
    PortalDataset,
    SearchTerm,
)
from exchange.platforms.sharing.audit.models import AuditAnchor, ChildSealHead
from exchange.platforms.sharing.disputes.models import Dispute
from exchange.platforms.sharing.models import (
    ApiClient,
    Application,
    AuditEntry,
    AuditSeal,
    BulkSubscription,
    ConsoleUser,
    Grant,
)
from exchange.platforms.sharing.vertical.models import (
    FederatedEntry,
    RelayHop,
    RelayNonce,
    RemoteGrant,
)

__all__ = [
    "ApiClient",
    "ApiKey",
    "Application",
    "AssuranceAlert",
    "AuditAnchor",
    "AuditEntry",
    "AuditSeal",
    "Batch",
    "BulkSubscription",
    "CatalogueCounter",
    "CatalogueEvent",
    "CatalogueGeneration",
    "CatalogueResource",
    "CatalogueVersion",
    "CheckFinding",
    "CheckRun",
    "ChildSealHead",
    "Connector",
    "ConsoleUser",
    "Delivery",
    "Department",
    "Dispute",
    "FacetValue",
    "FederatedEntry",
    "Feedback",
    "Grant",
    "MetricSample",
    "Node",
    "PortalDataset",
    "PrincipalKey",
    "QualityRun",
    "RateCounter",
    "Receipt",
    "RelayHop",
    "RelayNonce",
    "RemoteGrant",
    "Resource",
    "SearchTerm",
    "Subscription",
]
